import { trainingLoop, type BatchStream, type EpochReport, type LoopEnd, type LoopEvent, type Trainer, type TrainingRows } from '@boltzmann/core';
import { InvalidValueError, type Matrix, type Tensor } from '@boltzmann/tensor';
import { isObservable, type Subscriber } from 'rxjs';
import { BrokerFeed } from './brokers/broker-feed.js';
import { Checkpointer } from './checkpoint.js';
import type { Demand } from './demand.js';
import { EarlyStopping } from './early-stopping.js';
import type { CheckpointWrittenEvent, StopReason, TrainingEvent, TrainingSummary, WindowMetrics } from './events.js';
import { pull } from './pull.js';
import type { DataFactory, SessionData, TrainingSession } from './session.js';
import type { ResolvedTrainOptions } from './train.js';
import { WindowEvaluator } from './window-evaluator.js';

/** The run training each trainer now: one at a time, or two loops would interleave their steps. */
const activeRuns = new WeakMap<Trainer, TrainingRun>();

/**
 * One subscription's training: core's `trainingLoop` as a stream of events, plus what streaming
 * adds: the data source pulled on demand, pacing by a pulling consumer, sliding-window metrics,
 * checkpoint files, early stopping and cancellation. The loop steps only when this run asks it
 * for its next event, so cancelling (unsubscribing, or aborting `TrainOptions.signal`) always
 * lands between two steps; then a checkpoint is written when checkpoints are configured.
 */
export class TrainingRun {
  /** The consumer left: nothing more is emitted. */
  private unsubscribed = false;
  /** Set once the run has nothing left to do but let go of the trainer (its last event is out). */
  private finishing = false;
  private ended: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  /** Resolves when the run is cancelled (to stop waiting for a consumer's demand). */
  private readonly aborted = new Promise<void>((resolve) => this.abort.signal.addEventListener('abort', () => resolve(), { once: true }));
  private readonly checkpointer: Checkpointer | undefined;
  private readonly earlyStopping: EarlyStopping | undefined;
  private window: WindowEvaluator | undefined;
  private lastWindow: WindowMetrics | undefined;
  private lastReport: EpochReport | undefined;
  private bestParams: Record<string, Matrix> | undefined;
  private stepCheckpointPending = false;
  /** The broker source feeding the run (session data of the broker kind). */
  private feed: BrokerFeed | undefined;

