import { CounterRng, InvalidValueError, Matrix, ShapeError, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { checkInteger } from '../validation.js';
import { EpochMonitor, type MonitorOptions } from './epoch-monitor.js';
import type { MonitorSupport } from './monitoring.js';
import type { EpochReport, StepOptions, Trainer } from './trainer.js';

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

/**
 * Training rows that carry more than the visible values, row by row: which values are known
 * (missing ratings), and the values of the model's given layers (a conditional RBM's past).
 */
export interface TrainingRows {
  /** One example per row (a missing value is 0). */
  visible: Matrix;
  /**
   * 0/1 per visible value, the shape of `visible`: 0 where the value is missing (an item the
   * user did not rate). A missing value is left out of both phases of every step (see
   * `StepContext.visibleMask`) and out of the visible-bias initialisation.
   */
  mask?: Matrix;
  /**
   * The values of the model's given layers (`UnsampledLayer`), by layer name, one row per
   * example: clamped in both phases of every step (see `StepContext.given`).
   */
  given?: Readonly<Record<string, Matrix>>;
}

/** What the loop trains on: rows resident on the backend (shuffled by the trainer; with missing values or not), or a stream of batches. */
export type TrainingData = Matrix | TrainingRows | BatchStream;

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
  const rowsOf: TrainingRows | undefined = data instanceof Matrix ? { visible: data } : isTrainingRows(data) ? data : undefined;
  const resident = rowsOf?.visible;
  const mask = rowsOf?.mask;
  if (resident && mask !== undefined) checkMask(mask, resident);
  if (resident) visible.validate(resident, 'training data', mask);
  const given = rowsOf ? givenOf(model, rowsOf) : [];
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
      if (await biasDue(trainer)) visible.initializeFromData?.(columnMeans(resident, mask));
      return yield* residentEpochs(resident, mask, given);
    }
    return yield* streamEpochs(data as BatchStream);
  } finally {
    monitor.dispose();
  }
  function aborted(): boolean {
    return signal?.aborted === true;
  }

  /** One step on a batch on the backend; the event it makes. */
  async function step(batch: Tensor, index: number, lastOfEpoch: boolean, extras: StepOptions = {}): Promise<LoopBatchEndEvent> {
    if (options.beforeStep) await options.beforeStep(batch);
    monitor.beforeStep(batch, index);
    const hyper = trainer.hyperparameters();
    await trainer.trainStep(batch, { ...extras, observer: monitor.observer });
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

  async function* residentEpochs(matrix: Matrix, mask: Matrix | undefined, given: readonly (Matrix | undefined)[]): AsyncGenerator<LoopEvent, LoopEnd, void> {
    const be = model.backend;
    const n = matrix.rows;
    const steps = Math.ceil(n / batchSize);
    const rows = be.upload(matrix);
    const masks = mask ? be.upload(mask) : undefined;
    const givenRows = given.map((m) => (m ? be.upload(m) : undefined));
    const givenBatch: (Tensor | undefined)[] = given.map(() => undefined);
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
          const picked = order.subarray(start, start + count);
          be.gatherRows(rows, picked, batch);
          const extras: StepOptions = {};
          if (masks) {
            extras.visibleMask = model.workspace.get('training-loop:mask', count, visible.size);
            be.gatherRows(masks, picked, extras.visibleMask);
          }
          if (given.length > 0) {
            givenRows.forEach((t, l) => {
              if (t === undefined) return;
              givenBatch[l] = model.workspace.get(`training-loop:given:${l}`, count, t.cols);
              be.gatherRows(t, picked, givenBatch[l]!);
            });
            extras.given = givenBatch;
          }
          yield await step(batch, b + 1, b + 1 === steps, extras);
        }
        offset = 0;
        yield await endEpoch(startedAt);
      }
      return 'completed';
    } finally {
      be.dispose(rows);
      if (masks) be.dispose(masks);
      for (const t of givenRows) if (t) be.dispose(t);
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

/** Column means in float64 over the known values (all, without a mask; 0 for a column with none), for the visible-bias initialisation. */
function columnMeans(m: Matrix, mask?: Matrix): Float64Array {
  const out = new Float64Array(m.cols);
  const known = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      const w = mask ? mask.data[r * m.cols + c]! : 1;
      out[c]! += w * m.data[r * m.cols + c]!;
      known[c]! += w;
    }
  }
  for (let c = 0; c < m.cols; c++) out[c] = known[c]! > 0 ? out[c]! / known[c]! : 0;
  return out;
}

/**
 * The given values of `rows` by layer index (an empty list for a model without given layers);
 * throws unless every given layer has valid values, one row per example, and nothing else.
 */
function givenOf(model: EnergyModel, rows: TrainingRows): (Matrix | undefined)[] {
  const layers = model.givenLayers();
  const named = rows.given ?? {};
  for (const name of Object.keys(named)) {
    const l = model.layerIndex(name);
    if (!model.isGiven(l)) throw new InvalidValueError(`training rows give values for layer "${name}", which is not a given (unsampled) layer`);
  }
  if (layers.length === 0) return [];
  const out: (Matrix | undefined)[] = model.layers.map(() => undefined);
  for (const l of layers) {
    const layer = model.layers[l]!;
    const m = named[layer.name];
    if (m === undefined) throw new InvalidValueError(`layer "${layer.name}" holds given values: the training rows need them (given.${layer.name})`);
    if (m.rows !== rows.visible.rows) throw new ShapeError(`the given values of layer "${layer.name}" have ${m.rows} rows, the training data ${rows.visible.rows}`);
    layer.validate(m, `given values of layer "${layer.name}"`);
    out[l] = m;
  }
  return out;
}

function isTrainingRows(data: TrainingData): data is TrainingRows {
  return typeof data === 'object' && data !== null && (data as TrainingRows).visible instanceof Matrix;
}

/** A mask of missing values: the shape of the data, 0 or 1 everywhere, and a missing value is 0. */
function checkMask(mask: Matrix, data: Matrix): void {
  if (!(mask instanceof Matrix)) throw new InvalidValueError('the mask of missing values must be a Matrix');
  if (mask.rows !== data.rows || mask.cols !== data.cols) throw new ShapeError(`the mask of missing values is ${mask.rows} x ${mask.cols}, the training data ${data.rows} x ${data.cols}`);
  for (let i = 0; i < mask.data.length; i++) {
    const x = mask.data[i]!;
    const where = `row ${Math.floor(i / mask.cols)}, col ${i % mask.cols}`;
    if (x !== 0 && x !== 1) throw new InvalidValueError(`the mask of missing values must hold 0 or 1, got ${x} at ${where}`);
    if (x === 0 && data.data[i] !== 0) throw new InvalidValueError(`training data has ${data.data[i]} at ${where}, which the mask marks missing: a missing value must be 0`);
  }
}

function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
