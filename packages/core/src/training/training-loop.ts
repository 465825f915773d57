import { CounterRng, InvalidValueError, Matrix, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { checkInteger } from '../validation.js';
import { EpochMonitor, type MonitorOptions } from './epoch-monitor.js';
import type { MonitorSupport } from './monitoring.js';
import type { EpochReport, Trainer } from './trainer.js';

/** Where training stands: completed epochs and steps (the trainer's counters). */
export interface TrainingPosition {
  epoch: number;
  step: number;
}

/**
 * Batches that arrive one at a time (a stream), each one step's batch. `open` is called at the
 * start of every epoch (one epoch = from open to done), or once for all epochs when
 * `stepsPerEpoch` is given (then the data ending is the end of the run). The loop calls the
 * iterator's `return` when it stops early.
 */
export interface BatchStream {
  open(position: TrainingPosition): AsyncIterator<Matrix>;
  /** Steps per epoch (required for an endless stream to have epoch ends). */
  stepsPerEpoch?: number;
}

/** What the loop trains on: rows resident on the backend (shuffled by the trainer), or a stream of batches. */
export type TrainingData = Matrix | BatchStream;

/** Options of {@link trainingLoop}. */
export interface TrainingLoopOptions {
  /** Train until the trainer has completed this many epochs in all; Infinity: until the data ends or the loop is stopped. */
  untilEpoch: number;
  /** Held-out rows scored at each epoch end. */
  validation?: Matrix | undefined;
  /** What the epoch reports score (see `EpochMonitor`). */
  monitor?: MonitorOptions | undefined;
  /** What the model allows to be monitored, when the caller has it already (`monitorSupport`). */
  support?: MonitorSupport | undefined;
  /** Aborting it stops the loop between two steps (the generator then returns "cancelled"). */
  signal?: AbortSignal | undefined;
  /** Runs with each batch on the backend before the step trains on it (test-then-train metrics); the step waits for it. */
  beforeStep?: ((batch: Tensor) => Promise<void>) | undefined;
}

/** The loop began (after a resume: where the trainer's counters stand). */
export interface LoopStartedEvent {
  type: 'started';
  /** Epochs and steps the trainer had completed before. */
  epoch: number;
  step: number;
  /** The epoch count the loop trains up to. */
  epochs: number;
  /** Steps in one epoch where known (resident data or `stepsPerEpoch`). */
  stepsPerEpoch?: number;
}

/** One step is done. */
export interface LoopBatchEndEvent {
  type: 'batch-end';
  /** The epoch this step belongs to, counted from 1. */
  epoch: number;
  /** Steps completed so far (the trainer's counter). */
  step: number;
  /** This step's number inside its epoch, from 1. */
  batch: number;
  /** Rows in this step's batch. */
  rows: number;
  /** Whether this is the last step of its epoch (always false for a stream without `stepsPerEpoch`). */
  lastOfEpoch: boolean;
  /** The hyperparameters this step used. */
  learningRate: number;
  momentum: number;
}

/** One epoch is done and checked for divergence; `report` holds its metrics. */
export interface LoopEpochEndEvent {
  type: 'epoch-end';
  report: EpochReport;
  /** The epoch count the loop trains up to. */
  epochs: number;
}

/** What {@link trainingLoop} yields. */
export type LoopEvent = LoopStartedEvent | LoopBatchEndEvent | LoopEpochEndEvent;

/** How the loop ended: it reached `untilEpoch`, the data ended (a stream with `stepsPerEpoch`), or `signal` aborted it. */
export type LoopEnd = 'completed' | 'data-ended' | 'cancelled';

/**
 * The one training loop: epochs of minibatches through `trainer.trainStep`, as typed events.
 * It owns the position (the trainer's epoch and step counters, a resume inside an epoch), the
 * row order (the trainer's seeded shuffle stream), the visible-bias initialisation, the epoch
 * reports (`EpochMonitor`) and the divergence check at every epoch end (a DivergenceError after
 * the last good parameters and counters are put back). `Trainer.fit` consumes it, the pipeline's
 * `train()` wraps it as an Observable; stopping the iteration (`break`, `return()`) or aborting
 * `options.signal` stops it between two steps.
 *
 * The visible bias is set from the data means (logit; the first batch's for a stream) before
 * the first step of a trainer with `initVisibleBiasFromData`, only while the visible layer's
 * parameters are all zero: a loaded or hand-set model is left as it is, learning rate 0 or not.
 */
export async function* trainingLoop(trainer: Trainer, data: TrainingData, options: TrainingLoopOptions): AsyncGenerator<LoopEvent, LoopEnd, void> {
  const model = trainer.model;
  const visible = model.layers[0]!;
  const until = options.untilEpoch;
  if (until !== Infinity) checkInteger('untilEpoch', until, 0);
  const signal = options.signal;
  const resident = data instanceof Matrix ? data : undefined;
  if (resident) visible.validate(resident, 'training data');
  if (options.validation !== undefined) visible.validate(options.validation, 'validation data');
  if (until !== Infinity) trainer.checkSchedules(until);
  if (options.monitor?.rows !== undefined) checkInteger('monitor.rows', options.monitor.rows);
  const batchSize = resident ? Math.min(trainer.config.batchSize, resident.rows) : 0;
  const stepsPerEpoch = resident ? Math.ceil(resident.rows / batchSize) : (data as BatchStream).stepsPerEpoch;
  const monitor = new EpochMonitor(model, trainer.config.seed, options.monitor ?? {}, { train: resident, validation: options.validation }, options.support);
  try {
    const started: LoopStartedEvent = { type: 'started', epoch: trainer.epoch, step: trainer.step, epochs: until };
    if (stepsPerEpoch !== undefined) started.stepsPerEpoch = stepsPerEpoch;
    yield started;
    if (trainer.epoch >= until) return 'completed';
    if (resident) {
      if (await biasDue(trainer)) visible.initializeFromData?.(columnMeans(resident));
      return yield* residentEpochs(resident);
    }
    return yield* streamEpochs(data as BatchStream);
  } finally {
    monitor.dispose();
  }
  function aborted(): boolean {
    return signal?.aborted === true;
  }

  /** One step on a batch on the backend; the event it makes. */
  async function step(batch: Tensor, index: number, lastOfEpoch: boolean): Promise<LoopBatchEndEvent> {
    if (options.beforeStep) await options.beforeStep(batch);
    monitor.beforeStep(batch, index);
    const hyper = trainer.hyperparameters();
    await trainer.trainStep(batch, monitor.observer);
    monitor.afterStep(batch);
    return { type: 'batch-end', epoch: trainer.epoch + 1, step: trainer.step, batch: index, rows: batch.rows, lastOfEpoch, ...hyper };
  }

  /** Closes an epoch: the counter, the divergence check, the report. */
  async function endEpoch(startedAt: number): Promise<LoopEpochEndEvent> {
    trainer.epoch += 1;
    const last = trainer.lastHyperparameters;
    await trainer.checkFinite(`in epoch ${trainer.epoch}`, ` (learning rate ${last.learningRate}, momentum ${last.momentum})`);
    const report = await monitor.report({ epoch: trainer.epoch, step: trainer.step, ...last }, startedAt);
    return { type: 'epoch-end', report, epochs: until };
  }

  async function* residentEpochs(matrix: Matrix): AsyncGenerator<LoopEvent, LoopEnd, void> {
    const be = model.backend;
    const n = matrix.rows;
    const steps = Math.ceil(n / batchSize);
    const rows = be.upload(matrix);
    try {
      // A checkpoint written inside an epoch resumes inside it.
      let offset = trainer.step - trainer.epoch * steps;
      if (!(offset > 0 && offset < steps)) offset = 0;
      await trainer.checkFinite(`before epoch ${trainer.epoch + 1}`);
      while (trainer.epoch < until) {
        const startedAt = performance.now();
        monitor.startEpoch(steps);
        const order = offset > 0 ? orderOfEpochInProgress(trainer, n) : trainer.config.shuffle ? trainer.shuffleRng.permutation(n) : identity(n);
        for (let b = offset; b < steps; b++) {
          if (aborted()) return 'cancelled';
          const start = b * batchSize;
          const count = Math.min(batchSize, n - start);
          const batch = model.workspace.get('training-loop:batch', count, visible.size);
          be.gatherRows(rows, order.subarray(start, start + count), batch);
          yield await step(batch, b + 1, b + 1 === steps);
        }
        offset = 0;
        yield await endEpoch(startedAt);
      }
      return 'completed';
    } finally {
      be.dispose(rows);
    }
  }

  async function* streamEpochs(stream: BatchStream): AsyncGenerator<LoopEvent, LoopEnd, void> {
    const steps = stream.stepsPerEpoch;
    let iterator: AsyncIterator<Matrix> | undefined;
    const close = () => {
      const it = iterator;
      iterator = undefined;
      void it?.return?.();
    };
    signal?.addEventListener('abort', close);
    let total = 0;
    let biasChecked = false;
    /** The next batch, validated and on the backend; undefined when the stream is done; null when aborted. */
    const next = async (index: number): Promise<Tensor | undefined | null> => {
      if (aborted()) return null;
      const result = await iterator!.next();
      if (aborted()) return null;
      if (result.done) return undefined;
      const m = result.value;
      visible.validate(m, `batch ${index} of epoch ${trainer.epoch + 1}`);
      if (!biasChecked) {
        biasChecked = true;
        if (await biasDue(trainer)) visible.initializeFromData?.(columnMeans(m));
      }
      const t = model.workspace.get('training-loop:stream-batch', m.rows, m.cols);
      model.backend.write(t, m);
      total += 1;
      return t;
    };
    try {
      await trainer.checkFinite(`before epoch ${trainer.epoch + 1}`);
      if (steps === undefined) {
        // One stream per epoch, from open to done.
        while (trainer.epoch < until) {
          const startedAt = performance.now();
          monitor.startEpoch(undefined);
          iterator = stream.open({ epoch: trainer.epoch, step: trainer.step });
          let index = 0;
          for (;;) {
            const batch = await next(index + 1);
            if (batch === null) return 'cancelled';
            if (batch === undefined) break;
            index += 1;
            yield await step(batch, index, false);
          }
          close();
          if (index === 0) throw new InvalidValueError(`the data stream completed without a batch in epoch ${trainer.epoch + 1}: the data is empty`);
          yield await endEpoch(startedAt);
        }
        return 'completed';
      }
      // One stream for all epochs of `steps` steps.
      iterator = stream.open({ epoch: trainer.epoch, step: trainer.step });
      let offset = trainer.step - trainer.epoch * steps;
      if (!(offset > 0 && offset < steps)) offset = 0;
      while (trainer.epoch < until) {
        const startedAt = performance.now();
        monitor.startEpoch(steps);
        for (let b = offset; b < steps; b++) {
          const batch = await next(b + 1);
          if (batch === null) return 'cancelled';
          if (batch === undefined) {
            if (total === 0) throw new InvalidValueError('the data stream completed without a batch: the data is empty');
            return 'data-ended';
          }
          yield await step(batch, b + 1, b + 1 === steps);
        }
        offset = 0;
        yield await endEpoch(startedAt);
      }
      return 'completed';
    } finally {
      signal?.removeEventListener('abort', close);
      close();
    }
  }
}

/** Whether the visible bias is to be set from the data now: a trainer's first step, asked for, the visible layer still blank. */
async function biasDue(trainer: Trainer): Promise<boolean> {
  return trainer.step === 0 && trainer.config.initVisibleBiasFromData && (await layerIsBlank(trainer.model, 0));
}

/** Whether every parameter of layer `l` is exactly zero (never initialised or trained). */
async function layerIsBlank(model: EnergyModel, l: number): Promise<boolean> {
  for (const p of model.layers[l]!.parameters) if ((await model.backend.reduce('sumAbs', p.tensor)) !== 0) return false;
  return true;
}

/**
 * The row order of the epoch a mid-epoch checkpoint interrupted: it was drawn with one op of
 * the shuffle stream at the epoch start, so the stream one op back draws it again.
 */
function orderOfEpochInProgress(trainer: Trainer, n: number): Uint32Array {
  if (!trainer.config.shuffle) return identity(n);
  const state = trainer.shuffleRng.snapshot();
  if (state.counter < 1) throw new InvalidValueError(`the trainer is inside epoch ${trainer.epoch + 1} (step ${trainer.step}) but its shuffle stream has drawn no row order`);
  return CounterRng.fromState({ ...state, counter: state.counter - 1 }).permutation(n);
}

/** Column means in float64 (for the visible-bias initialisation). */
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
