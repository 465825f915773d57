import { CounterRng, InvalidValueError, Matrix, assertFinite } from '@boltzmann/tensor';
import { map, type MonoTypeOperatorFunction } from 'rxjs';

/** Options of `binarize`. */
export interface BinarizeOptions {
  /** Values above it become 1, the others 0; default 0.5. Ignored with `sample`. */
  threshold?: number;
  /**
   * Draw each value as a Bernoulli sample with the value as its probability (values must lie in
   * [0, 1]) instead of thresholding, seeded: matrix number i of the stream uses RNG stream i.
   */
  sample?: { seed: number };
}

/**
 * Turns each matrix's values into 0/1 (Bernoulli visible units want binary data): by a
 * threshold, or by seeded sampling with the values as probabilities. NaN/Inf, and values outside
 * [0, 1] when sampling, are errors naming the row and column.
 */
export function binarize(options: BinarizeOptions = {}): MonoTypeOperatorFunction<Matrix> {
  const threshold = options.threshold ?? 0.5;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) throw new InvalidValueError(`binarize: threshold must be a finite number, got ${String(threshold)}`);
  const sample = options.sample;
  if (sample !== undefined) new CounterRng(sample.seed);
  return (source) =>
    source.pipe(
      map((m, index) => {
        if (!(m instanceof Matrix)) throw new InvalidValueError('binarize: the stream must carry Matrix values');
        assertFinite('binarize input', m);
        const out = new Matrix(m.rows, m.cols, new (m.data.constructor as Float32ArrayConstructor)(m.size));
        if (sample === undefined) {
          for (let i = 0; i < m.size; i++) out.data[i] = m.data[i]! > threshold ? 1 : 0;
        } else {
          const u = new CounterRng(sample.seed, index >>> 0).uniforms(new Float64Array(m.size));
          for (let i = 0; i < m.size; i++) {
            const p = m.data[i]!;
            if (!(p >= 0 && p <= 1)) throw new InvalidValueError(`binarize: sampling needs probabilities in [0, 1], got ${p} at row ${Math.floor(i / m.cols)}, col ${i % m.cols}`);
            out.data[i] = u[i]! < p ? 1 : 0;
          }
        }
        return out;
      }),
    );
}
