import { CounterRng, InvalidValueError, Matrix, rngState, type RngState, type Tensor } from '@boltzmann/tensor';
import type { Estimator, EstimatorSpec, StepContext, StepObserver, UnitMasks } from '../estimators/estimator.js';
import { estimatorTypes } from '../estimators/registry.js';
import { FreeEnergyMetric } from '../metrics/free-energy.js';
import { MeanActivationMetric } from '../metrics/mean-activation.js';
import type { Metric } from '../metrics/metric.js';
import { PseudoLikelihoodMetric } from '../metrics/pseudo-likelihood.js';
import { ReconstructionErrorMetric } from '../metrics/reconstruction-error.js';
import { UpdateNormMetric } from '../metrics/update-norm.js';
import { WeightNormMetric } from '../metrics/weight-norm.js';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';
import type { Hyperparameters, Optimizer, OptimizerSpec } from '../optimizers/optimizer.js';
import { optimizerTypes } from '../optimizers/registry.js';
import { L2WeightDecay } from '../regularizers/l2.js';
import type { Regularizer, RegularizerSpec } from '../regularizers/regularizer.js';
import { regularizerTypes } from '../regularizers/registry.js';
import { RngStreams } from '../rng-streams.js';
import { checkScheduleCovers, toSchedule } from '../schedules/registry.js';
import type { Schedule, ScheduleSpec } from '../schedules/schedule.js';
import { checkInteger, checkNumber } from '../validation.js';
import { TRAINING_DEFAULTS, defaultMomentum } from './defaults.js';
import { DivergenceGuard } from './divergence-guard.js';
import { monitorSupport, resolveMonitor, type MonitorSupport } from './monitoring.js';

/** Options of a Trainer; every one has a default that learns (see TRAINING_DEFAULTS). */
export interface TrainerOptions {
  /** Step size (on batch-mean gradients): a number, a per-epoch array or a schedule; default 0.05. */
  learningRate?: number | readonly number[] | Schedule | ScheduleSpec;
  /** Momentum: a number, a per-epoch array or a schedule; default 0.5 in the first epoch, then 0.9. */
  momentum?: number | readonly number[] | Schedule | ScheduleSpec;
  /** Rows per minibatch; default 100. */
  batchSize?: number;
  /** The learning rule; default CD-1 ({ type: "cd", k: 1 }); "pcd" for persistent chains; k may be a schedule. */
  estimator?: Estimator | EstimatorSpec;
  /** Default SGD with momentum ({ type: "sgd", nesterov: false }); "adam" for Adam. */
  optimizer?: Optimizer | OptimizerSpec;
  /** L2 weight decay on the weights (shorthand for an L2WeightDecay regularizer); default 1e-4, 0 for none. */
  weightDecay?: number;
  /** Further regularizers ("l1", "max-norm", "dropout", "sparsity"...), applied after the weight decay. */
  regularizers?: readonly (Regularizer | RegularizerSpec)[];
  /** Seed of the Gibbs sampling and of the minibatch order; default 0. */
  seed?: number;
  /** Shuffle the rows every epoch; default true. */
  shuffle?: boolean;
  /**
   * At the first fit of this trainer, set the visible bias from the data means (logit) if the
   * visible layer's parameters are still all zero (a fresh model; a loaded or hand-set one is
   * left alone); default true.
   */
  initVisibleBiasFromData?: boolean;
}

/** The resolved, JSON-serialisable configuration of a Trainer (saved in checkpoints). */
export interface TrainingConfig {
  learningRate: ScheduleSpec;
  momentum: ScheduleSpec;
  batchSize: number;
  estimator: EstimatorSpec;
  optimizer: OptimizerSpec;
  regularizers: RegularizerSpec[];
  seed: number;
  shuffle: boolean;
  initVisibleBiasFromData: boolean;
}

