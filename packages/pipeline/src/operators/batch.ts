import { InvalidValueError, Matrix, ShapeError, type FloatArray } from '@boltzmann/tensor';
import type { OperatorFunction } from 'rxjs';
import { MAX_PENDING_BYTES, demandAwareOperator } from '../demand-operator.js';

/** Options of `batch`. */
export interface BatchOptions {
  /** Drop a last batch with fewer than `size` rows; default false (it is emitted). */
  dropRemainder?: boolean;
  /**
   * Most bytes of batches held for a consumer that has not asked for them (a source that
   * ignores demand pushing ahead); more is an error, not unbounded memory. Default 64 MiB.
   */
  maxBufferedBytes?: number;
}

/**
 * Regroups a stream of matrices (single rows or batches of any size) into batches of exactly
 * `size` rows, in order; the last one may be smaller. All inputs must have the same columns;
 * batches have the precision of the first input. Respects demand: it reads rows only while its
 * consumer wants a batch.
 */
export function batch(size: number, options: BatchOptions = {}): OperatorFunction<Matrix, Matrix> {
  if (!Number.isInteger(size) || size < 1) throw new InvalidValueError(`batch: size must be a positive integer, got ${size}`);
  const maxBytes = options.maxBufferedBytes ?? MAX_PENDING_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new InvalidValueError(`batch: maxBufferedBytes must be a positive integer, got ${maxBytes}`);
  const bound = { maxBytes, option: 'batch(size, { maxBufferedBytes })' };
  return demandAwareOperator<Matrix, Matrix>('batch', () => {
    let cols = -1;
    let pending: FloatArray | undefined;
    let filled = 0;
    return {
      push(m) {
        if (!(m instanceof Matrix)) throw new InvalidValueError(`batch: the stream must carry Matrix values, got ${typeof m}`);
        if (cols < 0) cols = m.cols;
        else if (m.cols !== cols) throw new ShapeError(`batch: a matrix of ${m.cols} columns follows matrices of ${cols} columns`);
        const out: Matrix[] = [];
        let row = 0;
        while (row < m.rows) {
          pending ??= m.data instanceof Float64Array ? new Float64Array(size * cols) : new Float32Array(size * cols);
          const take = Math.min(size - filled, m.rows - row);
          pending.set(m.data.subarray(row * cols, (row + take) * cols), filled * cols);
          filled += take;
          row += take;
          if (filled === size) {
            out.push(new Matrix(size, cols, pending));
            pending = undefined;
            filled = 0;
          }
        }
        return out;
      },
      flush() {
        if (filled === 0 || options.dropRemainder || pending === undefined) return [];
        return [new Matrix(filled, cols, pending.slice(0, filled * cols))];
      },
    };
  }, bound);
}
