import type { Tensor } from '@boltzmann/tensor';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';

/** The JSON description of a regularizer (its type and options). */
export interface RegularizerSpec {
  type: string;
  [option: string]: unknown;
}

/** What a regularizer sees after the estimator filled the gradients of one step. */
export interface RegularizerContext {
  readonly model: EnergyModel;
  readonly grads: GradientSet;
}

/**
 * A penalty or constraint on training; every hook is optional. Penalties (L2, L1) add their
 * gradient to the loss gradient in `addGradient`; a sparsity target keeps a running average
 * of the hidden means in `onDataPhase` and adds its gradient in `addGradient`; constraints
 * (max-norm) fix the parameters up after the optimizer step in `afterStep`; dropout would
 * mask states in `onDataPhase` (masks need an estimator hook too; not yet).
 */
export interface Regularizer {
  readonly type: string;
  /** During the data phase: per layer, the batch (layer 0) and E[x | batch]; valid only during the call. */
  onDataPhase?(model: EnergyModel, dataMeans: readonly Tensor[]): void;
  addGradient?(context: RegularizerContext): void;
  afterStep?(model: EnergyModel): void;
  spec(): RegularizerSpec;
}
