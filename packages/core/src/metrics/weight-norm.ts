import type { Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import type { ParameterRole } from '../parameter.js';
import type { Metric } from './metric.js';

/**
 * The Frobenius norm of the model's weights, sqrt(sum over every parameter of role `roles`
 * (default: weights) of w^2), read when `value` is called. It measures the parameters, not
 * data: `reset` and `update` do nothing. Steadily growing norms point at a missing weight
 * decay or too large a learning rate.
 */
export class WeightNormMetric implements Metric {
  readonly name = 'weightNorm';

  constructor(readonly model: EnergyModel, readonly roles: readonly ParameterRole[] = ['weights']) {}

  reset(): void {}

  update(_batch?: Tensor): void {}

  async value(): Promise<number> {
    let sum = 0;
    for (const p of this.model.parameters) if (this.roles.includes(p.role)) sum += await this.model.backend.reduce('sumSquares', p.tensor);
    return Math.sqrt(sum);
  }

  dispose(): void {}
}
