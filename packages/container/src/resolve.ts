import {
  UnsupportedModelError,
  Trainer,
  buildModel,
  loadModel,
  monitorSupport,
  type MonitoredMetric,
  type MonitorSupport,
  type EnergyModel,
  type Metric,
  type ModelSpec,
  type Regularizer,
  type Sampler,
  type Schedule,
  type ScheduleSpec,
  type TrainingRows,
} from '@boltzmann/core';
import { checkStoppingMetric, defaultStoppingMetric, isBrokerSource, type BrokerSource } from '@boltzmann/pipeline';
import { CounterRng, InvalidValueError, Matrix, assertFinite, type Backend } from '@boltzmann/tensor';
import type { BoltzmannContainer } from './boltzmann-container.js';
import type { ComponentCatalog } from './catalog.js';
import { SpecError } from './spec/spec-error.js';
import type { MetricSpec, RunSpec } from './spec/types.js';
import { metricName, stoppingMetricIssues } from './spec/validate.js';
import type { Dataset, StreamDataset } from './tokens.js';

/** The stream of the seeded train / validation split. */
const SPLIT_STREAM = 20;

/** Metrics the Trainer itself scores at each epoch end when listed (the rest are always reported or scored by the caller). */
const TRAINER_MONITORED = ['freeEnergy', 'pseudoLogLikelihood'];
/** Metrics every EpochReport carries (NaN where the model cannot give them). */
const ALWAYS_REPORTED = ['reconstructionError', 'meanHiddenActivation'];
/** Whether a metric listed by name is one the trainer / pipeline scores itself (named as `monitorSupport` names it). */
function isMonitored(name: string): name is MonitoredMetric {
  return TRAINER_MONITORED.includes(name) || ALWAYS_REPORTED.includes(name);
}

/** Options of `resolveRun`. */
export interface ResolveOptions {
  /** A model file saved with its training state: continue that run instead of starting one. */
  resume?: string;
  /** Relative data paths start here (the spec file's directory); default the working directory. */
  baseDir?: string;
  /**
   * Accept a stream source (a message broker: `data` is then a `StreamRunData`); without it a
   * spec naming one is a SpecError at "data.source", and `data` is always resident rows.
   */
  streams?: boolean;
}

/** The examples of a run, split. */
export interface RunData {
  /** Training rows (after the seeded shuffle, the limit and the split): their visible values. */
  readonly train: Matrix;
  /** Held-out rows (visible values); undefined when `data.validationSplit` is 0. */
  readonly validation: Matrix | undefined;
  /**
   * The training rows as the model trains on them (its `rowsForTraining`: a recommender's mask
   * of unrated items, a conditional RBM's past frames); `visible` is `train`.
   */
  readonly trainRows: TrainingRows;
  /** [height, width] when the rows are images. */
  readonly imageShape: readonly [number, number] | undefined;
  readonly description: string;
  /** Resident data has no stream (see `StreamRunData`). */
  readonly stream?: undefined;
}

/** The rows of a run on a stream source (a message broker): nothing resident, nothing held out. */
export interface StreamRunData {
  /** The source, not yet opened (the run opens it at the position its trainer saved). */
  readonly stream: BrokerSource;
  readonly train?: undefined;
  readonly validation?: undefined;
  readonly trainRows?: undefined;
  /** [height, width] when the rows are images. */
  readonly imageShape: readonly [number, number] | undefined;
  readonly description: string;
}

/** A metric listed in the spec that the Trainer does not score itself (a plugin's, or core's with options). */
export interface ExtraMetric {
  readonly name: string;
  /** The instance for the training subset. */
  readonly metric: Metric;
  /** A second instance for the held-out rows (undefined without held-out data). */
  readonly heldOut: Metric | undefined;
}

