import type { RngState } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { checkNumber } from '../validation.js';
import { Chain } from './chain.js';

/** Options of {@link ParallelDynamics}. */
export interface ParallelDynamicsOptions {
  /** Inputs are divided by T before each layer turns them into means and samples; default 1. */
  temperature?: number;
}

/**
 * Parallel (synchronous) dynamics: every unit of every layer is redrawn at once from its
 * conditional given the *previous* states of all the others, on the model's backend, for any
 * graph (lateral connections included) and any unit type.
 *
 * Not guaranteed to reach the Boltzmann distribution: when units that interact are updated
 * together the chain no longer satisfies detailed balance with exp(-E/T), so its stationary
 * distribution is in general a different one (it can even oscillate: two units with a strong
 * negative coupling flip together between 00 and 11). It is exact only when no two updated
 * units interact (e.g. all weights zero). Use Glauber dynamics (`GlauberSampler`) or block
 * Gibbs on a bipartite graph (`GibbsSampler`) to sample p(s); use this for speed, for the
 * deterministic-network limit, or to study the dynamics itself.
 */
export class ParallelDynamics {
  private temperatureValue: number;

  constructor(readonly model: EnergyModel, options: ParallelDynamicsOptions = {}) {
    this.temperatureValue = checkNumber('temperature', options.temperature ?? 1, Number.MIN_VALUE);
  }

  get temperature(): number {
    return this.temperatureValue;
  }

  set temperature(t: number) {
    this.temperatureValue = checkNumber('temperature', t, Number.MIN_VALUE);
  }

  /** Tensors for `rows` chains (contents undefined until initialised or written). */
  createChain(rows: number): Chain {
    const be = this.model.backend;
    const make = () => this.model.layers.map((l) => be.zeros(rows, l.size));
    return new Chain(be, rows, make(), make(), make());
  }

  /** Draws every unit from a zero input (Bernoulli: a fair coin): a starting point that favours no state. */
  initializeUniform(chain: Chain, rng: RngState): void {
    const be = this.model.backend;
    this.model.layers.forEach((layer, l) => {
      be.fill(chain.inputs[l]!, 0);
      layer.mean(chain.inputs[l]!, chain.means[l]!);
      layer.sample(chain.inputs[l]!, chain.means[l]!, rng, chain.states[l]!);
    });
  }

  /** Writes layer `l`'s input given the chain's current states, divided by T, into `chain.inputs[l]`. */
  computeInput(chain: Chain, l: number): void {
    const scale = 1 / this.temperatureValue;
    this.model.computeInput(l, chain.states, chain.inputs[l]!);
    if (scale !== 1) this.model.backend.affine(chain.inputs[l]!, scale, 0, chain.inputs[l]!);
  }

  /** One synchronous step: all inputs from the current states first, then every layer redrawn. */
  step(chain: Chain, rng: RngState): void {
    const model = this.model;
    model.layers.forEach((_, l) => this.computeInput(chain, l));
    model.layers.forEach((layer, l) => {
      layer.mean(chain.inputs[l]!, chain.means[l]!);
      layer.sample(chain.inputs[l]!, chain.means[l]!, rng, chain.states[l]!);
    });
  }
}