/** Everything needed to resume training: config, counters, RNG states, optimizer and estimator state. */
export interface TrainingCheckpoint<T = Tensor> {
  config: TrainingConfig;
  epoch: number;
  step: number;
  rng: { gibbs: RngState; shuffle: RngState };
  optimizer: Record<string, T>;
  estimator: Record<string, T>;
  /** State of stateful regularizers (a sparsity target's running estimate), keyed "<index>:<name>"; absent in older files. */
  regularizers?: Record<string, T>;
}

/** Options of `fit`. */
export interface FitOptions {
  /** Passes over the data (added to the epochs already done). */
  epochs: number;
  /** Held-out data scored at each epoch end (free energy, pseudo-log-likelihood). */
  validation?: Matrix;
  /** Called after each epoch; return false to stop (early stopping). */
  onEpoch?: (report: EpochReport) => void | boolean | Promise<void | boolean>;
  /**
   * What to score at each epoch end, on `rows` (1000) evenly spaced rows of each set. Default:
   * each one the model allows (see `monitorSupport`): the free energy where F(v) has a closed
   * form (not on a DBM or a machine with hidden-hidden weights), the pseudo-likelihood where
   * that holds and the visible units are Bernoulli. Asking (true) for one the model does not
   * allow is an InvalidValueError saying why, before any step.
   */
  monitor?: { freeEnergy?: boolean; pseudoLikelihood?: boolean; rows?: number };
}

/** Train vs held-out values of one metric (held-out only when validation data was given). */
export interface SplitValue {
  train: number;
  validation?: number;
}

/** What one epoch did. Metrics are read back once, at the epoch end. */
export interface EpochReport {
  /** Completed epochs so far (1 after the first). */
  epoch: number;
  /** Completed minibatch steps so far. */
  step: number;
  /** Hyperparameters of the epoch's last step. */
  learningRate: number;
  momentum: number;
  /**
   * Mean squared error of each batch vs its one-step reconstruction probabilities, over the
   * epoch. NaN where the model has no block Gibbs sweep to reconstruct with (a layer with
   * lateral weights; see `monitorSupport`).
   */
  reconstructionError: number;
  /**
   * Mean hidden probability (layer 1) on the epoch's batches. NaN where the model has no hidden
   * layer, or where neither the estimator's data phase nor the visible units alone give E[h | v]
   * (hidden units with lateral weights).
   */
  meanHiddenActivation: number;
  /** Frobenius norm of the weights at the epoch end (`WeightNormMetric`); set by `Trainer.fit`. */
  weightNorm?: number;
  /**
   * Mean Frobenius norm of one step's change of the weights, over about 10 steps spread over the
   * epoch (`UpdateNormMetric`); set by `Trainer.fit`. updateNorm / weightNorm near 1e-3 is healthy.
   */
  updateNorm?: number;
  /** Mean free energy on the training subset and the held-out set. */
  freeEnergy?: SplitValue;
  /** scikit-learn's pseudo-log-likelihood (fixed flips) on the training subset and held-out set. */
  pseudoLogLikelihood?: SplitValue;
  /** Wall-clock seconds of the epoch, monitoring included. */
  seconds: number;
}

/**
 * Trains a model: epochs of shuffled minibatches gathered on the backend from the resident
 * data (no allocation per batch), estimator -> regularizers -> optimizer on each, metrics read
 * back once per epoch, and a NaN guard per epoch that restores the last good parameters and
 * throws a DivergenceError. `partialFit` runs single steps for streaming use.
 *
 * It reads the backend only with `await backend.read`, so it trains on asynchronous backends
 * (gpu.js webgpu) too, whatever the estimator, optimizer and regularizers of the core.
 */
