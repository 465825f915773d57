import { CounterRng, InvalidValueError, Matrix, mix32, uniformAt } from '@boltzmann/tensor';
import { filter, type Observable } from 'rxjs';

/** Options of `splitStream` and `splitRows`. */
export interface SplitOptions {
  /** Share of the values (rows) that go to the validation set, in (0, 1). */
  validationFraction: number;
  /** Seed of the assignment; default 0. */
  seed?: number;
}

function checkFraction(f: number): void {
  if (typeof f !== 'number' || !(f > 0 && f < 1)) throw new InvalidValueError(`validationFraction must lie in (0, 1), got ${String(f)}`);
}

/**
 * Splits a stream into training and validation streams: value number i goes to validation when
 * a seeded hash of i falls below `validationFraction`, so the assignment needs no memory, works
 * on unbounded streams and is the same on every subscription. Each output subscribes to the
 * (cold) source on its own and keeps its share.
 */
export function splitStream<T>(source: Observable<T>, options: SplitOptions): { train: Observable<T>; validation: Observable<T> } {
  checkFraction(options.validationFraction);
  const seed = options.seed ?? 0;
  new CounterRng(seed);
  const key = mix32((seed ^ 0x5bd1e995) >>> 0);
  const isValidation = (i: number) => uniformAt(key, i >>> 0) < options.validationFraction;
  return {
    train: source.pipe(filter((_, i) => !isValidation(i))),
    validation: source.pipe(filter((_, i) => isValidation(i))),
  };
}

/**
 * Splits a matrix's rows into training and validation sets: a seeded exact permutation, the
 * first round(fraction * rows) rows of it (at least one, and at least one left) for validation.
 * Both keep the original row order.
 */
export function splitRows(m: Matrix, options: SplitOptions): { train: Matrix; validation: Matrix } {
  checkFraction(options.validationFraction);
  if (!(m instanceof Matrix)) throw new InvalidValueError('splitRows needs a Matrix');
  if (m.rows < 2) throw new InvalidValueError(`splitRows needs at least 2 rows, got ${m.rows}`);
  const count = Math.min(m.rows - 1, Math.max(1, Math.round(options.validationFraction * m.rows)));
  const order = new CounterRng(options.seed ?? 0).permutation(m.rows);
  const validation = Array.from(order.subarray(0, count)).sort((a, b) => a - b);
  const train = Array.from(order.subarray(count)).sort((a, b) => a - b);
  return { train: m.gatherRows(train), validation: m.gatherRows(validation) };
}
