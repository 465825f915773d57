import type { EnergyModel } from '../models/energy-model.js';
import type { ParameterRole } from '../parameter.js';
import { checkNumber } from '../validation.js';
import { checkRoles, type Regularizer, type RegularizerContext, type RegularizerSpec } from './regularizer.js';

/**
 * L2 weight decay: adds coefficient * w to the gradient of every parameter whose role is in
 * `roles` (weights only by default: biases are not decayed), i.e. the gradient of the
 * penalty (coefficient / 2) * ||w||^2.
 */
export class L2WeightDecay implements Regularizer {
  static readonly type = 'l2';
  readonly type = L2WeightDecay.type;
  readonly coefficient: number;
  readonly roles: readonly ParameterRole[];

  constructor(coefficient: number, roles: readonly ParameterRole[] = ['weights']) {
    this.coefficient = checkNumber('L2 weight decay', coefficient, 0);
    this.roles = checkRoles('L2 weight decay "roles"', roles);
  }

  addGradient({ model, grads }: RegularizerContext): void {
    this.decayCoefficients(model).forEach((c, i) => {
      if (c === 0) return;
      const g = grads.tensors[i]!;
      model.backend.axpby(1, g, c, model.parameters[i]!.tensor, g);
    });
  }

  decayCoefficients(model: EnergyModel): readonly number[] {
    return model.parameters.map((p) => (this.roles.includes(p.role) ? this.coefficient : 0));
  }

  spec(): RegularizerSpec {
    return { type: this.type, coefficient: this.coefficient, roles: [...this.roles] };
  }
}
