import { monitorSupport, resolveMonitor, type MonitorOptions, type MonitorSupport } from '@boltzmann/core';
import { InvalidValueError } from '@boltzmann/tensor';
import { Observable } from 'rxjs';
import type { RefusedMessage } from './brokers/broker-source.js';
import { Checkpointer, type CheckpointOptions } from './checkpoint.js';
import { currentDemand } from './demand.js';
import { EarlyStopping, checkStoppingMetric, defaultStoppingMetric, type EarlyStoppingOptions } from './early-stopping.js';
import type { TrainingEvent } from './events.js';
import { validateSession, type TrainingSession } from './session.js';
import { TrainingRun } from './training-run.js';
import { SlidingWindow } from './sliding-window.js';
import type { WindowOptions } from './window-evaluator.js';

/** Options of `train`. */
export interface TrainOptions {
  /** Write checkpoints (atomically, resumable) every N epochs and/or steps, and at the end. */
  checkpoint?: CheckpointOptions;
  /** Stop when a (held-out) metric stops improving. */
  earlyStopping?: EarlyStoppingOptions;
  /** What to score at each epoch end; default free energy and pseudo-log-likelihood on 1000 rows. */
  monitor?: MonitorOptions;
  /** Sliding-window metrics in each batch-end event (online learning). */
  window?: WindowOptions;
  /**
   * Most batches a source that ignores demand may push ahead of the trainer before the run
   * fails (memory stays bounded); demand-driven sources never do. Default 64.
   */
  maxBufferedBatches?: number;
  /**
   * Aborting it stops the run between two steps, like unsubscribing, but the consumer still gets
   * the last events: a checkpoint (trigger "cancelled", when `checkpoint` is configured), then
   * `finished` with reason "cancelled", then the stream completes.
   */
  signal?: AbortSignal;
  /**
   * With a broker source: told of each message refused (it did not decode, or its row is out
   * of the visible units' range) after the source moved it to its dead-letter place.
   */
  onRefused?: (message: RefusedMessage) => void;
}

/** `TrainOptions` checked, with defaults filled in (each run builds its own stateful helpers from them). */
export interface ResolvedTrainOptions {
  checkpoint?: CheckpointOptions;
  earlyStopping?: EarlyStoppingOptions;
  monitor: MonitorOptions;
  /** What the session's model allows (core's `monitorSupport`), computed once for the run. */
  support: MonitorSupport;
  window?: WindowOptions;
  maxBufferedBatches: number;
  signal?: AbortSignal;
  onRefused?: (message: RefusedMessage) => void;
}

/**
 * Trains `session.model` as a stream of typed events: started, batch-end (each step), epoch-end
 * (core's EpochReport), checkpoint-written, early-stop, finished; then the stream completes.
 * A DivergenceError (NaN/Inf in the parameters, found at epoch ends and before checkpoints; the
 * last good parameters are restored), a batch of the wrong width or with NaN, or empty data
 * arrive as the stream's error.
 *
 * The Observable is cold: each subscription runs the training (so give a run to several
 * consumers with `share()` or `connectable()`; the run starts a tick after the first subscribe,
 * so consumers that subscribe at once all see its first event). Unsubscribing stops it between
 * two steps; a checkpoint being written is finished first, so the last checkpoint is whole, and
 * when checkpoints are configured one more is written then (see `TrainOptions.signal` for a
 * cancellation that still reports).
 * The trainer pulls its batches: stream sources produce only when it is ready (see `Demand`).
 * It can be pulled in turn: read through `pull(train(...))`, it trains a step only when the
 * reader wants the next event.
 *
 * The session is checked now: a bad one (negative epochs, a trainer of another model, data or
 * validation of the wrong width, a per-epoch schedule shorter than `session.epochs`, a monitored
 * metric or early-stopping metric the model cannot give, early stopping on held-out metrics
 * without held-out data) throws here, naming the problem.
 */
export function train(session: TrainingSession, options: TrainOptions = {}): Observable<TrainingEvent> {
  const data = validateSession(session);
  const resolved = resolveTrainOptions(session, options);
  return new Observable<TrainingEvent>((subscriber) => {
    const run = new TrainingRun(session, data, resolved, subscriber, currentDemand());
    run.start();
    return () => run.cancel();
  });
}

/** Checks `options` against the session (see `train`). */
export function resolveTrainOptions(session: TrainingSession, options: TrainOptions): ResolvedTrainOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidValueError('train() options must be an object');
  const maxBufferedBatches = options.maxBufferedBatches ?? 64;
  if (!Number.isInteger(maxBufferedBatches) || maxBufferedBatches < 1) {
    throw new InvalidValueError(`maxBufferedBatches must be a positive integer, got ${String(maxBufferedBatches)}`);
  }
  const monitor = options.monitor ?? {};
  if (monitor.rows !== undefined && (!Number.isInteger(monitor.rows) || monitor.rows < 1)) {
    throw new InvalidValueError(`monitor.rows must be a positive integer, got ${String(monitor.rows)}`);
  }
  const support = monitorSupport(session.model);
  resolveMonitor(session.model, monitor, support);
  const out: ResolvedTrainOptions = { monitor, support, maxBufferedBatches };
  if (options.signal !== undefined) {
    if (!(options.signal instanceof AbortSignal)) throw new InvalidValueError('train() option signal must be an AbortSignal');
    out.signal = options.signal;
  }
  if (options.onRefused !== undefined) {
    if (typeof options.onRefused !== 'function') throw new InvalidValueError('train() option onRefused must be a function');
    out.onRefused = options.onRefused;
  }
  if (options.checkpoint !== undefined) {
    new Checkpointer(options.checkpoint);
    out.checkpoint = options.checkpoint;
  }
  if (options.earlyStopping !== undefined) {
    const given = options.earlyStopping;
    // The default metric follows the model: no pseudo-likelihood without Bernoulli visible units.
    // (the default is one the model gives; a named metric is checked)
    if (given.metric !== undefined) checkStoppingMetric(session.model, given.metric, support);
    const metric = given.metric ?? defaultStoppingMetric(session.model, { validation: session.validation !== undefined, ...(given.split ? { split: given.split } : {}), monitor }, support);
    const resolved: EarlyStoppingOptions = { ...given, metric };
    const es = new EarlyStopping(resolved);
    if (es.needsValidation && session.validation === undefined) {
      throw new InvalidValueError(`early stopping on ${es.metric} needs held-out data: give session.validation`);
    }
    const watchesPll = es.metric.endsWith('pseudoLogLikelihood');
    if ((watchesPll && monitor.pseudoLikelihood === false) || (es.metric === 'freeEnergyGap' && monitor.freeEnergy === false)) {
      throw new InvalidValueError(`early stopping watches ${es.metric}, which monitor options turn off`);
    }
    out.earlyStopping = resolved;
  }
  if (options.window !== undefined) {
    if (typeof options.window !== 'object' || options.window === null) throw new InvalidValueError('window must be { size, every? }');
    new SlidingWindow(options.window.size);
    const every = options.window.every ?? 1;
    if (!Number.isInteger(every) || every < 1) throw new InvalidValueError(`window.every must be a positive integer, got ${String(every)}`);
    out.window = options.window;
  }
  return out;
}
