import { InvalidValueError } from '@boltzmann/tensor';
import { Observable, Subject, takeUntil, type OperatorFunction } from 'rxjs';
import { currentDemand, Demand, withDemand } from './demand.js';

/** The stateful heart of a buffering operator: what each input gives out, and what is left at the end. */
export interface Transducer<A, B> {
  /** Outputs due after input `a` (often none or one). */
  push(a: A): readonly B[];
  /** Outputs left when the input completes. */
  flush(): readonly B[];
}

/** Most outputs a buffering operator holds for a consumer that does not want them (a source that ignores demand). */
export const MAX_PENDING_OUTPUTS = 4096;

/**
 * Builds an operator that may hold values (shuffle, batch) and still respects demand: it hands
 * its outputs on only while its consumer wants one, and asks its own source for input only when
 * it holds no output and its consumer wants one. Without a demand (a plain subscriber) it passes
 * everything on at once, like any RxJS operator. `make` is called for each subscription.
 */
export function demandAwareOperator<A, B>(name: string, make: () => Transducer<A, B>): OperatorFunction<A, B> {
  return (source) =>
    new Observable<B>((subscriber) => {
      const outer = currentDemand();
      const inner = outer === undefined ? undefined : new Demand();
      const stop = new Subject<void>();
      const transducer = make();
      const pending: B[] = [];
      let upstreamDone = false;
      let waking = false;

      const wakeLater = (): void => {
        if (waking || outer === undefined) return;
        waking = true;
        outer.whenWanted().then(() => {
          waking = false;
          drain();
        });
      };
      const drain = (): void => {
        while (pending.length > 0 && !subscriber.closed) {
          if (outer !== undefined && !outer.isWanted) {
            inner!.satisfied();
            wakeLater();
            return;
          }
          subscriber.next(pending.shift()!);
        }
        if (subscriber.closed) return;
        if (upstreamDone) {
          subscriber.complete();
          return;
        }
        if (inner === undefined) return;
        if (outer!.isWanted) {
          inner.want();
        } else {
          inner.satisfied();
          wakeLater();
        }
      };
      const take = (outputs: readonly B[]): void => {
        for (const b of outputs) pending.push(b);
        if (pending.length > MAX_PENDING_OUTPUTS) {
          subscriber.error(new InvalidValueError(`${name} holds more than ${MAX_PENDING_OUTPUTS} values its consumer has not asked for: its source ignores demand (a plain RxJS source?)`));
          stop.next();
        }
      };
      const subscribeUpstream = () =>
        source.pipe(takeUntil(stop)).subscribe({
          next: (a) => {
            inner?.satisfied();
            try {
              take(transducer.push(a));
            } catch (error) {
              subscriber.error(error);
              stop.next();
              return;
            }
            drain();
          },
          error: (error) => subscriber.error(error),
          complete: () => {
            if (subscriber.closed) return;
            try {
              take(transducer.flush());
            } catch (error) {
              subscriber.error(error);
              return;
            }
            upstreamDone = true;
            drain();
          },
        });
      const subscription = inner === undefined ? subscribeUpstream() : withDemand(inner, subscribeUpstream);
      drain();
      return () => {
        stop.next();
        subscription.unsubscribe();
        pending.length = 0;
      };
    });
}
