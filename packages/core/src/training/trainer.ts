import { CounterRng, InvalidValueError, Matrix, ShapeError, rngState, type RngState, type Tensor } from '@boltzmann/tensor';
import type { Estimator, EstimatorSpec, StepContext, StepObserver, UnitMasks } from '../estimators/estimator.js';
import { componentsOf, type Components } from '../components.js';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';
import type { Hyperparameters, Optimizer, OptimizerSpec } from '../optimizers/optimizer.js';
import { L2WeightDecay } from '../regularizers/l2.js';
import { planGradientAdditions, type GradientAdditions } from './gradient-additions.js';
import type { Regularizer, RegularizerSpec } from '../regularizers/regularizer.js';
import { RngStreams } from '../rng-streams.js';
import { checkScheduleCovers, checkScheduleRange, toSchedule } from '../schedules/registry.js';
import type { Schedule, ScheduleSpec } from '../schedules/schedule.js';
import { checkInteger, checkNumber } from '../validation.js';
import { TRAINING_DEFAULTS, defaultMomentum } from './defaults.js';
import { BlowUpRule } from './blow-up-rule.js';
import { checkSourcePosition, type SourcePosition } from './source-position.js';
import { DivergenceGuard } from './divergence-guard.js';
import type { MonitorOptions } from './epoch-monitor.js';
import { trainingLoop, type TrainingRows } from './training-loop.js';

/** Options of a Trainer; every one has a default that learns (see TRAINING_DEFAULTS). */
export interface TrainerOptions {
  /** Step size (on batch-mean gradients): a number, a per-epoch array or a schedule; default the optimizer's (Adam 0.001), else 0.05. */
  learningRate?: number | readonly number[] | Schedule | ScheduleSpec;
  /** Momentum: a number, a per-epoch array or a schedule; default the estimator's (PCD: 0), else 0.5 in the first epoch, then 0.9. */
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
  /** Where estimator, optimizer, regularizer and schedule specs are looked up; default the model's set (`componentsOf`). */
  components?: Components;
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
  /**
   * The slow blow-up rule of the divergence check (`BlowUpRule`): an epoch whose
   * reconstruction error is more than this many times its value in the run's first epoch stops training
   * with a DivergenceError, the last good parameters put back, as NaN does. Default 100; null
   * turns the rule off (NaN and Inf are always caught).
   */
  divergenceFactor?: number | null;
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
  /** See `TrainerOptions.divergenceFactor` (absent in older files: the default). */
  divergenceFactor: number | null;
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
  /** Where the run stands in a data source outside the process (see `Trainer.sourcePosition`); absent when it trains on other data. */
  sourcePosition?: SourcePosition;
}

/** What a training step takes besides the batch. */
export interface StepOptions {
  /** Sees what the step computed (the training loop's metrics). */
  observer?: StepObserver;
  /** 0/1 per value of the batch, 0 where it is missing (see `StepContext.visibleMask`). */
  visibleMask?: Tensor;
  /** The batch rows' values of the model's given layers, by layer index (see `StepContext.given`). */
  given?: readonly (Tensor | undefined)[];
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
  monitor?: MonitorOptions;
  /** Aborting it stops training between two steps; `fit` then returns the reports of the epochs that ended. */
  signal?: AbortSignal;
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
  /**
   * Where the run stands in a data source outside the process (a message broker): set by the
   * code that feeds the trainer after each step, to the position after the rows trained so
   * far; saved in checkpoints and restored with them, so a resumed run asks the source for
   * exactly the rows the checkpoint has not seen. Opaque to the trainer; undefined otherwise.
   */
  sourcePosition: SourcePosition | undefined = undefined;
  private readonly grads: GradientSet;
  private readonly guard: DivergenceGuard;
  private readonly masks: UnitMasks | undefined;
  /** Take a snapshot before the next step: none was taken since construction (so setParams after it counts). */
  private snapshotDue = true;
  /** The counters of the last good snapshot, put back with the parameters after a divergence. */
  private good = { epoch: 0, step: 0 };
  private lastHyper: Hyperparameters = { learningRate: NaN, momentum: NaN };
  /** A step whose estimator returned a promise has not finished yet. */
  private stepPending = false;
  /** The regularizers that watch the data phase (sparsity targets). */
  private readonly dataPhaseHooks: readonly Regularizer[];
  /** What each step adds to the gradients: regularizers, and a decay the optimizer folds in. */
  private readonly additions: GradientAdditions;
  /** The slow blow-up rule (undefined: off). */
  private readonly blowUp: BlowUpRule | undefined;

