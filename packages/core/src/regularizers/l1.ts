import type { ParameterRole } from '../parameter.js';
import { checkNumber } from '../validation.js';
import { checkRoles, type Regularizer, type RegularizerContext, type RegularizerSpec } from './regularizer.js';

/**
 * L1 weight decay: adds coefficient * sign(w) to the gradient of every parameter whose role is
 * in `roles` (weights only by default), i.e. the (sub)gradient of coefficient * sum |w|, with
 * sign(0) = 0. Unlike L2 its pull does not shrink with the weight, so weights the data does not
 * need are driven to (about) zero: sparse filters.
 */
export class L1WeightDecay implements Regularizer {
  static readonly type = 'l1';
  readonly type = L1WeightDecay.type;
  readonly coefficient: number;
  readonly roles: readonly ParameterRole[];

  constructor(coefficient: number, roles: readonly ParameterRole[] = ['weights']) {
    this.coefficient = checkNumber('L1 weight decay', coefficient, 0);
    this.roles = checkRoles('L1 weight decay "roles"', roles);
  }

  addGradient({ model, grads }: RegularizerContext): void {
    if (this.coefficient === 0) return;
    const be = model.backend;
    model.parameters.forEach((p, i) => {
      if (!this.roles.includes(p.role)) return;
      const g = grads.tensors[i]!;
      const sign = model.workspace.get(`l1:sign:${p.name}`, p.tensor.rows, p.tensor.cols);
      be.unary('sign', p.tensor, sign);
      be.axpby(1, g, this.coefficient, sign, g);
    });
  }

  spec(): RegularizerSpec {
    return { type: this.type, coefficient: this.coefficient, roles: [...this.roles] };
  }
}