export class Trainer {
  readonly config: TrainingConfig;
  readonly estimator: Estimator;
  readonly optimizer: Optimizer;
  readonly regularizers: readonly Regularizer[];
  readonly learningRate: Schedule;
  readonly momentum: Schedule;
  /** Completed epochs. */
  epoch = 0;
  /** Completed minibatch steps. */
  step = 0;
  /** The Gibbs stream of the estimator. */
  gibbsRng: RngState;
  /** The minibatch-order stream. */
  shuffleRng: CounterRng;
  private readonly grads: GradientSet;
  private readonly guard: DivergenceGuard;
  /** Undefined where the model cannot be reconstructed (reports NaN). */
  private readonly reconstruction: ReconstructionErrorMetric | undefined;
  /** Undefined without a hidden layer (reports NaN). */
  private readonly activation: MeanActivationMetric | undefined;
  /** What the model allows to be monitored, and why not. */
  private readonly support: MonitorSupport;
  private readonly weightNorm: WeightNormMetric;
  private readonly updateNorm: UpdateNormMetric;
  private readonly masks: UnitMasks | undefined;
  private tracking = false;
  private sawReconstruction = false;
  private sawDataPhase = false;
  /** Take a snapshot before the next step: none was taken since construction (so setParams after it counts). */
  private snapshotDue = true;
  private lastHyper: Hyperparameters = { learningRate: NaN, momentum: NaN };
  /** A step whose estimator returned a promise has not finished yet. */
  private stepPending = false;
  private readonly observer: StepObserver;

