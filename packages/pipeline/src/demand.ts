import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A consumer's demand for values: demand-driven sources (every source of this package) produce
 * the next value only while their consumer `wants` one. This is how the trainer pulls batches:
 * it wants a batch only when it is ready to train on it, so a fast source never runs ahead and
 * memory stays bounded however long the stream is.
 *
 * The demand travels from the consumer to the sources through an AsyncLocalStorage context set
 * around `subscribe` (see `withDemand`), so it crosses any chain of ordinary RxJS operators
 * (map, filter, take, ...) between them without their knowing.
 */
export class Demand {
  private wanted = false;
  private waiters: (() => void)[] = [];

  /** Whether the consumer is waiting for a value now. */
  get isWanted(): boolean {
    return this.wanted;
  }

  /** The consumer waits for a value: wakes the sources. */
  want(): void {
    this.wanted = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** The consumer has a value to work on: sources pause before producing another. */
  satisfied(): void {
    this.wanted = false;
  }

  /** Resolves once the consumer wants a value (at once when it does now). */
  whenWanted(): Promise<void> {
    if (this.wanted) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

const context = new AsyncLocalStorage<Demand>();

/**
 * Runs `subscribe` (typically `observable.subscribe(...)`) so that the demand-driven sources it
 * reaches produce only on `demand`.
 */
export function withDemand<T>(demand: Demand, subscribe: () => T): T {
  return context.run(demand, subscribe);
}

/** The demand of the consumer subscribing now, or undefined (a plain subscriber: produce freely). */
export function currentDemand(): Demand | undefined {
  return context.getStore();
}
