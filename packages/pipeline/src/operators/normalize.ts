import { InvalidValueError, Matrix, ShapeError } from '@boltzmann/tensor';
import { map, type MonoTypeOperatorFunction } from 'rxjs';

/**
 * How to normalize: `range` maps [min, max] linearly onto [0, 1] (e.g. bytes { min: 0, max: 255 }),
 * and a value outside the range is an error, never clamped; `standardize` computes
 * (x - mean) / std, with one number for all columns or one per column.
 */
export type NormalizeOptions =
  | { range: { min: number; max: number } }
  | { standardize: { mean: number | ArrayLike<number>; std: number | ArrayLike<number> } };

/**
 * Normalizes every matrix of the stream with fixed statistics (so every batch is treated alike;
 * compute them on the training set, e.g. with `columnStatistics`). Errors name the row and column.
 */
export function normalize(options: NormalizeOptions): MonoTypeOperatorFunction<Matrix> {
  if (typeof options !== 'object' || options === null) throw new InvalidValueError('normalize needs { range } or { standardize }');
  if ('range' in options) {
    const { min, max } = options.range;
    if (!Number.isFinite(min) || !Number.isFinite(max) || !(max > min)) throw new InvalidValueError(`normalize: range needs finite min < max, got [${min}, ${max}]`);
    const scale = 1 / (max - min);
    return map((m) => {
      check(m);
      const out = new Matrix(m.rows, m.cols, new (m.data.constructor as Float32ArrayConstructor)(m.size));
      for (let i = 0; i < m.size; i++) {
        const v = m.data[i]!;
        if (!(v >= min && v <= max)) throw new InvalidValueError(`normalize: ${v} at row ${Math.floor(i / m.cols)}, col ${i % m.cols} is outside the range [${min}, ${max}]`);
        out.data[i] = (v - min) * scale;
      }
      return out;
    });
  }
  if ('standardize' in options) {
    const { mean, std } = options.standardize;
    return map((m) => {
      check(m);
      const mu = perColumn('mean', mean, m.cols);
      const sigma = perColumn('std', std, m.cols);
      sigma.forEach((s, c) => {
        if (!(s > 0)) throw new InvalidValueError(`normalize: std must be positive, got ${s} for column ${c}`);
      });
      const out = new Matrix(m.rows, m.cols, new (m.data.constructor as Float32ArrayConstructor)(m.size));
      for (let i = 0; i < m.size; i++) {
        const c = i % m.cols;
        const v = m.data[i]!;
        if (!Number.isFinite(v)) throw new InvalidValueError(`normalize: ${v} at row ${Math.floor(i / m.cols)}, col ${c}`);
        out.data[i] = (v - mu[c]!) / sigma[c]!;
      }
      return out;
    });
  }
  throw new InvalidValueError('normalize needs { range } or { standardize }');
}

/** Per-column mean and standard deviation (population) of a matrix, in float64. */
export function columnStatistics(m: Matrix): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(m.cols);
  const std = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) mean[c]! += m.data[r * m.cols + c]!;
  for (let c = 0; c < m.cols; c++) mean[c]! /= m.rows;
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) std[c]! += (m.data[r * m.cols + c]! - mean[c]!) ** 2;
  for (let c = 0; c < m.cols; c++) std[c] = Math.sqrt(std[c]! / m.rows);
  return { mean, std };
}

function check(m: unknown): asserts m is Matrix {
  if (!(m instanceof Matrix)) throw new InvalidValueError('normalize: the stream must carry Matrix values');
}

function perColumn(what: string, v: number | ArrayLike<number>, cols: number): number[] {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new InvalidValueError(`normalize: ${what} must be finite, got ${v}`);
    return new Array<number>(cols).fill(v);
  }
  if (v.length !== cols) throw new ShapeError(`normalize: ${what} has ${v.length} values for matrices of ${cols} columns`);
  return Array.from(v);
}
