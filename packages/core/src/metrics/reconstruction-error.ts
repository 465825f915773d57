import { rngState, type RngState, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { RngStreams } from '../rng-streams.js';
import { ChainsByRows } from '../samplers/chains-by-rows.js';
import { GibbsSampler } from '../samplers/gibbs.js';
import { DeviceSum, type Metric } from './metric.js';

/**
 * Mean squared error between the data and its one-step reconstruction probabilities
 * E[v | h], h sampled from p(h | v): the first Gibbs step of CD-1, so during training the
 * metric reuses the estimator's reconstruction for free (`addReconstruction`). Averaged over
 * rows and visible units. A cheap progress signal, not a likelihood.
 */
export class ReconstructionErrorMetric implements Metric {
  readonly name = 'reconstructionError';
  private readonly sum: DeviceSum;
  private readonly sampler: GibbsSampler;
  private readonly chains = new ChainsByRows((rows) => this.sampler.createChain(rows));
  readonly rng: RngState;

  /** `seed` drives the hidden samples of `update` (not those of `addReconstruction`). */
  constructor(readonly model: EnergyModel, options: { seed?: number } = {}) {
    this.sum = new DeviceSum(model.backend, model.layers[0]!.size);
    this.sampler = new GibbsSampler(model, { meanLayers: [model.layers[0]!.name] });
    this.rng = rngState(options.seed ?? 0, RngStreams.monitor);
  }

  reset(): void {
    this.sum.reset();
  }

  update(batch: Tensor): void {
    const chain = this.chains.get(batch.rows);
    this.model.backend.copy(batch, chain.states[0]!);
    this.sampler.updateBlock(chain, 1, this.rng);
    this.sampler.updateBlock(chain, 0, this.rng);
    this.addReconstruction(batch, chain.means[0]!);
  }

  /** Adds a batch and a reconstruction computed elsewhere (the CD chain). */
  addReconstruction(batch: Tensor, reconstruction: Tensor): void {
    const diff = this.model.workspace.get('metric:reconstruction-diff', batch.rows, batch.cols);
    this.model.backend.binary('sub', batch, reconstruction, diff);
    this.model.backend.unary('square', diff, diff);
    this.sum.addColumns(diff);
  }

  async value(): Promise<number> {
    return (await this.sum.total()) / (this.sum.rows * this.model.layers[0]!.size);
  }

  dispose(): void {
    this.chains.dispose();
    this.sum.dispose();
  }
}
