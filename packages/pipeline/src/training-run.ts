import { DivergenceGuard, type EpochReport, type Hyperparameters, type Trainer } from '@boltzmann/core';
import { CounterRng, InvalidValueError, Matrix, type Tensor } from '@boltzmann/tensor';
import { isObservable, type Subscriber } from 'rxjs';
import { Checkpointer } from './checkpoint.js';
import type { Demand } from './demand.js';
import { EarlyStopping } from './early-stopping.js';
import { EpochMonitor } from './epoch-monitor.js';
import type { BatchEndEvent, CheckpointWrittenEvent, EpochEndEvent, StartedEvent, StopReason, TrainingEvent, TrainingSummary } from './events.js';
import { pull, type PullQueue } from './pull.js';
import type { DataFactory, SessionData, TrainingSession } from './session.js';
import type { ResolvedTrainOptions } from './train.js';
import { WindowEvaluator } from './window-evaluator.js';

/** The run training each trainer now: one at a time, or two loops would interleave their steps. */
const activeRuns = new WeakMap<Trainer, TrainingRun>();

/** How an epoch ended: go on, stop early, or the consumer left. */
type EpochOutcome = 'continue' | 'early-stop' | undefined;

/**
 * One subscription's training: the loop behind `train()`. Steps are synchronous kernel calls;
 * the loop awaits only between them (for a batch from the stream, a readback at an epoch end,
 * a checkpoint write, and one event-loop turn per step so a consumer can cancel), so cancelling
 * always lands between two steps.
 */
