import { type CounterRng, InvalidValueError, type Matrix, assertDimension } from '@boltzmann/tensor';

/** Options of {@link shuffledBatches}. */
export interface ShuffledBatchesOptions {
  /** Leave out the last batch when it is smaller than batchSize. Default false (it is kept). */
  dropLast?: boolean;
}

/**
 * One epoch of mini-batches: draws one random permutation of 0..n-1 (one rng op, at call time)
 * and yields it in consecutive slices of `batchSize` indices. Every index appears exactly once,
 * except that with `dropLast` the final n % batchSize are left out. Gather the rows with
 * `matrix.gatherRows(batch)`.
 */
export function shuffledBatches(n: number, batchSize: number, rng: CounterRng, options: ShuffledBatchesOptions = {}): Generator<Uint32Array> {
  assertDimension('shuffledBatches n', n);
  assertDimension('shuffledBatches batchSize', batchSize);
  const dropLast = options.dropLast ?? false;
  if (dropLast && batchSize > n) {
    throw new InvalidValueError(`shuffledBatches: batchSize ${batchSize} exceeds n = ${n}, so dropLast would leave no batch`);
  }
  const order = rng.permutation(n);
  const end = dropLast ? n - (n % batchSize) : n;
  return slices(order, batchSize, end);
}

function* slices(order: Uint32Array, batchSize: number, end: number): Generator<Uint32Array> {
  // Views, not copies: the permutation belongs to this epoch alone and is never rewritten.
  for (let start = 0; start < end; start += batchSize) yield order.subarray(start, Math.min(start + batchSize, end));
}

/** A matrix split into a training part and a validation part, with the original row numbers. */
export interface TrainValidationSplit {
  train: Matrix;
  validation: Matrix;
  /** Original rows of `train`, ascending. */
  trainIndices: Uint32Array;
  /** Original rows of `validation`, ascending. */
  validationIndices: Uint32Array;
}

/**
 * Holds out round(fraction * rows) randomly chosen rows for validation (one rng op). Both parts
 * keep the original row order; use the indices to split labels the same way. Each part must
 * get at least one row.
 */
export function trainValidationSplit(matrix: Matrix, fraction: number, rng: CounterRng): TrainValidationSplit {
  if (!(fraction > 0 && fraction < 1)) throw new InvalidValueError(`trainValidationSplit: fraction must lie in (0, 1), got ${fraction}`);
  const n = matrix.rows;
  const held = Math.round(fraction * n);
  if (held < 1 || held > n - 1) {
    throw new InvalidValueError(`trainValidationSplit: a fraction of ${fraction} of ${n} rows gives ${held} validation rows; each part needs at least one`);
  }
  const order = rng.permutation(n);
  const validationIndices = order.slice(0, held).sort();
  const trainIndices = order.slice(held).sort();
  return {
    train: matrix.gatherRows(trainIndices),
    validation: matrix.gatherRows(validationIndices),
    trainIndices,
    validationIndices,
  };
}
