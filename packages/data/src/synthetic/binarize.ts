import { type CounterRng, InvalidValueError, Matrix, assertFinite, assertRange } from '@boltzmann/tensor';

/**
 * Turns values into 0/1, in a new matrix of the same precision.
 * - `binarize(m, threshold)`: 1 where the value is strictly greater than `threshold`
 *   (as scikit-learn's Binarizer); NaN/Inf in `m` are an error.
 * - `binarize(m, 'sample', rng)`: each value is read as a probability and replaced by a
 *   Bernoulli draw (1 with that probability); values outside [0, 1] are an error. One random op.
 */
export function binarize(m: Matrix, threshold: number): Matrix;
export function binarize(m: Matrix, mode: 'sample', rng: CounterRng): Matrix;
export function binarize(m: Matrix, rule: number | 'sample', rng?: CounterRng): Matrix {
  const out = new Matrix(m.rows, m.cols, new (m.data.constructor as Float32ArrayConstructor)(m.size));
  if (rule === 'sample') {
    if (rng === undefined) throw new InvalidValueError("binarize(m, 'sample', rng) needs an rng");
    assertRange('binarize: probabilities', m, 0, 1);
    const u = rng.uniforms(new Float64Array(m.size));
    for (let i = 0; i < m.size; i++) out.data[i] = u[i]! < m.data[i]! ? 1 : 0;
    return out;
  }
  if (typeof rule !== 'number' || !Number.isFinite(rule)) {
    throw new InvalidValueError(`binarize: the rule must be a finite threshold or 'sample', got ${String(rule)}`);
  }
  assertFinite('binarize: input', m);
  for (let i = 0; i < m.size; i++) out.data[i] = m.data[i]! > rule ? 1 : 0;
  return out;
}
