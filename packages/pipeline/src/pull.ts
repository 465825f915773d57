import { InvalidValueError } from '@boltzmann/tensor';
import { Subject, takeUntil, type Observable, type Subscription } from 'rxjs';
import { Demand, withDemand } from './demand.js';

/** Options of `pull`. */
export interface PullOptions {
  /**
   * Most values a source that ignores demand (a plain RxJS source: from(array), interval, a
   * Subject...) may push ahead of the consumer; one more is an error rather than unbounded
   * memory. Demand-driven sources (this package's) never come near it. Default 64.
   */
  maxBuffered?: number;
  /** Names the values in errors; default "values". */
  what?: string;
  /** The option that raises the bound, as the caller's user knows it; default "maxBuffered". */
  option?: string;
}

/**
 * Reads an Observable one value at a time, on demand: `next()` asks the sources for a value
 * only when the queue is empty, so demand-driven sources (this package's, through any chain of
 * synchronous RxJS operators) produce exactly what the consumer takes. Values pushed by a source
 * that ignores demand wait in a bounded queue. `close()` (or `return()`) unsubscribes.
 */
export class PullQueue<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private readonly demand = new Demand();
  private readonly stop = new Subject<void>();
  private readonly maxBuffered: number;
  private readonly what: string;
  private readonly option: string;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private finished = false;
  private failure: { error: unknown } | undefined;
  private readonly subscription: Subscription;

  constructor(source: Observable<T>, options: PullOptions = {}) {
    const maxBuffered = options.maxBuffered ?? 64;
    if (!Number.isInteger(maxBuffered) || maxBuffered < 1) throw new InvalidValueError(`maxBuffered must be a positive integer, got ${maxBuffered}`);
    this.maxBuffered = maxBuffered;
    this.what = options.what ?? 'values';
    this.option = options.option ?? 'maxBuffered';
    this.subscription = withDemand(this.demand, () =>
      source.pipe(takeUntil(this.stop)).subscribe({
        next: (value) => this.push(value),
        error: (error) => this.fail(error),
        complete: () => this.end(),
      }),
    );
  }

  /** Values received and not yet taken. */
  get buffered(): number {
    return this.queue.length;
  }

  /** The next value (asking the sources for one when none is waiting), or done. */
  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new InvalidValueError('PullQueue.next() called again before the previous call resolved'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.demand.want();
    });
  }

  /** Unsubscribes from the source; later `next()` calls report done. */
  close(): void {
    if (this.finished && this.subscription.closed) return;
    this.finished = true;
    this.queue.length = 0;
    this.stop.next();
    this.subscription.unsubscribe();
    this.settle({ value: undefined, done: true });
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private push(value: T): void {
    this.demand.satisfied();
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve({ value, done: false });
      return;
    }
    if (this.queue.length >= this.maxBuffered) {
      this.fail(
        new InvalidValueError(
          `the source pushed more than ${this.maxBuffered} ${this.what} ahead of its consumer: it ignores demand ` +
            '(a plain RxJS source such as from(array), interval or a Subject). Build it with fromArray, fromIterable, ' +
            `fromMatrix, fromFile or generatorStream, which produce only on demand, or raise ${this.option}`,
        ),
      );
      this.stop.next();
      return;
    }
    this.queue.push(value);
  }

  private fail(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = { error };
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }

  private end(): void {
    if (this.finished) return;
    this.finished = true;
    this.settle({ value: undefined, done: true });
  }

  private settle(result: IteratorResult<T>): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve(result);
  }
}

/** Pulls `source` one value at a time (see `PullQueue`). */
export function pull<T>(source: Observable<T>, options?: PullOptions): PullQueue<T> {
  return new PullQueue(source, options);
}
