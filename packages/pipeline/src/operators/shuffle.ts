import { CounterRng, InvalidValueError } from '@boltzmann/tensor';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { MAX_PENDING_BYTES, demandAwareOperator, type Transducer } from '../demand-operator.js';

/** Options of `shuffle`. */
export interface ShuffleOptions {
  /** Seed of the order; default 0. */
  seed?: number;
  /** RNG stream id: give each epoch its own (e.g. the epoch number) to reshuffle per epoch; default 0. */
  stream?: number;
  /**
   * Shuffle within a buffer of this many values (for unbounded streams): each value waits in the
   * buffer and leaves at a random time. Without it the whole (finite) stream is collected and
   * emitted in an exact uniform permutation.
   */
  bufferSize?: number;
  /** Most values an exact shuffle collects before it gives up with an error; default 1,000,000. */
  maxItems?: number;
  /** Most bytes of values held for a consumer that has not asked for them (a source that ignores demand); default 64 MiB. */
  maxBufferedBytes?: number;
}

/**
 * Seeded shuffle of a stream's values (rows or batches): an exact uniform permutation of a
 * finite stream (`CounterRng.permutation`), or, with `bufferSize`, a buffered shuffle that works
 * on unbounded streams with bounded memory. The same seed and stream give the same order.
 * Respects demand (see `Demand`): it reads its source only as its consumer asks.
 */
export function shuffle<T>(options: ShuffleOptions = {}): MonoTypeOperatorFunction<T> {
  const seed = options.seed ?? 0;
  const stream = options.stream ?? 0;
  const maxItems = options.maxItems ?? 1_000_000;
  const bufferSize = options.bufferSize;
  new CounterRng(seed, stream); // validates seed and stream now
  if (bufferSize !== undefined && (!Number.isInteger(bufferSize) || bufferSize < 1)) throw new InvalidValueError(`shuffle: bufferSize must be a positive integer, got ${bufferSize}`);
  if (!Number.isInteger(maxItems) || maxItems < 1) throw new InvalidValueError(`shuffle: maxItems must be a positive integer, got ${maxItems}`);
  const maxBytes = options.maxBufferedBytes ?? MAX_PENDING_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new InvalidValueError(`shuffle: maxBufferedBytes must be a positive integer, got ${maxBytes}`);
  return demandAwareOperator<T, T>('shuffle', () => (bufferSize === undefined ? exactShuffle<T>(seed, stream, maxItems) : bufferedShuffle<T>(seed, stream, bufferSize)), {
    maxBytes,
    option: 'shuffle({ maxBufferedBytes })',
  });
}

function exactShuffle<T>(seed: number, stream: number, maxItems: number): Transducer<T, T> {
  const items: T[] = [];
  return {
    push(value) {
      if (items.length >= maxItems) {
        throw new InvalidValueError(`shuffle: the stream passed ${maxItems} values; an exact shuffle holds the whole stream, so give bufferSize for long or unbounded streams (or raise maxItems)`);
      }
      items.push(value);
      return [];
    },
    flush() {
      const order = new CounterRng(seed, stream).permutation(items.length);
      return Array.from(order, (i) => items[i]!);
    },
  };
}

function bufferedShuffle<T>(seed: number, stream: number, size: number): Transducer<T, T> {
  const rng = new CounterRng(seed, stream);
  const buffer: T[] = [];
  return {
    push(value) {
      if (buffer.length < size) {
        buffer.push(value);
        return [];
      }
      const j = Math.floor(rng.uniform() * size);
      const out = buffer[j]!;
      buffer[j] = value;
      return [out];
    },
    flush() {
      const order = rng.permutation(buffer.length);
      return Array.from(order, (i) => buffer[i]!);
    },
  };
}
