import { InvalidValueError, type Matrix, type Tensor } from '@boltzmann/tensor';
import type { UnitMasks } from '../estimators/estimator.js';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';
import type { ParameterRole } from '../parameter.js';

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
 * (max-norm) fix the parameters up after the optimizer step in `afterStep`; dropout hands the
 * estimator per-step unit masks through `unitMasks`.
 */
export interface Regularizer {
  readonly type: string;
  /** Called once by the trainer with the model it trains, before any other hook (allocate state here). */
  attach?(model: EnergyModel): void;
  /** During the data phase: per layer, the batch (layer 0) and E[x | batch]; valid only during the call. */
  onDataPhase?(model: EnergyModel, dataMeans: readonly Tensor[]): void;
  addGradient?(context: RegularizerContext): void;
  /**
   * A plain L2 decay declares itself here: per parameter (the model's order) the coefficient c
   * its `addGradient` adds as c * w to the gradient, 0 where it adds nothing. When it is the only
   * regularizer adding to gradients and the optimizer takes decays (`Optimizer.takesDecay`), the
   * trainer skips its `addGradient` and the optimizer adds c * w inside its own pass over the
   * parameters: the same arithmetic, one pass over the weights fewer.
   */
  decayCoefficients?(model: EnergyModel): readonly number[];
  afterStep?(model: EnergyModel): void;
  /** Masks that drop units in both phases of a step (dropout); needs an estimator with `supportsMasks`. */
  readonly unitMasks?: UnitMasks;
  /** Named state tensors (a running average), checkpointed and restored by the divergence guard. */
  state?(): Record<string, Tensor>;
  /** Restores what `state()` returned (as host matrices). */
  loadState?(state: Readonly<Record<string, Matrix>>): void;
  /**
   * Re-reads host copies of its state after a divergence guard overwrote the tensors of `state()`
   * in place; reads with `await backend.read` (asynchronous backends have no other) and returns
   * the promise, which the trainer awaits.
   */
  resync?(): Promise<void>;
  spec(): RegularizerSpec;
  /** Frees what `attach` allocated. */
  dispose?(): void;
}

const PARAMETER_ROLES: readonly ParameterRole[] = ['weights', 'bias', 'scale'];

/**
 * Throws unless `roles` is an array of parameter roles ("weights", "bias", "scale"), naming
 * `what` (the option) and the value; returns a copy.
 */
export function checkRoles(what: string, roles: unknown): ParameterRole[] {
  if (!Array.isArray(roles) || !roles.every((r) => PARAMETER_ROLES.includes(r as ParameterRole))) {
    throw new InvalidValueError(`${what} must be an array of parameter roles (${PARAMETER_ROLES.map((r) => `"${r}"`).join(', ')}), got ${JSON.stringify(roles) ?? String(roles)}`);
  }
  return [...(roles as ParameterRole[])];
}