export class TrainingRun {
  private cancelled = false;
  /** Set once the run has nothing left to do but let go of the trainer (its last event is out). */
  private finishing = false;
  private queue: PullQueue<Matrix> | undefined;
  private ended: Promise<void> = Promise.resolve();
  private readonly checkpointer: Checkpointer | undefined;
  private readonly earlyStopping: EarlyStopping | undefined;
  private guard: DivergenceGuard | undefined;
  private monitor: EpochMonitor | undefined;
  private window: WindowEvaluator | undefined;
  private lastHyper: Hyperparameters = { learningRate: NaN, momentum: NaN };
  private lastReport: EpochReport | undefined;
  private bestParams: Record<string, Matrix> | undefined;
  private goodEpoch = 0;
  private goodStep = 0;
  private startedAt = 0;
  private startEpoch = 0;
  private startStep = 0;
  private biasInitialized = false;
  private stepCheckpointPending = false;

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
  }

  /** Starts the loop (a tick later); completes or errors the subscriber at its end. */
  start(): void {
    this.ended = this.execute().then(
      (completed) => {
        if (completed && !this.cancelled) this.subscriber.complete();
      },
      (error: unknown) => {
        if (!this.cancelled) this.subscriber.error(error);
      },
    );
  }

  /** Stops between two steps (an ongoing checkpoint write finishes first). */
  cancel(): void {
    this.cancelled = true;
    this.queue?.close();
  }

  private async execute(): Promise<boolean> {
    // Consumers that subscribe together (share(), several subscribe calls in a row) all see the first event.
    await Promise.resolve();
    if (this.cancelled) return false;
    const trainer = this.session.trainer;
    for (let other = activeRuns.get(trainer); other !== undefined; other = activeRuns.get(trainer)) {
      if (!other.cancelled && !other.finishing) {
        throw new InvalidValueError('this trainer is already training in another run; to give one run to several consumers, share it with share() or connectable()');
      }
      await other.ended;
    }
    if (this.cancelled) return false;
    activeRuns.set(trainer, this);
    try {
      return await this.trainAll();
    } finally {
      if (activeRuns.get(trainer) === this) activeRuns.delete(trainer);
    }
  }

  private async trainAll(): Promise<boolean> {
    const { model, trainer, validation } = this.session;
    this.startedAt = performance.now();
    this.startEpoch = trainer.epoch;
    this.startStep = trainer.step;
    try {
      // The optimizer's and the regularizers' state go back with the parameters (a sparsity estimate,
      // Adam's moments), and their host copies (Adam's step count) are re-read after a rollback.
      this.guard = new DivergenceGuard(model, trainer.stateTensors(), { afterRestore: () => trainer.resyncState() });
      this.guard.snapshot();
      this.goodEpoch = trainer.epoch;
      this.goodStep = trainer.step;
      const train = this.data.kind === 'matrix' ? this.data.matrix : undefined;
      this.monitor = new EpochMonitor(model, trainer.config.seed, this.options.monitor, { train, validation }, this.options.support);
      if (this.options.window) this.window = new WindowEvaluator(model, trainer.config.seed, this.options.window);
      const stepsPerEpoch = train ? Math.ceil(train.rows / Math.min(trainer.config.batchSize, train.rows)) : this.session.stepsPerEpoch;
      const started: StartedEvent = { type: 'started', epoch: trainer.epoch, step: trainer.step, epochs: this.session.epochs };
      if (stepsPerEpoch !== undefined) started.stepsPerEpoch = stepsPerEpoch;
      if (!this.emit(started)) return false;
      const reason = this.data.kind === 'matrix' ? await this.matrixEpochs(this.data.matrix) : await this.streamEpochs(this.data.open);
      if (reason === undefined) return false;
      return await this.finish(reason);
    } finally {
      this.queue?.close();
      this.queue = undefined;
      this.guard?.dispose();
      this.monitor?.dispose();
      this.window?.dispose();
    }
  }

  /** Epochs over resident matrix data: the same steps as `Trainer.fit`. */
  private async matrixEpochs(matrix: Matrix): Promise<StopReason | undefined> {
    const { model, trainer, epochs } = this.session;
    const be = model.backend;
    const visible = model.layers[0]!;
    if (trainer.epoch >= epochs) return 'completed';
    const n = matrix.rows;
    const batchSize = Math.min(trainer.config.batchSize, n);
    const stepsPerEpoch = Math.ceil(n / batchSize);
    if (trainer.step === 0 && trainer.config.initVisibleBiasFromData) visible.initializeFromData?.(columnMeans(matrix));
    const resident = be.upload(matrix);
    try {
      // A checkpoint written inside an epoch resumes inside it.
      let offset = trainer.step - trainer.epoch * stepsPerEpoch;
      if (!(offset > 0 && offset < stepsPerEpoch)) offset = 0;
      while (trainer.epoch < epochs) {
        const started = performance.now();
        this.monitor!.startEpoch();
        const order = offset > 0 ? this.orderOfEpochInProgress(n) : trainer.config.shuffle ? trainer.shuffleRng.permutation(n) : identity(n);
        for (let b = offset; b < stepsPerEpoch; b++) {
          const start = b * batchSize;
          const rows = Math.min(batchSize, n - start);
          const batch = model.workspace.get('pipeline:batch', rows, visible.size);
          be.gatherRows(resident, order.subarray(start, start + rows), batch);
          if (!(await this.step(batch, b + 1, b + 1 === stepsPerEpoch))) return undefined;
        }
        offset = 0;
        const outcome = await this.endEpoch(started);
        if (outcome !== 'continue') return outcome;
      }
      return 'completed';
    } finally {
      be.dispose(resident);
    }
  }

  /**
   * The row order of the epoch a mid-epoch checkpoint interrupted: the trainer drew it with one
   * op of its shuffle stream at the epoch start, so the stream one op back draws it again.
   */
  private orderOfEpochInProgress(n: number): Uint32Array {
    const trainer = this.session.trainer;
    if (!trainer.config.shuffle) return identity(n);
    const state = trainer.shuffleRng.snapshot();
    if (state.counter < 1) throw new InvalidValueError(`the trainer is inside epoch ${trainer.epoch + 1} (step ${trainer.step}) but its shuffle stream has drawn no row order`);
    return CounterRng.fromState({ ...state, counter: state.counter - 1 }).permutation(n);
  }

  /** Epochs over a stream of batches. */
  private async streamEpochs(open: DataFactory): Promise<StopReason | undefined> {
    const { trainer, epochs, stepsPerEpoch } = this.session;
    if (trainer.epoch >= epochs) return 'completed';
    if (stepsPerEpoch === undefined) {
      // One subscription per epoch, from subscribe to complete.
      while (trainer.epoch < epochs) {
        const started = performance.now();
        this.monitor!.startEpoch();
        const queue = this.openStream(open);
        let index = 0;
        for (;;) {
          const next = await queue.next();
          if (this.cancelled) return undefined;
          if (next.done) break;
          index += 1;
          if (!(await this.streamStep(next.value, index, false))) return undefined;
        }
        queue.close();
        this.queue = undefined;
        if (index === 0) throw new InvalidValueError(`the data stream completed without a batch in epoch ${trainer.epoch + 1}: the data is empty`);
        const outcome = await this.endEpoch(started);
        if (outcome !== 'continue') return outcome;
      }
      return 'completed';
    }
    // One subscription for all epochs of stepsPerEpoch steps.
    const queue = this.openStream(open);
    let offset = trainer.step - trainer.epoch * stepsPerEpoch;
    if (!(offset > 0 && offset < stepsPerEpoch)) offset = 0;
    let steps = 0;
    while (trainer.epoch < epochs) {
      const started = performance.now();
      this.monitor!.startEpoch();
      for (let b = offset; b < stepsPerEpoch; b++) {
        const next = await queue.next();
        if (this.cancelled) return undefined;
        if (next.done) {
          if (steps === 0) throw new InvalidValueError('the data stream completed without a batch: the data is empty');
          return 'data-ended';
        }
        steps += 1;
        if (!(await this.streamStep(next.value, b + 1, b + 1 === stepsPerEpoch))) return undefined;
      }
      offset = 0;
      const outcome = await this.endEpoch(started);
      if (outcome !== 'continue') return outcome;
    }
    return 'completed';
  }

  private openStream(open: DataFactory): PullQueue<Matrix> {
    const trainer = this.session.trainer;
    const source = open({ epoch: trainer.epoch, step: trainer.step });
    if (!isObservable(source)) throw new InvalidValueError('the session.data function must return an Observable<Matrix>');
    this.queue = pull(source, { maxBuffered: this.options.maxBufferedBatches, what: 'batches' });
    return this.queue;
  }

  /** A host batch from the stream: checked, uploaded, scored for the epoch report, trained on. */
  private async streamStep(batch: unknown, index: number, lastOfEpoch: boolean): Promise<boolean> {
    const { model, trainer } = this.session;
    const visible = model.layers[0]!;
    visible.validate(batch as Matrix, `batch ${index} of epoch ${trainer.epoch + 1}`);
    const m = batch as Matrix;
    if (trainer.step === 0 && !this.biasInitialized && trainer.config.initVisibleBiasFromData) visible.initializeFromData?.(columnMeans(m));
    this.biasInitialized = true;
    const t = model.workspace.get('pipeline:stream-batch', m.rows, m.cols);
    model.backend.write(t, m);
    this.monitor!.observeBatch(t);
    return this.step(t, index, lastOfEpoch);
  }

  /**
   * One step on a batch on the backend, its event, a step checkpoint when due, one event-loop
   * turn. A step checkpoint due at the last step of an epoch waits for the epoch's end, so every
   * checkpoint lies either inside an epoch or between two (where a resume can tell which).
   */
  private async step(batch: Tensor, index: number, lastOfEpoch: boolean): Promise<boolean> {
    if (this.demand !== undefined && !this.demand.isWanted) await this.demand.whenWanted();
    if (this.cancelled) return false;
    const trainer = this.session.trainer;
    const window = this.window ? await this.window.evaluate(batch) : undefined;
    if (this.cancelled) return false;
    const hyper = trainer.hyperparameters();
    await trainer.trainStep(batch); // a promise only where the estimator reads back (wake/dream...)
    this.lastHyper = hyper;
    const event: BatchEndEvent = {
      type: 'batch-end',
      epoch: trainer.epoch + 1,
      step: trainer.step,
      batch: index,
      rows: batch.rows,
      learningRate: hyper.learningRate,
      momentum: hyper.momentum,
    };
    if (window) event.window = window;
    if (!this.emit(event)) return false;
    if (this.checkpointer?.dueAfterStep(trainer)) {
      if (lastOfEpoch) this.stepCheckpointPending = true;
      else if (!(await this.writeCheckpoint('step', false))) return false;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    return !this.cancelled;
  }

  private async endEpoch(started: number): Promise<EpochOutcome> {
    const { model, trainer, epochs } = this.session;
    trainer.epoch += 1;
    await this.checkFinite(`in epoch ${trainer.epoch}`);
    const report = await this.monitor!.report({ epoch: trainer.epoch, step: trainer.step, ...this.lastHyper }, started);
    this.lastReport = report;
    const event: EpochEndEvent = { type: 'epoch-end', report, epochs };
    if (this.window) event.window = this.window.current();
    if (!this.emit(event)) return undefined;
    const pending = this.stepCheckpointPending;
    this.stepCheckpointPending = false;
    if (this.checkpointer?.dueAfterEpoch(trainer) || pending) {
      if (!(await this.writeCheckpoint(this.checkpointer!.dueAfterEpoch(trainer) ? 'epoch' : 'step', true))) return undefined;
    }
    const es = this.earlyStopping;
    if (es) {
      const decision = es.update(report);
      if (decision === 'improved' && es.restoreBest) this.bestParams = await model.getParams();
      if (decision === 'stop') return 'early-stop';
    }
    return this.cancelled ? undefined : 'continue';
  }

  /**
   * Throws a DivergenceError when a parameter (or optimizer / regularizer state) holds NaN/Inf,
   * after putting back the last good ones and the counters (and re-reading host copies of the
   * state: Adam's step count); otherwise records the current ones as good.
   */
  private async checkFinite(where: string): Promise<void> {
    const trainer = this.session.trainer;
    try {
      await this.guard!.check(where, ` (learning rate ${this.lastHyper.learningRate}, momentum ${this.lastHyper.momentum})`);
    } catch (error) {
      trainer.epoch = this.goodEpoch;
      trainer.step = this.goodStep;
      throw error;
    }
    this.guard!.snapshot();
    this.goodEpoch = trainer.epoch;
    this.goodStep = trainer.step;
  }

  private async writeCheckpoint(trigger: CheckpointWrittenEvent['trigger'], checked: boolean): Promise<boolean> {
    const { model, trainer } = this.session;
    if (!checked) await this.checkFinite(`before the checkpoint at step ${trainer.step}`);
    const event = await this.checkpointer!.write(model, trainer, trigger);
    return this.emit(event);
  }

  private async finish(reason: StopReason): Promise<boolean> {
    const { model, trainer } = this.session;
    if (this.checkpointer?.dueAtEnd(trainer) && !(await this.writeCheckpoint('final', false))) return false;
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
      epochsRun: trainer.epoch - this.startEpoch,
      stepsRun: trainer.step - this.startStep,
      seconds: (performance.now() - this.startedAt) / 1000,
    };
    if (this.lastReport) summary.lastReport = this.lastReport;
    if (es && !Number.isNaN(es.best)) summary.best = { metric: es.metric, value: es.best, epoch: es.bestEpoch };
    // A consumer may start the next run of this trainer from the 'finished' event itself.
    this.finishing = true;
    return this.emit({ type: 'finished', summary });
  }

  /** Hands an event to the subscriber; false once the consumer has left. */
  private emit(event: TrainingEvent): boolean {
    if (this.cancelled) return false;
    this.subscriber.next(event);
    return !this.cancelled;
  }
}

/** Column means in float64 (the visible-bias initialisation, as `Trainer.fit` does it). */
function columnMeans(m: Matrix): Float64Array {
  const out = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) out[c]! += m.data[r * m.cols + c]!;
  for (let c = 0; c < m.cols; c++) out[c]! /= m.rows;
  return out;
}

function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
