import { CounterRng, InvalidValueError, type Matrix } from '@boltzmann/tensor';
import type { Observable } from 'rxjs';
import { demandDriven } from '../demand-driven.js';

/** Options of `generatorStream`. */
export interface GeneratorStreamOptions {
  /** Seed of the random source handed to `produce`; default 0. */
  seed?: number;
  /** Index of the first value (to resume a stream where a checkpoint left it); default 0. */
  start?: number;
  /** How many values to produce; default Infinity (an unbounded stream). */
  count?: number;
}

/** Largest index a generator stream reaches: each index is a 32-bit RNG stream id. */
export const MAX_GENERATOR_INDEX = 0xffffffff;

/**
 * An (unbounded by default) stream whose value number `index` is `produce(index, rng)`, with
 * `rng` a random source that depends only on (seed, index). So the stream is reproducible, and
 * `start: k` gives exactly the values k, k+1, ... of the full stream: a resumed run sees the
 * data the interrupted one would have seen. Values are produced only on demand.
 */
export function generatorStream(produce: (index: number, rng: CounterRng) => Matrix, options: GeneratorStreamOptions = {}): Observable<Matrix> {
  const seed = options.seed ?? 0;
  const start = options.start ?? 0;
  const count = options.count ?? Infinity;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new InvalidValueError(`generatorStream: seed must be an integer in [0, 4294967295], got ${seed}`);
  if (!Number.isInteger(start) || start < 0) throw new InvalidValueError(`generatorStream: start must be a non-negative integer, got ${start}`);
  if (!(count === Infinity || (Number.isInteger(count) && count >= 0))) throw new InvalidValueError(`generatorStream: count must be a non-negative integer or Infinity, got ${count}`);
  return demandDriven<Matrix>(function* () {
    for (let index = start; index - start < count; index++) {
      if (index > MAX_GENERATOR_INDEX) throw new InvalidValueError(`generatorStream: index ${index} is past the last one (${MAX_GENERATOR_INDEX})`);
      yield produce(index, new CounterRng(seed, index));
    }
  });
}