/** A run spec turned into objects: everything the `train` command (or a pipeline) needs. */
export interface ResolvedRun<D extends RunData | StreamRunData = RunData> {
  /** The validated spec it came from. */
  readonly spec: RunSpec;
  readonly backend: Backend;
  readonly model: EnergyModel;
  readonly trainer: Trainer;
  readonly data: D;
  /** What `Trainer.fit`'s `monitor` option should be for the listed metrics. */
  readonly monitor: { freeEnergy: boolean; pseudoLikelihood: boolean; rows: number };
  /** Listed metrics to score at each epoch end besides the Trainer's (see `scoreExtraMetrics`). */
  readonly extraMetrics: readonly ExtraMetric[];
  /**
   * Metrics listed by name that this model cannot give, with the reason (core's
   * `monitorSupport`): not scored (freeEnergy, pseudoLogLikelihood) or reported as NaN
   * (reconstructionError, meanHiddenActivation). E.g. pseudoLogLikelihood on Gaussian visible
   * units, freeEnergy on a DBM.
   */
  readonly skippedMetrics: readonly { readonly name: string; readonly reason: string }[];
  /**
   * The sampler of `output.samples.sampler` for this model (samples.png), built before
   * training so that bad options fail the run at the start (a SpecError at that field).
   * Undefined when the sampler cannot sample this model (see `samplesSkipped`).
   */
  readonly sampler: Sampler | undefined;
  /** Why no samples can be drawn (the sampler's `UnsupportedModelError`, e.g. "gibbs" on a graph with an odd cycle); undefined when `sampler` is set. */
  readonly samplesSkipped: string | undefined;
  /** Whether the model and trainer came from `options.resume`. */
  readonly resumed: boolean;
  /** Epochs still to train: `training.epochs` minus those the (resumed) trainer has done. */
  readonly remainingEpochs: number;
  /** Frees the trainer's, the metrics', the model's and the backend's memory. */
  dispose(): void;
}

/**
 * Builds the objects of a validated spec through the container: the backend, the data (from
 * its source, shuffled with the seed, limited and split), the model (or the one in
 * `options.resume`, which must match the spec's layers), and a Trainer with the spec's
 * estimator, optimizer, regularizers and schedules, and the sampler of samples.png. A
 * component that rejects its options gives a SpecError naming the field
 * ("training.regularizers[0]: ...", "output.samples.sampler: ..."); a sampler that cannot
 * sample the model leaves `sampler` undefined and says why in `samplesSkipped`.
 */
