import type { Matrix } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { checkNumber } from '../validation.js';
import { ParallelDynamics } from './parallel-dynamics.js';
import { checkSampleRequest, type SampleRequest, type Sampler, type SamplerSpec } from './sampler.js';

/** Options of the "parallel-dynamics" sampler. */
export interface ParallelDynamicsModelSamplerOptions {
  /** Every layer's input is divided by T before its mean and sample; default 1; must be > 0. */
  temperature?: number;
}

/**
 * The "parallel-dynamics" sampler: synchronous updates ({@link ParallelDynamics}) of every unit
 * of every layer at once from the previous state, on the model's backend, for any graph and
 * any unit type. NOT guaranteed to reach the Boltzmann distribution: with lateral weights (or
 * any two interacting units updated together) its stationary distribution is in general a
 * different one, and it can oscillate. (On a bipartite graph the visible layer of every second
 * step follows a block-Gibbs chain, so its marginal is right; the joint state is not.) For
 * speed, the deterministic-network limit, or to study the dynamics; use "gibbs" or "glauber"
 * to sample p(s).
 *
 * From random units every unit is drawn from a zero input (Bernoulli: a fair coin); from data
 * the visible layer starts at the rows. The probabilities are the visible means of the last step.
 */
export class ParallelDynamicsModelSampler implements Sampler {
  static readonly type = 'parallel-dynamics';
  readonly type = ParallelDynamicsModelSampler.type;
  private readonly dynamics: ParallelDynamics;

  constructor(readonly model: EnergyModel, options: ParallelDynamicsModelSamplerOptions = {}) {
    const temperature = checkNumber('sampler "parallel-dynamics" temperature', options.temperature ?? 1, Number.MIN_VALUE);
    this.dynamics = new ParallelDynamics(model, { temperature });
  }

  /** The temperature T of the dynamics. */
  get temperature(): number {
    return this.dynamics.temperature;
  }

  async sample(request: SampleRequest): Promise<Matrix> {
    const { count, sweeps, init, rng, binary } = checkSampleRequest(this.model, request);
    const model = this.model;
    const be = model.backend;
    const chain = this.dynamics.createChain(count);
    try {
      this.dynamics.initializeUniform(chain, rng);
      if (init !== undefined) {
        be.write(chain.states[0]!, init);
        if (sweeps === 0) {
          // No step: the visible means given the starting state (the states stay the data).
          this.dynamics.computeInput(chain, 0);
          model.layers[0]!.mean(chain.inputs[0]!, chain.means[0]!);
        }
      }
      for (let s = 0; s < sweeps; s++) this.dynamics.step(chain, rng);
      return await be.read(binary ? chain.states[0]! : chain.means[0]!);
    } finally {
      chain.dispose();
    }
  }

  describe(sweeps: number): string {
    return `${sweeps} parallel-dynamics step${sweeps === 1 ? '' : 's'} at T = ${this.temperature}`;
  }

  spec(): SamplerSpec {
    return { type: this.type, temperature: this.temperature };
  }
}
