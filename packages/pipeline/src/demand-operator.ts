import { InvalidValueError, Matrix } from '@boltzmann/tensor';
import { Observable, Subject, takeUntil, type OperatorFunction } from 'rxjs';
import { currentDemand, Demand, withDemand } from './demand.js';

/** The stateful heart of a buffering operator: what each input gives out, and what is left at the end. */
export interface Transducer<A, B> {
  /** Outputs due after input `a` (often none or one). */
  push(a: A): readonly B[];
  /** Outputs left when the input completes. */
  flush(): readonly B[];
}

/** Most bytes of outputs a buffering operator holds for a consumer that does not want them (a source that ignores demand): 64 MiB. */
export const MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** The bound on what a buffering operator holds for its consumer. */
export interface PendingBound {
  /** Most bytes of pending outputs (a Matrix counts its elements' bytes, and every value 64 more). */
  maxBytes: number;
  /** How the user raises it, for the error ("batch(size, { maxBufferedBytes })"). */
  option: string;
}

/** What a held value costs: its elements' bytes plus a fixed 64 for the object itself (so a flood of tiny values is bounded too). */
function bytesOf(x: unknown): number {
  return (x instanceof Matrix ? x.data.byteLength : 0) + 64;
}

/**
 * Builds an operator that may hold values (shuffle, batch) and still respects demand: it hands
 * its outputs on only while its consumer wants one, and asks its own source for input only when
 * it holds no output and its consumer wants one. Without a demand (a plain subscriber) it passes
 * everything on at once, like any RxJS operator. `make` is called for each subscription.
 */
export function demandAwareOperator<A, B>(name: string, make: () => Transducer<A, B>, bound: PendingBound = { maxBytes: MAX_PENDING_BYTES, option: 'maxBufferedBytes' }): OperatorFunction<A, B> {
  return (source) =>
    new Observable<B>((subscriber) => {
      const outer = currentDemand();
      const inner = outer === undefined ? undefined : new Demand();
      const stop = new Subject<void>();
      const transducer = make();
      const pending: B[] = [];
      let pendingBytes = 0;
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
          const b = pending.shift()!;
          pendingBytes -= bytesOf(b);
          subscriber.next(b);
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
        for (const b of outputs) {
          pending.push(b);
          pendingBytes += bytesOf(b);
        }
        if (pendingBytes > bound.maxBytes) {
          subscriber.error(
            new InvalidValueError(
              `${name} holds ${pending.length} values (${pendingBytes} bytes) its consumer has not asked for, over its limit of ${bound.maxBytes} bytes: ` +
                `its source ignores demand (a plain RxJS source such as from(array), interval or a Subject); build it with fromMatrix, fromIterable or generatorStream, or raise ${bound.option}`,
            ),
          );
          stop.next();
        }
      };
      const subscribeUpstream = () =>
        source.pipe(takeUntil(stop)).subscribe({
          next: (a) => {
            if (subscriber.closed) {
              stop.next(); // the consumer left (take(n)...): stop a synchronous source rather than buffer for no one
              return;
            }
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
        pendingBytes = 0;
      };
    });
}