export async function resolveRun(container: BoltzmannContainer, spec: RunSpec, options: ResolveOptions & { streams: true }): Promise<ResolvedRun<RunData | StreamRunData>>;
export async function resolveRun(container: BoltzmannContainer, spec: RunSpec, options?: ResolveOptions & { streams?: false }): Promise<ResolvedRun>;
export async function resolveRun(container: BoltzmannContainer, spec: RunSpec, options: ResolveOptions = {}): Promise<ResolvedRun<RunData | StreamRunData>> {
  const catalog = container.catalog;
  const backend = createRunBackend(container, spec);
  const cleanup: (() => void)[] = [() => backend.destroy()];
  try {
    const loaded = await loadDataset(container, spec, options);
    if (isStream(loaded)) {
      cleanup.push(() => void loaded.stream.close());
      if (options.streams !== true) throw new SpecError([{ path: 'data.source', message: `"${spec.data.source.type}" is a stream source (${loaded.description}); this caller trains on resident rows only (resolveRun with { streams: true } takes streams)` }]);
    }
    const visible = spec.model.layers[0]!;
    checkStepsPerEpoch(spec, loaded);
    if (!isStream(loaded) && loaded.data.cols !== visible.size) {
      throw new SpecError([{ path: 'model.layers[0].size', message: `the data has ${loaded.data.cols} columns (${loaded.description}) but layer "${visible.name}" has ${visible.size} units` }]);
    }

    let model: EnergyModel;
    let trainer: Trainer;
    const resumed = options.resume !== undefined;
    if (options.resume !== undefined) {
      const loaded = loadModel(options.resume, backend, { components: catalog.components });
      cleanup.push(() => loaded.model.dispose());
      if (loaded.trainer === undefined) throw new SpecError([{ path: '--resume', message: `${options.resume} holds a model without training state, so it cannot be resumed` }]);
      cleanup.push(() => loaded.trainer!.dispose());
      checkSameModel(spec, loaded.model.spec(), options.resume);
      model = loaded.model;
      trainer = loaded.trainer;
    } else {
      model = buildRunModel(catalog, backend, spec);
      cleanup.push(() => model.dispose());
      trainer = buildTrainer(catalog, model, spec);
      cleanup.push(() => trainer.dispose());
    }
    let data: RunData | StreamRunData;
    if (isStream(loaded)) {
      // Each batch is checked as it arrives (a row out of the visible units' range is refused alone).
      data = { stream: loaded.stream, imageShape: loaded.imageShape, description: loaded.description };
    } else {
      // The model says what its examples are (windows of a sequence, ratings with unrated items), then they are split.
      const rows = at('data', () => model.rowsForTraining(loaded.data));
      // Rows as the source gave them are checked first, so a bad value is named by its origin (file and line), not by its row after the shuffle.
      if (rows.visible === loaded.data && rows.mask === undefined && loaded.rowOrigin !== undefined) at('model.layers[0]', () => validateInSourceOrder(model, loaded.data, loaded.rowOrigin!));
      const split = splitData(loaded, rows, spec);
      at('model.layers[0]', () => {
        model.layers[0]!.validate(split.train, 'training data', split.trainRows.mask);
        if (split.validation) model.layers[0]!.validate(split.validation, 'validation data', split.validationMask);
      });
      data = split;
    }
    let sampler: Sampler | undefined;
    let samplesSkipped: string | undefined;
    try {
      sampler = buildSampler(container, model, spec);
    } catch (error) {
      if (!(error instanceof UnsupportedModelError)) throw asSpecError('output.samples.sampler', error);
      samplesSkipped = `output.samples.sampler: ${error.message}`;
    }

    // Built-in metrics listed by name that the model cannot give are skipped with the reason, not scored into an error.
    const support = monitorSupport(model);
    const skippedMetrics = spec.training.metrics.flatMap((m) => {
      // Metrics scored on kept rows (a plugin's, or core's with options) have none to score with a stream.
      if (data.stream !== undefined && !(typeof m === 'string' && isMonitored(m))) return [{ name: metricName(m), reason: 'a stream source keeps no rows to score it on' }];
      const reason = typeof m === 'string' && isMonitored(m) ? support[m] : undefined;
      return reason === undefined ? [] : [{ name: m as string, reason }];
    });
    const names = spec.training.metrics.map(metricName).filter((name) => !skippedMetrics.some((s) => s.name === name));
    const monitor = { freeEnergy: names.includes('freeEnergy'), pseudoLikelihood: names.includes('pseudoLogLikelihood'), rows: spec.training.monitorRows };
    checkEarlyStopping(spec, model, data, monitor, support);
    const extraMetrics = spec.training.metrics.flatMap((m, i): ExtraMetric[] => {
      const name = metricName(m);
      if (typeof m === 'string' && isMonitored(name)) return [];
      const make = () => at(`training.metrics[${i}]`, () => catalog.factory('metric', name)(model, { ...metricOptions(m), seed: spec.seed }));
      const metric = make();
      cleanup.push(() => metric.dispose());
      const heldOut = data.validation ? make() : undefined;
      if (heldOut) cleanup.push(() => heldOut.dispose());
      return [{ name, metric, heldOut }];
    });
    const run: ResolvedRun<RunData | StreamRunData> = {
      spec,
      backend,
      model,
      trainer,
      data,
      monitor,
      extraMetrics,
      skippedMetrics,
      sampler,
      samplesSkipped,
      resumed,
      remainingEpochs: Math.max(0, spec.training.epochs - trainer.epoch),
      dispose: () => disposeAll(cleanup),
    };
    return run;
  } catch (error) {
    disposeAll(cleanup);
    throw error;
  }
}

