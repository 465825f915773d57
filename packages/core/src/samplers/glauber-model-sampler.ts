import { InvalidValueError, Matrix, nextKey, uniformAt } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { checkQuadraticModel, graphQuadraticEnergy } from '../models/graph-energy.js';
import { checkNumber } from '../validation.js';
import { GlauberSampler } from './glauber.js';
import { UnsupportedModelError, checkSampleRequest, type SampleRequest, type Sampler, type SamplerSpec } from './sampler.js';

/** Options of the "glauber" sampler. */
export interface GlauberModelSamplerOptions {
  /** T in p(s) proportional to exp(-E(s)/T); default 1; 0: zero-temperature dynamics (descent). */
  temperature?: number;
}

/**
 * The "glauber" sampler: Glauber dynamics ({@link GlauberSampler}, one random unit at a time,
 * heat bath) over all the units of a model of two-valued layers (0/1 or -1/+1, see
 * `UnitLayer.twoValued`) joined by dense and lateral
 * connections (its energy read as one quadratic form, host float64), so any such graph works:
 * RBMs, DBMs, general Boltzmann machines with lateral weights. It satisfies detailed balance
 * with exp(-E/T), so long runs reach the Boltzmann distribution at T (T > 0). A sweep is as many
 * single-unit updates as the model has units.
 *
 * From random units every unit starts low or high with probability 1/2. From data each visible
 * unit starts high with the probability its value gives ((x - low) / (high - low): exact values
 * start there) and the other units at random. Rows are float64; without `binary` they are the
 * conditional means E[v_i | all other units] of the last state (for 0/1 units p(v_i = 1 | rest)
 * = sigmoid(f_i / T)).
 */
export class GlauberModelSampler implements Sampler {
  static readonly type = 'glauber';
  readonly type = GlauberModelSampler.type;
  readonly temperature: number;

  constructor(readonly model: EnergyModel, options: GlauberModelSamplerOptions = {}) {
    this.temperature = checkNumber('sampler "glauber" temperature', options.temperature ?? 1, 0);
    try {
      checkQuadraticModel(model, 'sampler "glauber"');
    } catch (error) {
      throw error instanceof InvalidValueError ? new UnsupportedModelError(error.message) : error;
    }
  }

  async sample(request: SampleRequest): Promise<Matrix> {
    const { count, sweeps, init, rng, binary } = checkSampleRequest(this.model, request);
    const energy = await graphQuadraticEnergy(this.model);
    const glauber = new GlauberSampler(energy, { temperature: this.temperature, rng });
    const chains = glauber.createChains(count);
    const nv = this.model.layers[0]!.size;
    const gap = energy.high - energy.low;
    if (init !== undefined) {
      const key = nextKey(rng);
      const state = new Float64Array(energy.size);
      for (let r = 0; r < count; r++) {
        state.set(chains.state(r));
        // Each visible unit starts high with the probability its value gives (exact values start there).
        for (let i = 0; i < nv; i++) state[i] = uniformAt(key, r * nv + i) < (init.data[r * nv + i]! - energy.low) / gap ? energy.high : energy.low;
        chains.setState(r, state);
      }
    }
    glauber.sweep(chains, sweeps); // also brings the fields up to date when sweeps is 0
    if (binary) return chains.toMatrix(nv);
    const out = Matrix.zeros(count, nv, 'float64');
    for (let r = 0; r < count; r++) {
      for (let i = 0; i < nv; i++) out.data[r * nv + i] = energy.low + gap * glauber.probabilityHigh(chains, r, i);
    }
    return out;
  }

  describe(sweeps: number): string {
    return `${sweeps} Glauber sweep${sweeps === 1 ? '' : 's'} at T = ${this.temperature}`;
  }

  spec(): SamplerSpec {
    return { type: this.type, temperature: this.temperature };
  }
}
