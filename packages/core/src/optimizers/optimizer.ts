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
  /** params[i] moves against grads[i]. */
  step(params: readonly ModelParameter[], grads: readonly Tensor[], hyper: Hyperparameters): void;
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