/**
 * The early-stopping checks that need the built model, as SpecErrors at
 * "training.earlyStopping.metric": a named metric the model cannot give (the pipeline's
 * `checkStoppingMetric`), and for a metric left out, the default the run will watch (the
 * pipeline's `defaultStoppingMetric`: the pseudo-log-likelihood where the model gives it, else
 * the free-energy gap or the reconstruction error) with what it needs from the spec. The
 * default is taken as if the pseudo-likelihood were monitored, so a model that gives it must
 * list it ("needs "pseudoLogLikelihood" in training.metrics") rather than fall back.
 */
function checkEarlyStopping(spec: RunSpec, model: EnergyModel, data: RunData | StreamRunData, monitor: { freeEnergy: boolean }, support: MonitorSupport): void {
  const es = spec.training.earlyStopping;
  if (es === null) return;
  at('training.earlyStopping.metric', () => {
    const context = { validation: data.validation !== undefined, ...(es.split ? { split: es.split } : {}), monitor: { freeEnergy: monitor.freeEnergy } };
    const metric = es.metric ?? defaultStoppingMetric(model, context, support);
    checkStoppingMetric(model, metric, support);
    if (es.metric !== undefined) return; // validateSpec checked what a named metric needs from the spec
    const issues = stoppingMetricIssues(metric, es.split ?? 'validation', spec.training.metrics.map(metricName), spec.data.validationSplit);
    if (issues.length > 0) throw new SpecError(issues);
  });
}

/**
 * The sampler of `output.samples.sampler` for `model`, made through the container. What the
 * factory throws passes through: an UnsupportedModelError when it cannot sample this model,
 * else an error about its options.
 */
export function buildSampler(container: BoltzmannContainer, model: EnergyModel, spec: RunSpec): Sampler {
  const samplerSpec = spec.output.samples.sampler;
  return container.catalog.factory('sampler', samplerSpec.type)(model, samplerSpec);
}

/** The spec's backend, made through the container (errors name "backend"). */
export function createRunBackend(container: BoltzmannContainer, spec: RunSpec): Backend {
  return at('backend', () => container.catalog.factory('backend', spec.backend.name)({ precision: spec.backend.precision }));
}

/**
 * The spec's data: loaded from its source (errors name "data.source"), shuffled with the
 * run's seed, limited and split into training and held-out rows. The same spec and seed give
 * the same split, so `evaluate` can score the rows a `train` run held out.
 */
export async function loadRunData(container: BoltzmannContainer, spec: RunSpec, options: { baseDir?: string } = {}): Promise<RunData> {
  const dataset = await loadDataset(container, spec, options);
  if (isStream(dataset)) {
    await dataset.stream.close();
    throw new SpecError([{ path: 'data.source', message: `"${spec.data.source.type}" is a stream source (${dataset.description}), which holds no rows to score here: give resident data (--data)` }]);
  }
  return splitData(dataset, { visible: dataset.data }, spec);
}

/** The rows of the spec's data source, checked, unsplit; or its stream. */
async function loadDataset(container: BoltzmannContainer, spec: RunSpec, options: { baseDir?: string }): Promise<Dataset | StreamDataset> {
  return atAsync('data.source', async () =>
    checkDataset(
      await container.catalog.factory('dataSource', spec.data.source.type)(spec.data.source, {
        seed: spec.seed,
        baseDir: options.baseDir ?? process.cwd(),
        columns: spec.model.layers[0]!.size,
        ...(spec.data.limit === null ? {} : { limit: spec.data.limit }),
      }),
    ),
  );
}

function isStream(x: Dataset | StreamDataset): x is StreamDataset {
  return 'stream' in x;
}

/**
 * A stream source counts epochs in `training.stepsPerEpoch` steps, acknowledges its messages at
 * checkpoints and holds nothing out; resident data has its own epochs. Each mismatch is a
 * SpecError at its field.
 */
