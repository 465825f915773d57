import { Observable, type Subscriber } from 'rxjs';
import { currentDemand, type Demand } from './demand.js';

/** An iterator whose `next` may answer at once or later (a sync or an async iterator). */
export interface MaybeAsyncIterator<T> {
  next(): IteratorResult<T> | Promise<IteratorResult<T>>;
  return?(): unknown;
}

/**
 * Emits the values of `iterator` to `subscriber`, one each time the consumer's `demand` wants
 * one (all of them, synchronously where the iterator is synchronous, when there is no demand).
 * Stops when the subscriber unsubscribes and then closes the iterator (so a generator's
 * `finally` runs). Returns the teardown.
 */
export function pumpIterator<T>(iterator: MaybeAsyncIterator<T>, subscriber: Subscriber<T>, demand: Demand | undefined): () => void {
  let closed = false;
  const fail = (error: unknown): void => {
    if (!closed) subscriber.error(error);
  };
  /** Delivers one result; false when the stream is over. */
  const deliver = (result: IteratorResult<T>): boolean => {
    if (closed || subscriber.closed) return false;
    if (result.done) {
      subscriber.complete();
      return false;
    }
    subscriber.next(result.value);
    return !subscriber.closed;
  };
  const pump = (): void => {
    while (!closed && !subscriber.closed) {
      if (demand !== undefined && !demand.isWanted) {
        demand.whenWanted().then(pump, fail);
        return;
      }
      let result: IteratorResult<T> | Promise<IteratorResult<T>>;
      try {
        result = iterator.next();
      } catch (error) {
        fail(error);
        return;
      }
      if (isPromiseLike(result)) {
        result.then((r) => {
          if (deliver(r)) pump();
        }, fail);
        return;
      }
      if (!deliver(result)) return;
    }
  };
  pump();
  return () => {
    if (closed) return;
    closed = true;
    try {
      const done = iterator.return?.();
      if (isPromiseLike(done)) Promise.resolve(done).catch(() => undefined);
    } catch {
      // a generator that throws while closing has nothing left to tell an unsubscribed consumer
    }
  };
}

function isPromiseLike<T>(x: T | PromiseLike<T>): x is PromiseLike<T> {
  return typeof (x as { then?: unknown }).then === 'function';
}

/**
 * A cold Observable over the iterator `open()` makes for each subscriber, producing only on the
 * subscribing consumer's demand (see `Demand`). The building block of every source here.
 */
export function demandDriven<T>(open: () => MaybeAsyncIterator<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const demand = currentDemand();
    let iterator: MaybeAsyncIterator<T>;
    try {
      iterator = open();
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    return pumpIterator(iterator, subscriber, demand);
  });
}