  constructor(readonly model: EnergyModel, options: TrainerOptions = {}) {
    const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff);
    const components = options.components ?? componentsOf(model);
    // Without a learning rate the optimizer's own applies (Adam's 0.001), set once it is built.
    const givenRate = options.learningRate === undefined ? undefined : toSchedule(options.learningRate, 'learningRate', components.schedules);
    if (givenRate !== undefined) checkScheduleRange('learningRate', givenRate, 0, Infinity);
    const givenMomentum = options.momentum === undefined ? undefined : toSchedule(options.momentum, 'momentum', components.schedules);
    if (givenMomentum !== undefined) checkScheduleRange('momentum', givenMomentum, 0, 1);
    const batchSize = checkInteger('batchSize', options.batchSize ?? TRAINING_DEFAULTS.batchSize);
    const divergenceFactor = options.divergenceFactor === null ? null : checkNumber('divergenceFactor', options.divergenceFactor ?? TRAINING_DEFAULTS.divergenceFactor, 1);
    if (divergenceFactor === 1) throw new InvalidValueError('divergenceFactor must be more than 1 (null turns the rule off), got 1');
    this.blowUp = divergenceFactor === null ? undefined : new BlowUpRule(divergenceFactor);
    // Options are checked before the estimator and the optimizer make tensors, so a refusal leaves none behind.
    const decay = checkNumber('weightDecay', options.weightDecay ?? TRAINING_DEFAULTS.weightDecay, 0);
    this.regularizers = [
      ...(decay > 0 ? [new L2WeightDecay(decay)] : []),
      ...(options.regularizers ?? []).map((r) => (isSpec<RegularizerSpec>(r) ? components.regularizers.get(r.type)(r) : r)),
    ];
    const masking = this.regularizers.filter((r) => r.unitMasks !== undefined);
    if (masking.length > 1) throw new InvalidValueError(`only one regularizer may mask units (dropout); got ${masking.map((r) => r.type).join(', ')}`);
    const estimator = options.estimator ?? { type: 'cd', k: TRAINING_DEFAULTS.k };
    this.estimator = isSpec<EstimatorSpec>(estimator) ? components.estimators.get(estimator.type)(model, estimator) : estimator;
    try {
      if (masking.length === 1 && this.estimator.supportsMasks !== true) {
        throw new InvalidValueError(`regularizer "${masking[0]!.type}" drops units, which the estimator "${this.estimator.type}" does not support (use "cd" or "pcd")`);
      }
      const optimizer = options.optimizer ?? { type: 'sgd', nesterov: false };
      this.optimizer = isSpec<OptimizerSpec>(optimizer) ? components.optimizers.get(optimizer.type)(model, optimizer) : optimizer;
    } catch (error) {
      if (this.estimator !== estimator) this.estimator.dispose(); // built here from its spec
      throw error;
    }
    // Without a momentum the estimator's own applies (PCD's 0), else the trainer's default ramp.
    const estimatorMomentum = this.estimator.defaultMomentum;
    this.momentum = givenMomentum ?? (estimatorMomentum !== undefined ? toSchedule(estimatorMomentum, 'momentum') : defaultMomentum());
    this.learningRate = givenRate ?? toSchedule(this.optimizer.defaultLearningRate ?? TRAINING_DEFAULTS.learningRate, 'learningRate', components.schedules);
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
      divergenceFactor,
    };
    this.gibbsRng = rngState(seed, RngStreams.gibbs);
    this.shuffleRng = new CounterRng(seed, RngStreams.shuffle);
    this.grads = model.createGradients();
    // After a rollback the host copies of restored state (Adam's step count...) are re-read.
    this.guard = new DivergenceGuard(model, this.stateTensors(), { afterRestore: () => this.resyncState() });
    // Valid from the start: a divergence before any fit restores these, never zeros (refreshed before the first step).
    this.guard.snapshot();
    this.dataPhaseHooks = this.regularizers.filter((r) => r.onDataPhase !== undefined);
    this.additions = planGradientAdditions(model, this.regularizers, this.optimizer);
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
      ...(c.divergenceFactor === undefined ? {} : { divergenceFactor: c.divergenceFactor }),
    });
    trainer.epoch = checkInteger('checkpoint epoch', checkpoint.epoch, 0);
    trainer.step = checkInteger('checkpoint step', checkpoint.step, 0);
    trainer.gibbsRng = rngState(checkpoint.rng.gibbs.seed, checkpoint.rng.gibbs.stream, checkpoint.rng.gibbs.counter);
    trainer.shuffleRng = CounterRng.fromState(checkpoint.rng.shuffle);
    trainer.optimizer.loadState(checkpoint.optimizer);
    trainer.estimator.loadState(checkpoint.estimator);
    trainer.loadRegularizerState(checkpoint.regularizers ?? {});
    if (checkpoint.sourcePosition !== undefined) trainer.sourcePosition = checkSourcePosition(checkpoint.sourcePosition, 'checkpoint sourcePosition');
    trainer.good = { epoch: trainer.epoch, step: trainer.step };
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
      ...(this.sourcePosition === undefined ? {} : { sourcePosition: this.sourcePosition }),
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

  /** The hyperparameters of the last step (NaN before any). */
  get lastHyperparameters(): Hyperparameters {
    return { ...this.lastHyper };
  }

  /**
   * One training step on a batch already on the model's backend (rows x visible units); the
   * batch is not validated. The building block of the training loop, of `partialFit` and of
   * streaming pipelines. The step (estimator, regularizers, optimizer, `step` count) is done
   * when the promise resolves; leave the batch alone until then. A step, `partialFit` or
   * `checkFinite` called while a step is still running is refused (InvalidValueError), and so
   * are options the estimator cannot take (at the call).
   */
  trainStep(batch: Tensor, options: StepOptions = {}): Promise<void> {
    this.checkIdle('trainStep');
    const { observer, visibleMask, given } = options;
    if (visibleMask !== undefined) this.checkVisibleMask(batch, visibleMask);
    if (given !== undefined && this.estimator.supportsGiven !== true) throw new InvalidValueError(`a batch with given values (a conditional RBM's past) needs an estimator that clamps them ("cd"); "${this.estimator.type}" does not`);
    if (this.snapshotDue) this.markGood();
    const hyper = this.hyperparameters();
    const context: StepContext = { clock: { epoch: this.epoch, step: this.step }, ...(this.masks ? { masks: this.masks } : {}), ...(visibleMask ? { visibleMask } : {}), ...(given ? { given } : {}) };
    let pending: Promise<void>;
    try {
      // Promise.resolve: a plain-JavaScript estimator that returns nothing still works.
      pending = Promise.resolve(this.estimator.computeGradients(batch, this.grads, this.gibbsRng, this.observerFor(observer), context));
    } catch (error) {
      return Promise.reject(error);
    }
    this.stepPending = true;
    return pending.then(() => this.finishStep(hyper)).finally(() => (this.stepPending = false));
  }

  /** A mask of missing values needs an estimator that applies masks, no dropout, and the batch's shape. */
  private checkVisibleMask(batch: Tensor, mask: Tensor): void {
    if (this.estimator.supportsMasks !== true) throw new InvalidValueError(`a batch with missing values (a visible mask) needs an estimator that masks units ("cd"); "${this.estimator.type}" does not`);
    if (this.masks !== undefined) throw new InvalidValueError('a batch with missing values (a visible mask) cannot be trained with dropout');
    if (mask.rows !== batch.rows || mask.cols !== batch.cols) throw new ShapeError(`the visible mask is ${mask.rows} x ${mask.cols}, the batch ${batch.rows} x ${batch.cols}`);
  }

  /** `observer` joined with the regularizers that watch the data phase. */
  private observerFor(observer: StepObserver | undefined): StepObserver | undefined {
    const hooks = this.dataPhaseHooks;
    if (hooks.length === 0) return observer;
    const model = this.model;
    return {
      onDataPhase: (means) => {
        observer?.onDataPhase?.(means);
        for (const r of hooks) r.onDataPhase!(model, means);
      },
      ...(observer?.onReconstruction ? { onReconstruction: observer.onReconstruction } : {}),
    };
  }

  /** Records the parameters, state and counters as the last good ones. */
  private markGood(): void {
    this.guard.snapshot();
    this.good = { epoch: this.epoch, step: this.step };
    this.snapshotDue = false;
  }

  /** Regularizers and optimizer once the estimator has filled the gradients. */
  private finishStep(hyper: Hyperparameters): void {
    for (const r of this.additions.adders) r.addGradient!({ model: this.model, grads: this.grads });
    this.optimizer.step(this.model.parameters, this.grads.tensors, hyper, this.additions.decays);
    for (const r of this.regularizers) r.afterStep?.(this.model);
    this.lastHyper = hyper;
    this.step += 1;
  }

  private checkIdle(what: string): void {
    if (this.stepPending) throw new InvalidValueError(`${what} was called while a training step is still running: await trainStep(...) / partialFit(...) first`);
  }

  /**
   * One step on a host batch, validated first (shape, NaN/Inf, range of the visible units; a bad
   * batch throws at the call). Like `trainStep`, done when the promise resolves.
   */
  partialFit(batch: Matrix): Promise<void> {
    this.checkIdle('partialFit');
    this.model.layers[0]!.validate(batch, 'batch');
    const t = this.model.workspace.get('trainer:partial-batch', batch.rows, batch.cols);
    this.model.backend.write(t, batch);
    return this.trainStep(t);
  }

  /**
   * Throws a DivergenceError if any parameter (or optimizer / regularizer state) holds NaN/Inf,
   * after restoring the last good ones and the epoch and step counters that went with them:
   * those of the last passing check (every epoch end of `fit`), else those before the first
   * step. When all are finite, records them as the last good ones. `hint` ends the message.
   */
  async checkFinite(where = `after step ${this.step}`, hint = ''): Promise<void> {
    this.checkIdle('checkFinite');
    try {
      await this.guard.check(where, hint);
    } catch (error) {
      this.epoch = this.good.epoch;
      this.step = this.good.step;
      throw error;
    }
    this.markGood();
  }

  /**
   * The divergence check at an epoch end, given the epoch's report: `checkFinite`'s NaN/Inf
   * check, then the slow blow-up rule (`divergenceFactor`) on the report's metrics. Either way
   * a divergence restores the parameters, state and counters of the last passing check and
   * throws a DivergenceError naming the metric, the epochs and what to try; when both pass,
   * records the state as the last good one. `hint` ends the first part of the message.
   */
  async checkEpoch(report: EpochReport, hint = ''): Promise<void> {
    this.checkIdle('checkEpoch');
    const where = `in epoch ${report.epoch}`;
    try {
      await this.guard.check(where, hint);
      const blowUp = this.blowUp?.find(report);
      if (blowUp !== undefined) {
        await this.guard.rollback(
          `training diverged ${where}: ${blowUp}${hint}; the parameters of epoch ${this.good.epoch} were put back. ` +
            'Lower the learning rate, or standardize the data of Gaussian visible units (zero mean, unit variance per column); ' +
            'divergenceFactor (training.divergenceFactor in a run spec) sets this rule, null turns it off',
        );
      }
    } catch (error) {
      this.epoch = this.good.epoch;
      this.step = this.good.step;
      throw error;
    }
    this.blowUp?.record(report.epoch, report);
    this.markGood();
  }

  /**
   * Trains for `epochs` more epochs on `data` (validated: shape, NaN/Inf, unit range) through
   * `trainingLoop`, as `train()` of the pipeline does. `data` is a Matrix of examples, or
   * `TrainingRows` with missing values or given values (a model's `trainingRows`). Returns one report per epoch. On NaN/Inf
   * in the parameters it restores those of the last good epoch (and the epoch/step counters)
   * and throws a DivergenceError naming both.
   */
  async fit(data: Matrix | TrainingRows, options: FitOptions): Promise<EpochReport[]> {
    const epochs = checkInteger('epochs', options.epochs, 0);
    const reports: EpochReport[] = [];
    const loop = trainingLoop(this, data, { untilEpoch: this.epoch + epochs, validation: options.validation, monitor: options.monitor, signal: options.signal });
    for await (const event of loop) {
      if (event.type !== 'epoch-end') continue;
      reports.push(event.report);
      if (options.onEpoch && (await options.onEpoch(event.report)) === false) break;
    }
    return reports;
  }

  dispose(): void {
    for (const g of this.grads.tensors) this.model.backend.dispose(g);
    this.guard.dispose();
    this.optimizer.dispose();
    this.estimator.dispose();
    for (const r of this.regularizers) r.dispose?.();
  }
}

/** A plain JSON spec ({ type, ...options }) rather than a constructed instance. */
function isSpec<S extends { type: string }>(x: unknown): x is S {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype && typeof (x as { type?: unknown }).type === 'string';
}

