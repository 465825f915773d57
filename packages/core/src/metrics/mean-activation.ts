import type { Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { DeviceSum, type Metric } from './metric.js';

/**
 * Mean of E[h | v] over rows and units of one hidden layer (default: layer 1). Watch it for
 * collapse: near 0 or 1 the hidden units carry no information.
 */
export class MeanActivationMetric implements Metric {
  readonly name = 'meanHiddenActivation';
  readonly layerIndex: number;
  private readonly sum: DeviceSum;
  private readonly states: (Tensor | undefined)[];

  constructor(readonly model: EnergyModel, options: { layer?: string } = {}) {
    this.layerIndex = options.layer === undefined ? 1 : model.layerIndex(options.layer);
    this.sum = new DeviceSum(model.backend, model.layers[this.layerIndex]!.size);
    this.states = model.layers.map(() => undefined);
  }

  reset(): void {
    this.sum.reset();
  }

  /** Needs the layer to depend on layer 0 only (an RBM's hidden layer). */
  update(batch: Tensor): void {
    const layer = this.model.layers[this.layerIndex]!;
    const input = this.model.workspace.get('metric:activation-input', batch.rows, layer.size);
    this.states[0] = batch;
    this.model.computeInput(this.layerIndex, this.states, input);
    layer.mean(input, input);
    this.addMeans(input);
  }

  /** Adds conditional means computed elsewhere (the estimator's data phase). */
  addMeans(means: Tensor): void {
    this.sum.addColumns(means);
  }

  dispose(): void {
    this.sum.dispose();
  }

  async value(): Promise<number> {
    return (await this.sum.total()) / (this.sum.rows * this.model.layers[this.layerIndex]!.size);
  }
}
