import { InvalidValueError, Matrix, ShapeError, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { checkInteger } from '../validation.js';
import { epochLoop, type BatchStream, type EpochLoopEvent, type Learner, type LoopEnd } from './epoch-loop.js';
import { EpochMonitor, type MonitorOptions } from './epoch-monitor.js';
import type { MonitorSupport } from './monitoring.js';
import type { EpochReport, StepOptions, Trainer } from './trainer.js';

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

/** What the loop trains on: rows resident on the backend (shuffled by the loop; with missing values or given values or not), or a stream of batches (each a Matrix or TrainingRows). */
export type TrainingData = Matrix | TrainingRows | BatchStream<Matrix | TrainingRows>;

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

/** What {@link trainingLoop} yields. */
export type LoopEvent = EpochLoopEvent<EpochReport>;

/**
 * An energy model's training as the one epoch loop (`epochLoop`) yields it: the trainer's
 * steps (`trainer.trainStep`) on the data's rows, its counters and seeded shuffle stream as the
 * position and the row order, `EpochMonitor`'s reports, and at every epoch end the trainer's
 * divergence check (a DivergenceError after the last good parameters and counters are put
 * back). `Trainer.fit` consumes it, the pipeline's `train()` wraps it as an Observable;
 * stopping the iteration (`break`, `return()`) or aborting `options.signal` stops it between
 * two steps.
 *
 * Training rows (resident or streamed) may carry a mask of missing values and the values of
 * the model's given layers (`TrainingRows`); both go through every step with their rows.
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
  const rowsOf: TrainingRows | undefined = data instanceof Matrix ? { visible: data } : isTrainingRows(data) ? data : undefined;
  const resident = rowsOf ? checkRows(model, rowsOf, 'training data') : undefined;
  if (options.validation !== undefined) visible.validate(options.validation, 'validation data');
  if (until !== Infinity) trainer.checkSchedules(until);
  if (options.monitor?.rows !== undefined) checkInteger('monitor.rows', options.monitor.rows);
  const monitor = new EpochMonitor(model, trainer.config.seed, options.monitor ?? {}, { train: rowsOf?.visible, validation: options.validation }, options.support);
  /** The parts after the visible values: a mask (if any), then the given layers' values in layer order. */
  let layout: PartLayout | undefined = resident?.layout;
  let biasChecked = false;
  const learner: Learner<EpochReport, Matrix | TrainingRows> = {
    get epoch() {
      return trainer.epoch;
    },
    set epoch(e: number) {
      trainer.epoch = e;
    },
    get step() {
      return trainer.step;
    },
    batchSize: trainer.config.batchSize,
    shuffle: trainer.config.shuffle,
    get shuffleRng() {
      return trainer.shuffleRng;
    },
    backend: model.backend,
    workspace: model.workspace,
    hyperparameters: () => trainer.hyperparameters(),
    get lastHyperparameters() {
      return trainer.lastHyperparameters;
    },
    begin: async () => {
      if (rowsOf === undefined) return;
      biasChecked = true;
      if (await biasDue(trainer)) visible.initializeFromData?.(columnMeans(rowsOf.visible, rowsOf.mask));
    },
    startEpoch: (steps) => monitor.startEpoch(steps),
    trainBatch: async (parts, index) => {
      const batch = parts[0]!;
      if (options.beforeStep) await options.beforeStep(batch);
      monitor.beforeStep(batch, index);
      await trainer.trainStep(batch, { ...stepExtras(parts, layout!, model.layers.length), observer: monitor.observer });
      monitor.afterStep(batch);
    },
    checkFinite: (where, hint) => trainer.checkFinite(where, hint),
    report: (position, startedAt) => monitor.report(position, startedAt),
    checkEpoch: (report, _where, hint) => trainer.checkEpoch(report, hint),
    streamBatch: async (value, label) => {
      const rows = value instanceof Matrix ? { visible: value } : value;
      const checked = checkRows(model, rows, label);
      if (layout === undefined) layout = checked.layout;
      else if (layout.mask !== checked.layout.mask) throw new InvalidValueError(`${label} ${checked.layout.mask ? 'has' : 'lacks'} a mask of missing values, unlike the batches before it`);
      if (!biasChecked) {
        biasChecked = true;
        if (await biasDue(trainer)) visible.initializeFromData?.(columnMeans(rows.visible, rows.mask));
      }
      return checked.parts.map((m, i) => {
        const t = model.workspace.get(`training-loop:stream-part:${i}`, m.rows, m.cols);
        model.backend.write(t, m);
        return t;
      });
    },
  };
  try {
    return yield* epochLoop(learner, resident ? { rows: resident.parts } : { stream: data as BatchStream<Matrix | TrainingRows> }, until, options.signal);
  } finally {
    monitor.dispose();
  }
}

/** Where a batch's parts go: after the visible values, a mask (when `mask`), then the given layers' values (`given`: their layer indices, in order). */
interface PartLayout {
  mask: boolean;
  given: readonly number[];
}

/** Training rows checked (shape, values, mask, given layers) and laid out as row-aligned parts. */
function checkRows(model: EnergyModel, rows: TrainingRows, label: string): { parts: Matrix[]; layout: PartLayout } {
  if (rows.mask !== undefined) checkMask(rows.mask, rows.visible);
  model.layers[0]!.validate(rows.visible, label, rows.mask);
  const given = givenOf(model, rows);
  const layers = given.flatMap((m, l) => (m ? [l] : []));
  return {
    parts: [rows.visible, ...(rows.mask ? [rows.mask] : []), ...layers.map((l) => given[l]!)],
    layout: { mask: rows.mask !== undefined, given: layers },
  };
}

/** The step's mask and given values from a batch's parts. */
function stepExtras(parts: readonly Tensor[], layout: PartLayout, layerCount: number): StepOptions {
  const extras: StepOptions = {};
  let i = 1;
  if (layout.mask) extras.visibleMask = parts[i++]!;
  if (layout.given.length > 0) {
    const given: (Tensor | undefined)[] = new Array<Tensor | undefined>(layerCount).fill(undefined);
    for (const l of layout.given) given[l] = parts[i++]!;
    extras.given = given;
  }
  return extras;
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