  constructor(readonly model: EnergyModel, options: TrainerOptions = {}) {
    const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff);
    this.learningRate = toSchedule(options.learningRate ?? TRAINING_DEFAULTS.learningRate, 'learningRate');
    this.momentum = toSchedule(options.momentum ?? defaultMomentum(), 'momentum');
    const batchSize = checkInteger('batchSize', options.batchSize ?? TRAINING_DEFAULTS.batchSize);
    // Options are checked before the estimator and the optimizer make tensors, so a refusal leaves none behind.
    const decay = checkNumber('weightDecay', options.weightDecay ?? TRAINING_DEFAULTS.weightDecay, 0);
    this.regularizers = [
      ...(decay > 0 ? [new L2WeightDecay(decay)] : []),
      ...(options.regularizers ?? []).map((r) => (isSpec<RegularizerSpec>(r) ? regularizerTypes.get(r.type)(r) : r)),
    ];
    const masking = this.regularizers.filter((r) => r.unitMasks !== undefined);
    if (masking.length > 1) throw new InvalidValueError(`only one regularizer may mask units (dropout); got ${masking.map((r) => r.type).join(', ')}`);
    const estimator = options.estimator ?? { type: 'cd', k: TRAINING_DEFAULTS.k };
    this.estimator = isSpec<EstimatorSpec>(estimator) ? estimatorTypes.get(estimator.type)(model, estimator) : estimator;
    try {
      if (masking.length === 1 && this.estimator.supportsMasks !== true) {
        throw new InvalidValueError(`regularizer "${masking[0]!.type}" drops units, which the estimator "${this.estimator.type}" does not support (use "cd" or "pcd")`);
      }
      const optimizer = options.optimizer ?? { type: 'sgd', nesterov: false };
      this.optimizer = isSpec<OptimizerSpec>(optimizer) ? optimizerTypes.get(optimizer.type)(model, optimizer) : optimizer;
    } catch (error) {
      if (this.estimator !== estimator) this.estimator.dispose(); // built here from its spec
      throw error;
    }
    this.masks = masking[0]?.unitMasks;
    for (const r of this.regularizers) r.attach?.(model);
    this.config = {
      learningRate: this.learningRate.spec(),
      momentum: this.momentum.spec(),
      batchSize,
      estimator: this.estimator.spec(),
      optimizer: this.optimizer.spec(),
      regularizers: this.regularizers.map((r) => r.spec()),
      seed,
      shuffle: options.shuffle ?? true,
      initVisibleBiasFromData: options.initVisibleBiasFromData ?? true,
    };
    this.gibbsRng = rngState(seed, RngStreams.gibbs);
    this.shuffleRng = new CounterRng(seed, RngStreams.shuffle);
    this.grads = model.createGradients();
    // After a rollback the host copies of restored state (Adam's step count...) are re-read.
    this.guard = new DivergenceGuard(model, this.stateTensors(), { afterRestore: () => this.resyncState() });
    // Valid from the start: a divergence before any fit restores these, never zeros (refreshed before the first step).
    this.guard.snapshot();
    this.support = monitorSupport(model);
    this.reconstruction = this.support.reconstructionError === undefined ? new ReconstructionErrorMetric(model, { seed }) : undefined;
    this.activation = model.layers.length > 1 ? new MeanActivationMetric(model) : undefined;
    this.weightNorm = new WeightNormMetric(model);
    this.updateNorm = new UpdateNormMetric(model);
    const dataPhaseHooks = this.regularizers.filter((r) => r.onDataPhase !== undefined);
    this.observer = {
      onDataPhase: (means) => {
        if (this.tracking && this.activation) {
          this.activation.addMeans(means[this.activation.layerIndex]!);
          this.sawDataPhase = true;
        }
        for (const r of dataPhaseHooks) r.onDataPhase!(model, means);
      },
      onReconstruction: (batch, reconstruction) => {
        if (!this.tracking) return;
        this.reconstruction?.addReconstruction(batch, reconstruction);
        this.sawReconstruction = true;
      },
    };
  }

  /** Rebuilds a trainer from a checkpoint (see `loadModel`): same config, counters, RNG, optimizer and estimator state. */
  static restore(model: EnergyModel, checkpoint: TrainingCheckpoint<Matrix>): Trainer {
    const c = checkpoint.config;
    const trainer = new Trainer(model, {
      learningRate: c.learningRate,
      momentum: c.momentum,
      batchSize: c.batchSize,
      estimator: c.estimator,
      optimizer: c.optimizer,
      weightDecay: 0,
      regularizers: c.regularizers,
      seed: c.seed,
      shuffle: c.shuffle,
      initVisibleBiasFromData: c.initVisibleBiasFromData,
    });
    trainer.epoch = checkInteger('checkpoint epoch', checkpoint.epoch, 0);
    trainer.step = checkInteger('checkpoint step', checkpoint.step, 0);
    trainer.gibbsRng = rngState(checkpoint.rng.gibbs.seed, checkpoint.rng.gibbs.stream, checkpoint.rng.gibbs.counter);
    trainer.shuffleRng = CounterRng.fromState(checkpoint.rng.shuffle);
    trainer.optimizer.loadState(checkpoint.optimizer);
    trainer.estimator.loadState(checkpoint.estimator);
    trainer.loadRegularizerState(checkpoint.regularizers ?? {});
    return trainer;
  }

  /** The state to save for resuming (tensors still on the backend). */
  checkpoint(): TrainingCheckpoint {
    return {
      config: this.config,
      epoch: this.epoch,
      step: this.step,
      rng: { gibbs: { ...this.gibbsRng }, shuffle: this.shuffleRng.snapshot() },
      optimizer: this.optimizer.state(),
      estimator: this.estimator.state(),
      regularizers: this.regularizerState(),
    };
  }

  /**
   * Every tensor besides the parameters that a divergence guard must put back with them: the
   * optimizer's state and the regularizers' (a guard built on `optimizer.state()` alone would
   * leave, say, a sparsity estimate at NaN). After restoring them call `resyncState()`.
   */
  stateTensors(): Record<string, Tensor> {
    return { ...this.optimizer.state(), ...this.regularizerState() };
  }

  /**
   * Re-reads host copies of state (Adam's step count, a sparsity target's "started" flag) after
   * a guard restored `stateTensors()` in place; reads with `await backend.read`, so it works on
   * every backend.
   */
  async resyncState(): Promise<void> {
    await this.optimizer.resync?.();
    for (const r of this.regularizers) await r.resync?.();
  }

  /**
   * Throws unless every per-epoch schedule (learning rate, momentum, the estimator's k) has
   * values up to epoch `endEpoch` (exclusive): a short list is an error naming it, never repeated.
   */
  checkSchedules(endEpoch: number): void {
    checkScheduleCovers('learningRate', this.learningRate, endEpoch);
    checkScheduleCovers('momentum', this.momentum, endEpoch);
    for (const [name, schedule] of Object.entries(this.estimator.schedules?.() ?? {})) checkScheduleCovers(name, schedule, endEpoch);
  }

  private regularizerState(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    this.regularizers.forEach((r, i) => {
      for (const [key, t] of Object.entries(r.state?.() ?? {})) out[`${i}:${r.type}.${key}`] = t;
    });
    return out;
  }

  private loadRegularizerState(state: Readonly<Record<string, Matrix>>): void {
    const own = new Set(Object.keys(this.regularizerState()));
    for (const key of Object.keys(state)) if (!own.has(key)) throw new InvalidValueError(`regularizer state has unknown entry "${key}"`);
    this.regularizers.forEach((r, i) => {
      const prefix = `${i}:${r.type}.`;
      const mine = Object.fromEntries(Object.entries(state).filter(([key]) => key.startsWith(prefix)).map(([key, m]) => [key.slice(prefix.length), m]));
      if (Object.keys(mine).length > 0) r.loadState?.(mine);
    });
  }

  /** The hyperparameters of the next step. */
  hyperparameters(): Hyperparameters {
    const clock = { epoch: this.epoch, step: this.step };
    return { learningRate: this.learningRate.value(clock), momentum: this.momentum.value(clock) };
  }

  /**
   * One training step on a batch already on the model's backend (rows x visible units);
   * nothing is validated. The building block of `fit` and of streaming pipelines.
   *
   * With an estimator that only issues backend work (CD, PCD, mean-field PCD with tolerance 0)
   * the step is done on return and nothing comes back. With one that reads the backend back
   * (wake/dream; mean-field PCD with a tolerance, which reads its convergence test) it returns
   * a promise, and the step (regularizers, optimizer, `step` count) finishes when it resolves:
   * `await` the result either way, and leave the batch alone until then. A step, `partialFit`
   * or `checkFinite` called while a step is still pending is refused (InvalidValueError).
   */
  trainStep(batch: Tensor): void | Promise<void> {
    this.checkIdle('trainStep');
    if (this.snapshotDue) {
      this.guard.snapshot();
      this.snapshotDue = false;
    }
    const hyper = this.hyperparameters();
    const context: StepContext = { clock: { epoch: this.epoch, step: this.step }, ...(this.masks ? { masks: this.masks } : {}) };
    const pending = this.estimator.computeGradients(batch, this.grads, this.gibbsRng, this.observer, context);
    if (!isThenable(pending)) {
      this.finishStep(hyper);
      return;
    }
    this.stepPending = true;
    return Promise.resolve(pending)
      .then(() => this.finishStep(hyper))
      .finally(() => (this.stepPending = false));
  }

  /** Regularizers and optimizer once the estimator has filled the gradients. */
  private finishStep(hyper: Hyperparameters): void {
    for (const r of this.regularizers) r.addGradient?.({ model: this.model, grads: this.grads });
    this.optimizer.step(this.model.parameters, this.grads.tensors, hyper);
    for (const r of this.regularizers) r.afterStep?.(this.model);
    this.lastHyper = hyper;
    this.step += 1;
  }

  private checkIdle(what: string): void {
    if (this.stepPending) throw new InvalidValueError(`${what} was called while a training step is still running: await trainStep(...) / partialFit(...) first`);
  }

  /**
   * One step on a host batch, validated first (shape, NaN/Inf, range of the visible units; a bad
   * batch throws here). Like `trainStep`, returns a promise when the estimator reads the backend
   * back: `await` it either way.
   */
  partialFit(batch: Matrix): void | Promise<void> {
    this.checkIdle('partialFit');
    this.model.layers[0]!.validate(batch, 'batch');
    const t = this.model.workspace.get('trainer:partial-batch', batch.rows, batch.cols);
    this.model.backend.write(t, batch);
    return this.trainStep(t);
  }

  /**
   * Throws a DivergenceError if any parameter (or optimizer / regularizer state) holds NaN/Inf,
   * after restoring the last good ones: those of the last passing check or fit epoch, else those
   * before the first step. When all are finite, records them as the last good ones.
   */
  async checkFinite(where = `after step ${this.step}`): Promise<void> {
    this.checkIdle('checkFinite');
    await this.guard.check(where);
    this.guard.snapshot();
    this.snapshotDue = false;
  }

  /**
   * Trains for `epochs` more epochs on `data` (validated: shape, NaN/Inf, unit range).
   * Returns one report per epoch. On NaN/Inf in the parameters it restores those of the last
   * good epoch (and the epoch/step counters) and throws a DivergenceError naming both.
   */
  async fit(data: Matrix, options: FitOptions): Promise<EpochReport[]> {
    const model = this.model;
    const be = model.backend;
    const visible = model.layers[0]!;
    visible.validate(data, 'training data');
    if (options.validation !== undefined) visible.validate(options.validation, 'validation data');
    const epochs = checkInteger('epochs', options.epochs, 0);
    this.checkSchedules(this.epoch + epochs);
    const monitorRows = checkInteger('monitor.rows', options.monitor?.rows ?? TRAINING_DEFAULTS.monitorRows);
    // By default what the model allows; an explicit request it does not allow fails here, before any step.
    const { freeEnergy: wantFreeEnergy, pseudoLikelihood: wantPll } = resolveMonitor(model, options.monitor, this.support);
    // E[h | v] from the visible units alone, for estimators whose data phase does not report it (wake/dream).
    const activationFallback = this.support.meanHiddenActivation === undefined;

    const n = data.rows;
    const batchSize = Math.min(this.config.batchSize, n);
    if (this.step === 0 && this.config.initVisibleBiasFromData && (await layerIsBlank(model, 0))) visible.initializeFromData?.(columnMeans(data));

    const resident = be.upload(data);
    const trainMonitor = be.upload(data.gatherRows(evenlySpaced(n, monitorRows)));
    const validation = options.validation;
    const validationMonitor = validation ? be.upload(validation.gatherRows(evenlySpaced(validation.rows, monitorRows))) : undefined;
    const freeEnergy = wantFreeEnergy ? new FreeEnergyMetric(model) : undefined;
    const pll = wantPll ? new PseudoLikelihoodMetric(model, { seed: this.config.seed }) : undefined;
    const reports: EpochReport[] = [];
    this.guard.snapshot();
    this.snapshotDue = false;
    let goodEpoch = this.epoch;
    let goodStep = this.step;
    const stepsPerEpoch = Math.ceil(n / batchSize);
    const probeEvery = Math.max(1, Math.floor(stepsPerEpoch / UPDATE_NORM_PROBES));
    try {
      for (let e = 0; e < epochs; e++) {
        const started = performance.now();
        const order = this.config.shuffle ? this.shuffleRng.permutation(n) : identity(n);
        this.reconstruction?.reset();
        this.activation?.reset();
        let activationSeen = false;
        this.updateNorm.reset();
        this.tracking = true;
        for (let start = 0, index = 0; start < n; start += batchSize, index++) {
          const rows = Math.min(batchSize, n - start);
          const batch = model.workspace.get('trainer:batch', rows, visible.size);
          be.gatherRows(resident, order.subarray(start, start + rows), batch);
          this.sawReconstruction = false;
          this.sawDataPhase = false;
          const probe = (index + 1) % probeEvery === 0;
          if (probe) this.updateNorm.beforeStep();
          await this.trainStep(batch);
          if (probe) this.updateNorm.update(batch);
          if (!this.sawReconstruction) this.reconstruction?.update(batch);
          if (this.activation && !this.sawDataPhase && activationFallback) this.activation.update(batch);
          activationSeen ||= this.sawDataPhase || activationFallback;
        }
        this.tracking = false;
        this.epoch += 1;
        const hint = ` (learning rate ${this.lastHyper.learningRate}, momentum ${this.lastHyper.momentum})`;
        try {
          await this.guard.check(`in epoch ${this.epoch}`, hint);
        } catch (error) {
          this.epoch = goodEpoch;
          this.step = goodStep;
          throw error;
        }
        this.guard.snapshot();
        goodEpoch = this.epoch;
        goodStep = this.step;

        const report: EpochReport = {
          epoch: this.epoch,
          step: this.step,
          ...this.lastHyper,
          reconstructionError: this.reconstruction ? await this.reconstruction.value() : NaN,
          meanHiddenActivation: this.activation && activationSeen ? await this.activation.value() : NaN,
          weightNorm: await this.weightNorm.value(),
          updateNorm: await this.updateNorm.value(),
          seconds: 0,
        };
        if (freeEnergy) report.freeEnergy = await scoreSplit(freeEnergy, trainMonitor, validationMonitor);
        if (pll) report.pseudoLogLikelihood = await scoreSplit(pll, trainMonitor, validationMonitor);
        report.seconds = (performance.now() - started) / 1000;
        reports.push(report);
        if (options.onEpoch && (await options.onEpoch(report)) === false) break;
      }
    } finally {
      this.tracking = false;
      be.dispose(resident);
      be.dispose(trainMonitor);
      if (validationMonitor) be.dispose(validationMonitor);
      freeEnergy?.dispose();
      pll?.dispose();
    }
    return reports;
  }

  dispose(): void {
    for (const g of this.grads.tensors) this.model.backend.dispose(g);
    this.guard.dispose();
    this.optimizer.dispose();
    this.estimator.dispose();
    this.reconstruction?.dispose();
    this.activation?.dispose();
    this.weightNorm.dispose();
    this.updateNorm.dispose();
    for (const r of this.regularizers) r.dispose?.();
  }
}