function checkStepsPerEpoch(spec: RunSpec, data: Dataset | StreamDataset): void {
  const type = spec.data.source.type;
  const t = spec.training;
  if (!isStream(data)) {
    if (t.stepsPerEpoch !== null) throw new SpecError([{ path: 'training.stepsPerEpoch', message: `is for stream sources; "${type}" data has ceil(rows / batchSize) steps per epoch (remove it)` }]);
    return;
  }
  const issues = [];
  if (t.stepsPerEpoch === null) issues.push({ path: 'training.stepsPerEpoch', message: `is required with the stream source "${type}" (a stream has no end, so an epoch is this many steps of batchSize rows)` });
  if (t.checkpointEvery < 1) issues.push({ path: 'training.checkpointEvery', message: `must be at least 1 with the stream source "${type}": its messages are acknowledged once a checkpoint holding them is written` });
  if (spec.data.validationSplit !== 0) issues.push({ path: 'data.validationSplit', message: `must be 0 with the stream source "${type}", which keeps no rows to hold out` });
  if (spec.data.limit !== null) issues.push({ path: 'data.limit', message: `is for resident data; a run on the stream source "${type}" trains epochs x stepsPerEpoch x batchSize rows` });
  if (issues.length > 0) throw new SpecError(issues);
}

/** The spec's model through core's `buildModel` with the container's set; a failing part is a SpecError at its field. */
function buildRunModel(catalog: ComponentCatalog, backend: Backend, spec: RunSpec): EnergyModel {
  return buildModel(backend, spec.model, {
    seed: spec.seed,
    weightStd: spec.model.weightStd,
    components: catalog.components,
    onError: (error, where) => asSpecError(where.part === 'kind' ? 'model.kind' : `model.${where.part}[${where.index}]`, error),
  });
}

function buildTrainer(catalog: ComponentCatalog, model: EnergyModel, spec: RunSpec): Trainer {
  const t = spec.training;
  const schedule = (x: number | ScheduleSpec, path: string): number | Schedule =>
    typeof x === 'number' ? x : at(path, () => catalog.factory('schedule', x.type)(x));
  const learningRate = schedule(t.learningRate, 'training.learningRate');
  const momentum = schedule(t.momentum, 'training.momentum');
  const estimator = at('training.estimator', () => catalog.factory('estimator', t.estimator.type)(model, t.estimator));
  try {
    const optimizer = at('training.optimizer', () => catalog.factory('optimizer', t.optimizer.type)(model, t.optimizer));
    try {
      const regularizers: Regularizer[] = t.regularizers.map((r, i) => at(`training.regularizers[${i}]`, () => catalog.factory('regularizer', r.type)(r)));
      return at('training', () =>
        new Trainer(model, {
          learningRate,
          momentum,
          batchSize: t.batchSize,
          estimator,
          optimizer,
          weightDecay: t.weightDecay,
          regularizers,
          seed: spec.seed,
          shuffle: t.shuffle,
          initVisibleBiasFromData: t.initVisibleBiasFromData,
          divergenceFactor: t.divergenceFactor,
          components: catalog.components,
        }),
      );
    } catch (error) {
      optimizer.dispose();
      throw error;
    }
  } catch (error) {
    estimator.dispose();
    throw error;
  }
}

/** Shuffles the rows with the run's seed, keeps `limit`, and holds out `validationSplit` of them. */
function splitData(dataset: Dataset, rows: TrainingRows, spec: RunSpec): RunData & { validationMask: Matrix | undefined } {
  const data = rows.visible;
  const order = new CounterRng(spec.seed, SPLIT_STREAM).permutation(data.rows);
  const n = Math.min(data.rows, spec.data.limit ?? data.rows);
  const split = spec.data.validationSplit;
  const held = split > 0 ? Math.max(1, Math.round(n * split)) : 0;
  if (n - held < 1) {
    throw new SpecError([{ path: 'data.validationSplit', message: `holding out ${held} of ${n} rows leaves none to train on` }]);
  }
  const trainIndices = order.subarray(held, n);
  const heldIndices = order.subarray(0, held);
  const trainRows: TrainingRows = { visible: data.gatherRows(trainIndices) };
  if (rows.mask) trainRows.mask = rows.mask.gatherRows(trainIndices);
  if (rows.given) trainRows.given = Object.fromEntries(Object.entries(rows.given).map(([name, m]) => [name, m.gatherRows(trainIndices)]));
  return {
    train: trainRows.visible,
    validation: held > 0 ? data.gatherRows(heldIndices) : undefined,
    validationMask: held > 0 && rows.mask ? rows.mask.gatherRows(heldIndices) : undefined,
    trainRows,
    imageShape: dataset.imageShape,
    description: rows.visible === dataset.data ? dataset.description : `${dataset.description}, as ${data.rows} training rows of the ${spec.model.kind}`,
  };
}