  constructor(
    private readonly session: TrainingSession,
    private readonly data: SessionData,
    private readonly options: ResolvedTrainOptions,
    private readonly subscriber: Subscriber<TrainingEvent>,
    /** The demand of a consumer that pulls the events (see `pull`), which then paces the steps. */
    private readonly demand?: Demand,
  ) {
    this.checkpointer = options.checkpoint ? new Checkpointer(options.checkpoint) : undefined;
    this.earlyStopping = options.earlyStopping ? new EarlyStopping(options.earlyStopping) : undefined;
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.abort.abort();
      else signal.addEventListener('abort', () => this.abort.abort(), { once: true });
    }
  }

  /** Starts the loop (a tick later); completes or errors the subscriber at its end. */
  start(): void {
    this.ended = this.execute().then(
      (completed) => {
        if (completed && !this.unsubscribed) this.subscriber.complete();
      },
      (error: unknown) => {
        if (!this.unsubscribed) this.subscriber.error(error);
      },
    );
  }

  /** The consumer left: stops between two steps (and writes a checkpoint, when configured). */
  cancel(): void {
    this.unsubscribed = true;
    this.abort.abort();
  }

  private get cancelled(): boolean {
    return this.abort.signal.aborted;
  }

  private async execute(): Promise<boolean> {
    // Consumers that subscribe together (share(), several subscribe calls in a row) all see the first event.
    await Promise.resolve();
    if (this.unsubscribed) return false;
    const trainer = this.session.trainer;
    for (let other = activeRuns.get(trainer); other !== undefined; other = activeRuns.get(trainer)) {
      if (!other.cancelled && !other.finishing) {
        throw new InvalidValueError('this trainer is already training in another run; to give one run to several consumers, share it with share() or connectable()');
      }
      await other.ended;
    }
    if (this.unsubscribed) return false;
    activeRuns.set(trainer, this);
    try {
      if (this.options.window) this.window = new WindowEvaluator(trainer.model, trainer.config.seed, this.options.window);
      if (this.data.kind === 'broker') {
        const lastStep = this.session.epochs * this.session.stepsPerEpoch!;
        this.feed = new BrokerFeed(this.data.source, trainer, this.session.model.layers[0]!, lastStep, this.options.onRefused);
      }
      return await this.run();
    } finally {
      // Closed last: the run's final checkpoint has acknowledged what it holds.
      await this.feed?.close();
      this.window?.dispose();
      if (activeRuns.get(trainer) === this) activeRuns.delete(trainer);
    }
  }

  private async run(): Promise<boolean> {
    const { trainer, validation, epochs } = this.session;
    const startedAt = performance.now();
    const startEpoch = trainer.epoch;
    const startStep = trainer.step;
    const window = this.window;
    const loop = trainingLoop(trainer, this.data.kind === 'matrix' ? this.data.matrix : this.data.kind === 'broker' ? this.brokerStream(this.feed!) : this.batchStream(this.data.open), {
      untilEpoch: epochs,
      validation,
      monitor: this.options.monitor,
      support: this.options.support,
      signal: this.abort.signal,
      beforeStep: window ? async (batch: Tensor) => void (this.lastWindow = await window.evaluate(batch)) : undefined,
    });
    let end: LoopEnd | 'early-stop';
    try {
      for (;;) {
        const next = await loop.next();
        if (next.done) {
          end = next.value;
          break;
        }
        const outcome = await this.handle(next.value);
        if (outcome === 'early-stop') {
          end = 'early-stop';
          break;
        }
        if (this.cancelled) {
          end = 'cancelled';
          break;
        }
        if (this.demand !== undefined && !this.demand.isWanted) await Promise.race([this.demand.whenWanted(), this.aborted]);
      }
    } finally {
      await loop.return('cancelled');
    }
    if (end === 'cancelled') {
      // However the run was cancelled, a configured checkpoint keeps its work.
      if (this.checkpointer && !this.checkpointer.isCurrent(trainer) && !(await this.writeCheckpoint('cancelled'))) return false;
      if (this.unsubscribed) return false;
    } else if (this.checkpointer?.dueAtEnd(trainer) && !(await this.writeCheckpoint('final'))) {
      return false;
    }
    return this.finish(end, { startedAt, startEpoch, startStep });
  }

  /** Emits one event of the loop and does what streaming adds to it; 'early-stop' ends the run. */
  private async handle(event: LoopEvent): Promise<'early-stop' | undefined> {
    const { model, trainer } = this.session;
    if (event.type === 'started') {
      const { type, epoch, step, epochs, stepsPerEpoch } = event;
      this.emit(stepsPerEpoch === undefined ? { type, epoch, step, epochs } : { type, epoch, step, epochs, stepsPerEpoch });
      return undefined;
    }
    if (event.type === 'batch-end') {
      // The batch just trained is the last one the feed handed out: the trainer now holds its rows.
      this.feed?.stepDone();
      const { lastOfEpoch, ...rest } = event;
      this.emit(this.lastWindow ? { ...rest, window: this.lastWindow } : rest);
      if (this.checkpointer?.dueAfterStep(trainer)) {
        // One due at an epoch's last step waits for the epoch end: every checkpoint lies inside an epoch or between two.
        if (lastOfEpoch) this.stepCheckpointPending = true;
        else await this.writeCheckpoint('step');
      }
      // One event-loop turn per step, so a consumer can cancel between any two.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return undefined;
    }
    this.lastReport = event.report;
    this.emit(this.window ? { ...event, window: this.window.current() } : event);
    const pending = this.stepCheckpointPending;
    this.stepCheckpointPending = false;
    if (this.checkpointer?.dueAfterEpoch(trainer) || pending) await this.writeCheckpoint(this.checkpointer!.dueAfterEpoch(trainer) ? 'epoch' : 'step');
    const es = this.earlyStopping;
    if (es) {
      const decision = es.update(event.report);
      if (decision === 'improved' && es.restoreBest) this.bestParams = await model.getParams();
      if (decision === 'stop') return 'early-stop';
    }
    return undefined;
  }

  /** Checks the parameters (a divergence is the run's error, the last good ones put back), then writes; false once the consumer left. */
  private async writeCheckpoint(trigger: CheckpointWrittenEvent['trigger']): Promise<boolean> {
    const { model, trainer } = this.session;
    await trainer.checkFinite(`before the checkpoint at step ${trainer.step}`);
    const event = await this.checkpointer!.write(model, trainer, trigger);
    // Durable now (written atomically): the broker may forget the messages it holds.
    await this.feed?.checkpointed(trainer.sourcePosition);
    return this.emit(event);
  }

  private finish(reason: StopReason, run: { startedAt: number; startEpoch: number; startStep: number }): boolean {
    const { model, trainer } = this.session;
    const es = this.earlyStopping;
    if (reason === 'early-stop' && es) {
      let restoredBest = false;
      if (es.restoreBest && this.bestParams) {
        model.setParams(this.bestParams);
        restoredBest = true;
      }
      const stop: TrainingEvent = { type: 'early-stop', reason: es.reason(), metric: es.metric, bestValue: es.best, bestEpoch: es.bestEpoch, epoch: trainer.epoch, restoredBest };
      if (!this.emit(stop)) return false;
    }
    const summary: TrainingSummary = {
      reason,
      epochs: trainer.epoch,
      steps: trainer.step,
      epochsRun: trainer.epoch - run.startEpoch,
      stepsRun: trainer.step - run.startStep,
      seconds: (performance.now() - run.startedAt) / 1000,
    };
    if (this.lastReport) summary.lastReport = this.lastReport;
    if (es && !Number.isNaN(es.best)) summary.best = { metric: es.metric, value: es.best, epoch: es.bestEpoch };
    // A consumer may start the next run of this trainer from the 'finished' event itself.
    this.finishing = true;
    return this.emit({ type: 'finished', summary });
  }

  /** The session's stream as core's `BatchStream`: each open subscribes (pulled on demand, bounded). */
  private batchStream(open: DataFactory): BatchStream<Matrix | TrainingRows> {
    const stream: BatchStream<Matrix | TrainingRows> = {
      open: (position) => {
        const source = open(position);
        if (!isObservable(source)) throw new InvalidValueError('the session.data function must return an Observable of batches (Matrix or training rows)');
        return pull(source, { maxBuffered: this.options.maxBufferedBatches, what: 'batches', option: 'maxBufferedBatches' });
      },
    };
    if (this.session.stepsPerEpoch !== undefined) stream.stepsPerEpoch = this.session.stepsPerEpoch;
    return stream;
  }

  /** A broker source as core's `BatchStream`: one batch of the batch size per step, read when the loop asks. */
  private brokerStream(feed: BrokerFeed): BatchStream<Matrix | TrainingRows> {
    return { open: () => feed.iterator(this.abort.signal), stepsPerEpoch: this.session.stepsPerEpoch! };
  }

  /** Hands an event to the subscriber; false once the consumer has left. */
  private emit(event: TrainingEvent): boolean {
    if (this.unsubscribed) return false;
    this.subscriber.next(event);
    return !this.unsubscribed;
  }
}