/** Steps per epoch whose update norm `fit` measures (spread evenly; the others cost nothing extra). */
const UPDATE_NORM_PROBES = 10;

/** Whether an estimator's step returned a promise (or any thenable) rather than nothing. */
function isThenable(x: unknown): x is PromiseLike<void> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

/** A plain JSON spec ({ type, ...options }) rather than a constructed instance. */
function isSpec<S extends { type: string }>(x: unknown): x is S {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype && typeof (x as { type?: unknown }).type === 'string';
}

/** Whether every parameter of layer `l` is exactly zero (never initialised or trained). */
async function layerIsBlank(model: EnergyModel, l: number): Promise<boolean> {
  for (const p of model.layers[l]!.parameters) if ((await model.backend.reduce('sumAbs', p.tensor)) !== 0) return false;
  return true;
}

/** Column means in float64 (for the visible-bias initialisation). */
function columnMeans(m: Matrix): Float64Array {
  const out = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) out[c]! += m.data[r * m.cols + c]!;
  for (let c = 0; c < m.cols; c++) out[c]! /= m.rows;
  return out;
}

/** min(n, count) row indices spread evenly over 0..n-1 (a representative fixed subset). */
function evenlySpaced(n: number, count: number): Uint32Array {
  const k = Math.min(n, count);
  const out = new Uint32Array(k);
  for (let i = 0; i < k; i++) out[i] = Math.floor((i * n) / k);
  return out;
}

function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** The metric over a resident set (at most `monitorRows` rows). */
async function scoreOn(metric: Metric, data: Tensor): Promise<number> {
  metric.reset();
  metric.update(data);
  return metric.value();
}

async function scoreSplit(metric: Metric, train: Tensor, validation: Tensor | undefined): Promise<SplitValue> {
  const out: SplitValue = { train: await scoreOn(metric, train) };
  if (validation) out.validation = await scoreOn(metric, validation);
  return out;
}
