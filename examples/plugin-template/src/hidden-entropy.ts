import { DeviceSum, type EnergyModel, type Metric } from '@boltzmann/core';
import { InvalidValueError, type Tensor } from '@boltzmann/tensor';

/**
 * The mean entropy (in nats) of the hidden units given the data: H(p) = -p log p - (1-p) log(1-p)
 * for p = E[h | v], computed from the input a as softplus(a) - p a (stable for any a). Near
 * log 2 = 0.693 the hidden units are undecided; near 0 they act as deterministic features.
 * For a hidden layer of Bernoulli units fed by the visible layer only (an RBM's).
 */
export class HiddenEntropyMetric implements Metric {
  static readonly metricName = 'hiddenEntropy';
  readonly name = HiddenEntropyMetric.metricName;
  private readonly sum: DeviceSum;
  private readonly states: (Tensor | undefined)[];

  constructor(
    readonly model: EnergyModel,
    readonly layerIndex = 1,
  ) {
    const layer = model.layers[layerIndex];
    if (layer === undefined || layer.meanActivation !== 'sigmoid') {
      throw new InvalidValueError(`metric "hiddenEntropy" needs Bernoulli (sigmoid) units in layer ${layerIndex}, got ${layer ? `${layer.type} units` : 'no such layer'}`);
    }
    this.sum = new DeviceSum(model.backend, layer.size);
    this.states = model.layers.map(() => undefined);
  }

  reset(): void {
    this.sum.reset();
  }

  update(batch: Tensor): void {
    const layer = this.model.layers[this.layerIndex]!;
    const ws = this.model.workspace;
    const be = this.model.backend;
    const input = ws.get('hidden-entropy:input', batch.rows, layer.size);
    const p = ws.get('hidden-entropy:p', batch.rows, layer.size);
    this.states[0] = batch;
    this.model.computeInput(this.layerIndex, this.states, input);
    layer.mean(input, p);
    be.binary('mul', p, input, p); // p a
    be.unary('softplus', input, input);
    be.binary('sub', input, p, input); // softplus(a) - p a
    this.sum.addColumns(input);
  }

  async value(): Promise<number> {
    return (await this.sum.total()) / (this.sum.rows * this.model.layers[this.layerIndex]!.size);
  }

  dispose(): void {
    this.sum.dispose();
  }
}
