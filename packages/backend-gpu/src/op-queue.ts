/**
 * Runs a backend's work in call order. Synchronous modes run each op at once. Asynchronous ones
 * (webgpu, whose kernels build and read back asynchronously, and webasm with worker threads)
 * chain every op on a promise: the Backend methods stay synchronous for the caller, the device
 * work happens in the same order, and reads resolve once everything issued before them ran.
 * The first failure of a chained op is kept and every later op and read fails with it, so an
 * error is never lost just because no one awaited the op that caused it.
 */

/** A value or a promise of it: what a step returns in an asynchronous mode. */
export type MaybePromise<T> = T | Promise<T>;

/** Applies `f` to a value that may still be pending, staying synchronous when it is not. */
export function then<T, U>(value: MaybePromise<T>, f: (v: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** The ordered executor of one backend. */
export class OpQueue {
  private tail: Promise<void>;
  private failure: Error | undefined;

  /**
   * @param deferred chain ops on promises (asynchronous modes) instead of running them at once.
   * @param start work every op must wait for (e.g. the device probe); its failure fails them all.
   */
  constructor(readonly deferred: boolean, start: Promise<void> = Promise.resolve()) {
    this.tail = start.catch((e: unknown) => {
      this.failure = toError(e);
    });
  }

  /** The first error of a chained op, if one failed. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Runs `task` now (synchronous modes) or after everything queued before it. */
  run(task: () => MaybePromise<void>): void {
    if (!this.deferred) {
      const r = task();
      if (r instanceof Promise) throw new Error('internal: an asynchronous step in a synchronous gpu.js mode');
      return;
    }
    this.submit(task).catch(() => {
      // kept in this.failure by submit; reads report it
    });
  }

  /** Like `run`, with the task's result; in synchronous modes the task still runs before this returns. */
  submit<T>(task: () => MaybePromise<T>): Promise<T> {
    if (!this.deferred) {
      try {
        return Promise.resolve(task());
      } catch (e) {
        return Promise.reject(toError(e));
      }
    }
    const result = this.tail.then(() => {
      if (this.failure) throw this.failure;
      return task();
    });
    this.tail = result.then(
      () => undefined,
      (e: unknown) => {
        this.failure ??= toError(e);
      },
    );
    return result;
  }

  /** Resolves when everything queued so far has run (rejects with the first failure). */
  flush(): Promise<void> {
    return this.submit(() => undefined);
  }
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
