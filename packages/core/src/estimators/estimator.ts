import type { Matrix, RngState, Tensor } from '@boltzmann/tensor';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';
import type { Schedule, ScheduleClock } from '../schedules/schedule.js';

/**
 * Hooks through which a step shows what it computed, so streaming metrics need no extra
 * work or copies; the tensors are valid only during the call.
 */
export interface StepObserver {
  /** After the data phase: per layer, the batch (layer 0) and E[x | batch] for the others. */
  onDataPhase?(dataMeans: readonly Tensor[]): void;
  /** After the first Gibbs sweep started at the data (CD only): the visible means. */
  onReconstruction?(batch: Tensor, reconstruction: Tensor): void;
}

/**
 * Per-layer 0/1 masks for one step (dropout): `draw` fills and returns one mask per layer
 * (rows x layer size; undefined for a layer that is not masked), valid until the next draw
 * with the same `purpose`. Estimators multiply a masked layer's means and states by its mask
 * after every update of the layer, in both phases.
 */
export interface UnitMasks {
  draw(model: EnergyModel, rows: number, rng: RngState, purpose: 'data' | 'chains'): readonly (Tensor | undefined)[];
}

/** What the trainer tells an estimator about the step beyond the batch. */
export interface StepContext {
  /** Where training stands; schedules inside the estimator (CD's k) read it. Default: epoch 0, step 0. */
  clock?: ScheduleClock;
  /** Dropout masks (only for estimators with `supportsMasks`). */
  masks?: UnitMasks;
  /**
   * Missing values of the batch (only for estimators with `supportsMasks`): 0/1 per visible
   * value (rows x visible units), 0 where a value is missing (an item the user did not rate).
   * A missing value is absent from the energy: zero in the data, and zeroed after every update
   * of the visible layer in the model phase, so it moves no parameter.
   */
  visibleMask?: Tensor;
  /**
   * The values of the model's given layers (`UnsampledLayer`: a conditional RBM's past frames)
   * for the batch rows, one tensor per layer index (undefined for the others). They stay
   * clamped in both phases (only for estimators with `supportsGiven`).
   */
  given?: readonly (Tensor | undefined)[];
}

/** The JSON description of an estimator (its type and options). */
export interface EstimatorSpec {
  type: string;
  [option: string]: unknown;
}

/**
 * A learning rule: turns a minibatch into an estimate of the gradient of the negative
 * log-likelihood, written into `grads` (descent direction = -grads). Stateful estimators
 * (persistent chains) expose their state for checkpoints.
 */
export interface Estimator {
  readonly type: string;
  /**
   * Fills grads; `rng` is the training's Gibbs stream. Grads are filled, and the observer
   * called, once the promise resolves: a step may read the backend back (wake/dream's host
   * statistics, mean-field PCD's convergence test), and asynchronous backends (gpu.js webgpu)
   * only read with `await backend.read`. Callers await it and leave the batch, the parameters
   * and grads alone until then.
   */
  computeGradients(batch: Tensor, grads: GradientSet, rng: RngState, observer?: StepObserver, context?: StepContext): Promise<void>;
  /**
   * The momentum a trainer uses when none is given, where the trainer's default does not fit the
   * estimator (PCD: 0, see ContrastiveDivergence); absent: the trainer's schedule.
   */
  readonly defaultMomentum?: number;
  /** True when it applies `context.masks` (dropout) and `context.visibleMask`; a trainer refuses masks for other estimators. */
  readonly supportsMasks?: boolean;
  /** True when it clamps `context.given` in both phases; a trainer refuses given values for other estimators. */
  readonly supportsGiven?: boolean;
  /** Its hyperparameter schedules by name (CD's k), so a trainer can check they cover the epochs asked for. */
  schedules?(): Readonly<Record<string, Schedule>>;
  spec(): EstimatorSpec;
  /** Named tensors to checkpoint (persistent chains); empty when stateless. */
  state(): Record<string, Tensor>;
  /** Restores what `state()` returned (as host matrices). */
  loadState(state: Readonly<Record<string, Matrix>>): void;
  dispose(): void;
}
