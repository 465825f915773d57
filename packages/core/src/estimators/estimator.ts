import type { Matrix, RngState, Tensor } from '@boltzmann/tensor';
import type { GradientSet } from '../models/energy-model.js';

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
  /** Fills grads; `rng` is the training's Gibbs stream. */
  computeGradients(batch: Tensor, grads: GradientSet, rng: RngState, observer?: StepObserver): void;
  spec(): EstimatorSpec;
  /** Named tensors to checkpoint (persistent chains); empty when stateless. */
  state(): Record<string, Tensor>;
  /** Restores what `state()` returned (as host matrices). */
  loadState(state: Readonly<Record<string, Matrix>>): void;
  dispose(): void;
}