/**
 * Validates `data` against the visible layer; on a bad value, finds the first bad row and
 * throws its error with the row named by its origin ("at /x.csv line 17, col 3" for "at row 16,
 * col 3"). The row-by-row search runs only on the error path.
 */
function validateInSourceOrder(model: EnergyModel, data: Matrix, origin: (row: number) => string): void {
  const layer = model.layers[0]!;
  try {
    layer.validate(data, 'the data');
  } catch (error) {
    for (let r = 0; r < data.rows; r++) {
      try {
        layer.validate(data.sliceRows(r, r + 1), 'the data');
      } catch (rowError) {
        const message = (rowError as Error).message;
        const named = /\brow 0\b/.test(message) ? message.replace(/\brow 0\b/, origin(r)) : `${origin(r)}: ${message}`;
        throw Object.assign(new InvalidValueError(named), { cause: rowError });
      }
    }
    throw error;
  }
}

function checkDataset(x: Dataset | StreamDataset): Dataset | StreamDataset {
  if (typeof x === 'object' && x !== null && isStream(x)) {
    if (!isBrokerSource(x.stream)) throw new TypeError('the data source returned a { stream } that is not a broker source');
    return x;
  }
  if (typeof x !== 'object' || x === null || !(x.data instanceof Matrix)) throw new TypeError('the data source returned no { data: Matrix, description }');
  assertFinite('the data', x.data);
  return x;
}

/** The spec's model must be the one in the resumed file (same kind, layers and connections). */
function checkSameModel(spec: RunSpec, saved: ModelSpec, file: string): void {
  const describe = (m: { kind: string; layers: readonly { type: string; name: string; size: number }[]; connections: readonly { type: string; name: string; from: string; to: string }[] }) =>
    `${m.kind}: ${m.layers.map((l) => `${l.name} (${l.size} ${l.type})`).join(', ')}; ${m.connections.map((c) => `${c.name} ${c.type} ${c.from}->${c.to}`).join(', ')}`;
  const want = describe(spec.model);
  const have = describe(saved);
  if (want !== have) throw new SpecError([{ path: 'model', message: `does not match the model in ${file}: the spec has ${want}, the file ${have}` }]);
}

function metricOptions(m: MetricSpec): Record<string, unknown> {
  if (typeof m === 'string') return {};
  const { name: _name, ...rest } = m;
  return rest;
}

/** Runs `fn`, turning what it throws into a SpecError at `path` (SpecErrors pass through). */
function at<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw asSpecError(path, error);
  }
}

async function atAsync<T>(path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw asSpecError(path, error);
  }
}

function asSpecError(path: string, error: unknown): Error {
  if (error instanceof SpecError) return error;
  const e = error instanceof Error ? error : new Error(String(error));
  const wrapped = new SpecError([{ path, message: e.message }]);
  wrapped.cause = e;
  return wrapped;
}

function disposeAll(cleanup: (() => void)[]): void {
  for (const f of cleanup.reverse()) {
    try {
      f();
    } catch {
      // Already freed (e.g. the model before the backend): nothing left to do.
    }
  }
  cleanup.length = 0;
}

/**
 * Scores the extra metrics on host data (in chunks on the model's backend): the value of each
 * by name. For a training subset and the held-out set, call it once with each.
 */
export async function scoreExtraMetrics(run: ResolvedRun, rows: Matrix): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (run.extraMetrics.length === 0) return out;
  const be = run.model.backend;
  const t = be.upload(rows);
  try {
    for (const { name, metric } of run.extraMetrics) {
      metric.reset();
      metric.update(t);
      out[name] = await metric.value();
    }
  } finally {
    be.dispose(t);
  }
  return out;
}
