import type { EnergyModel } from '../models/energy-model.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { Regularizer } from '../regularizers/regularizer.js';

/** What a training step adds to the estimator's gradients before the optimizer step. */
export interface GradientAdditions {
  /** The regularizers whose `addGradient` runs, in order. */
  readonly adders: readonly Regularizer[];
  /** Per parameter, the decay the optimizer adds itself (`Optimizer.takesDecay`); undefined: none folded. */
  readonly decays: readonly number[] | undefined;
}

/**
 * Folds a plain L2 decay into the optimizer step when that gives the same bits: the optimizer
 * takes decays, and the decay is the only regularizer adding to gradients (with another one the
 * two additions would round in a different order). The optimizer then reads each weight once
 * per step instead of once for the decay and once more for the step.
 */
export function planGradientAdditions(model: EnergyModel, regularizers: readonly Regularizer[], optimizer: Optimizer): GradientAdditions {
  const adders = regularizers.filter((r) => r.addGradient !== undefined);
  const only = adders.length === 1 ? adders[0]! : undefined;
  if (optimizer.takesDecay !== true || only?.decayCoefficients === undefined) return { adders, decays: undefined };
  return { adders: [], decays: only.decayCoefficients(model) };
}
