import type { Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { DeviceSum, type Metric } from './metric.js';

/**
 * Mean free energy F(v) = -log sum_h exp(-E(v, h)) over the rows seen. Comparing it on a
 * training subset and on held-out data of the same size shows overfitting (Hinton's guide):
 * the held-out value rising above the training one.
 */
export class FreeEnergyMetric implements Metric {
  readonly name = 'freeEnergy';
  private readonly sum: DeviceSum;
  private readonly states: (Tensor | undefined)[];

  constructor(readonly model: EnergyModel) {
    this.sum = new DeviceSum(model.backend);
    this.states = model.layers.map(() => undefined);
  }

  reset(): void {
    this.sum.reset();
  }

  update(batch: Tensor): void {
    const f = this.model.workspace.get('metric:free-energy', batch.rows, 1);
    this.states[0] = batch;
    this.model.freeEnergy(this.states, f);
    this.sum.addColumns(f);
  }

  dispose(): void {
    this.sum.dispose();
  }

  async value(): Promise<number> {
    return (await this.sum.total()) / this.sum.rows;
  }
}
