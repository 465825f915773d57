import { InvalidValueError, Matrix } from '@boltzmann/tensor';
import type { Observable } from 'rxjs';
import { demandDriven } from '../demand-driven.js';

/** Options of `fromMatrix`. */
export interface FromMatrixOptions {
  /** Rows per emitted matrix (the last one may have fewer); default 1 (one row at a time). */
  batchSize?: number;
}

/**
 * The rows of `m`, in order, as 1 x cols matrices (or `batchSize`-row batches), produced on
 * demand. Each emitted matrix is a copy: downstream code may keep or change it.
 */
export function fromMatrix(m: Matrix, options: FromMatrixOptions = {}): Observable<Matrix> {
  if (!(m instanceof Matrix)) throw new InvalidValueError('fromMatrix needs a Matrix');
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidValueError(`fromMatrix: batchSize must be a positive integer, got ${batchSize}`);
  return demandDriven<Matrix>(function* () {
    for (let start = 0; start < m.rows; start += batchSize) yield m.sliceRows(start, Math.min(m.rows, start + batchSize));
  });
}
