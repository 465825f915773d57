import type { RngState } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { Chain } from './chain.js';
import { checkBoolean } from '../validation.js';

/** Options of a block Gibbs sampler. */
export interface GibbsOptions {
  /**
   * Names of layers whose chain state is their conditional mean rather than a sample
   * (e.g. ["visible"]: reconstruction probabilities drive the chain, as in Hinton's CD-1 recipe).
   * Default: every layer samples.
   */
  meanLayers?: readonly string[];
  /**
   * Fuse the mean into the product where the model can (`EnergyModel.fusesMean`: a layer whose
   * mean is an activation of its input, e.g. Bernoulli's sigmoid, fed by one dense
   * connection): its mean comes from one `backend.linear(x, W, bias, mean, { activation })`
   * instead of the input, then a separate activation pass. Such a layer's `chain.inputs` entry
   * is then never written, so opt in only for chains whose inputs nothing reads (contrastive
   * divergence's own chains; not parallel tempering or mean-field PCD, which read them).
   * The means agree with the unfused ones to the backend's rounding of the fused op (the
   * reference and CPU backends: bit for bit in float64). Default false.
   */
  fuseMeans?: boolean;
  /**
   * Leave the given layers (`UnsampledLayer`, e.g. a conditional RBM's past frames) out of the
   * blocks: their chain states are set by the caller and stay clamped, so a triangle such as
   * frame - hidden - past still splits into {frame} and {hidden}. Default false (a given layer
   * then counts as a layer of the graph, and closes such a cycle).
   */
  clampGiven?: boolean;
}

/**
 * Block Gibbs sampling over a bipartite model graph: the layers split into two blocks with
 * no connection inside a block (RBM: {visible} and {hidden}; DBM: even and odd layers), and a
 * sweep updates block 0 given block 1, then block 1 given block 0.
 */
export class GibbsSampler {
  /** [block of layer 0, the other block]. */
  readonly blocks: readonly (readonly number[])[];
  private readonly useMean: readonly boolean[];
  /** Per layer: whether its mean is fused into its input's product (`fuseMeans`). */
  private readonly fused: readonly boolean[];

  constructor(readonly model: EnergyModel, options: GibbsOptions = {}) {
    this.blocks = model.bipartition({ excludeGiven: options.clampGiven ?? false });
    const meanLayers = options.meanLayers ?? [];
    for (const name of meanLayers) model.layerIndex(name); // unknown names throw here, not mid-training
    this.useMean = model.layers.map((l) => meanLayers.includes(l.name));
    const fuse = checkBoolean('Gibbs sampler "fuseMeans"', options.fuseMeans ?? false);
    this.fused = model.layers.map((_, l) => fuse && model.fusesMean(l));
  }

  /** Whether `updateLayer` fuses layer `l`'s mean into its input's product (and leaves `chain.inputs[l]` unwritten). */
  fusesMean(l: number): boolean {
    return this.fused[l]!;
  }

  /** Whether layer `l` carries its mean through the chain. */
  carriesMean(l: number): boolean {
    return this.useMean[l]!;
  }

  /** Tensors for `rows` chains; contents undefined until initialised or clamped. */
  createChain(rows: number): Chain {
    const be = this.model.backend;
    const inputs = this.model.layers.map((l) => be.zeros(rows, l.size));
    const means = this.model.layers.map((l) => be.zeros(rows, l.size));
    const states = this.model.layers.map((l, i) => (this.useMean[i] ? means[i]! : be.zeros(rows, l.size)));
    return new Chain(be, rows, inputs, means, states);
  }

  /**
   * Updates layer `l` from its neighbours' states: input, mean (or the mean in one fused pass,
   * see `fuseMeans`), then a sample unless it carries its mean or `sample` is false. At an
   * inverse temperature `beta` other than 1 the input is scaled by beta first (sampling
   * exp(-beta E), as parallel tempering does; never fused).
   */
  updateLayer(chain: Chain, l: number, rng: RngState, sample = true, beta = 1): void {
    const layer = this.model.layers[l]!;
    if (this.fused[l] && beta === 1) {
      this.model.computeMean(l, chain.states, chain.means[l]!);
    } else {
      this.model.computeInput(l, chain.states, chain.inputs[l]!);
      if (beta !== 1) this.model.backend.affine(chain.inputs[l]!, beta, 0, chain.inputs[l]!);
      layer.mean(chain.inputs[l]!, chain.means[l]!);
    }
    // A fused layer samples from its mean alone (`UnitLayer.meanActivation`); its input is stale.
    if (sample && !this.useMean[l]) layer.sample(chain.inputs[l]!, chain.means[l]!, rng, chain.states[l]!);
  }

  /** Updates every layer of block `b` (0 or 1), at inverse temperature `beta` (see `updateLayer`). */
  updateBlock(chain: Chain, b: number, rng: RngState, sample = true, beta = 1): void {
    for (const l of this.blocks[b]!) this.updateLayer(chain, l, rng, sample, beta);
  }

  /** One sweep: block 0 given block 1, then block 1 given block 0. */
  sweep(chain: Chain, rng: RngState): void {
    this.updateBlock(chain, 0, rng);
    this.updateBlock(chain, 1, rng);
  }

  /** Draws every layer independently from its offset alone (zero field): a starting point for free-running chains. */
  initializeIndependent(chain: Chain, rng: RngState): void {
    const be = this.model.backend;
    this.model.layers.forEach((layer, l) => {
      const input = chain.inputs[l]!;
      be.fill(input, 0);
      if (layer.fieldOffset !== undefined) be.addRowVector(input, layer.fieldOffset, input);
      layer.mean(input, chain.means[l]!);
      if (!this.useMean[l]) layer.sample(input, chain.means[l]!, rng, chain.states[l]!);
    });
  }
}
