import type { Matrix, Tensor } from '@boltzmann/tensor';
import type { ModelParameter } from '../parameter.js';

/** The per-step hyperparameters, read from the training's schedules. */
export interface Hyperparameters {
  learningRate: number;
  momentum: number;
}

/** The JSON description of an optimizer (its type and options). */
export interface OptimizerSpec {
  type: string;
  [option: string]: unknown;
}

/**
 * Applies a gradient (of the loss: descent goes against it) to the parameters. Its state
 * (velocities...) lives in backend tensors, one set per parameter, named for checkpoints.
 */
export interface Optimizer {
  readonly type: string;
  /**
   * The learning rate a trainer uses when none is given (Adam's 0.001; SGD leaves it to the
   * trainer's 0.05): defaults that fit the optimizer.
   */
  readonly defaultLearningRate?: number;
  /**
   * True when `step` takes `decays`. The trainer then hands it a plain L2 decay instead of
   * running the decay's own pass (see `Regularizer.decayCoefficients`).
   */
  readonly takesDecay?: boolean;
  /**
   * params[i] moves against grads[i]. With `decays` (only where `takesDecay`), first
   * grads[i] += decays[i] * params[i], rounded as `axpby(1, grad, decay, param, grad)` does.
   */
  step(params: readonly ModelParameter[], grads: readonly Tensor[], hyper: Hyperparameters, decays?: readonly number[]): void;
  spec(): OptimizerSpec;
  /** Named state tensors ("velocity:visible.bias"). */
  state(): Record<string, Tensor>;
  /** Restores what `state()` returned (as host matrices). */
  loadState(state: Readonly<Record<string, Matrix>>): void;
  /**
   * Called after the tensors of `state()` were overwritten in place (a divergence guard put
   * back the last good ones): re-reads whatever the optimizer also keeps on the host (Adam's
   * step count). One small readback, on that rare path only: read with `await backend.read`
   * (asynchronous backends have no other) and return the promise; the trainer awaits it.
   */
  resync?(): Promise<void>;
  dispose(): void;
}
