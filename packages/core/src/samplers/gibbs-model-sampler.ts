import { InvalidValueError, type Matrix } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { GibbsSampler } from './gibbs.js';
import { UnsupportedModelError, checkSampleRequest, type SampleRequest, type Sampler, type SamplerSpec } from './sampler.js';

/**
 * The "gibbs" sampler: block Gibbs sampling ({@link GibbsSampler}) on the model's backend, for
 * models whose layers split into two blocks with no connection inside a block (RBMs, DBMs, any
 * bipartite graph of any unit types). A sweep updates the block of the visible layer given the
 * other block, then the other block. It leaves p(s) invariant, so long runs reach the
 * Boltzmann distribution.
 *
 * From random units every layer starts independent from its offset alone (`RBM.sample`'s
 * start; the same numbers for the same stream). From data the visible layer starts at the rows
 * (the other layers of its block, if any, independent from their offsets), then the other
 * block is sampled given it. No options.
 */
export class GibbsModelSampler implements Sampler {
  static readonly type = 'gibbs';
  readonly type = GibbsModelSampler.type;
  private readonly gibbs: GibbsSampler;

  constructor(readonly model: EnergyModel) {
    try {
      this.gibbs = new GibbsSampler(model);
    } catch (error) {
      if (!(error instanceof InvalidValueError)) throw error;
      throw new UnsupportedModelError(`sampler "gibbs" (block Gibbs) needs a model whose layers split into two blocks with no connection inside a block: ${error.message}; sample it with "glauber" (one unit at a time) instead`);
    }
  }

  async sample(request: SampleRequest): Promise<Matrix> {
    const { count, sweeps, init, rng, binary } = checkSampleRequest(this.model, request);
    const be = this.model.backend;
    const gibbs = this.gibbs;
    const chain = gibbs.createChain(count);
    try {
      if (init === undefined) {
        gibbs.initializeIndependent(chain, rng);
      } else {
        if (gibbs.blocks[0]!.length > 1) gibbs.initializeIndependent(chain, rng);
        be.write(chain.states[0]!, init);
        gibbs.updateBlock(chain, 1, rng);
        // No sweep: the visible probabilities given the other block's first sample (the states stay the data).
        if (sweeps === 0) gibbs.updateLayer(chain, 0, rng, false);
      }
      for (let s = 0; s < sweeps; s++) gibbs.sweep(chain, rng);
      return await be.read(binary ? chain.states[0]! : chain.means[0]!);
    } finally {
      chain.dispose();
    }
  }

  describe(sweeps: number): string {
    return `${sweeps} Gibbs sweep${sweeps === 1 ? '' : 's'}`;
  }

  spec(): SamplerSpec {
    return { type: this.type };
  }
}
