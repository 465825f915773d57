import { InvalidValueError, Matrix, ShapeError, type RngState, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';
import type { Chain } from '../samplers/chain.js';
import { GibbsSampler } from '../samplers/gibbs.js';
import { checkInteger } from '../validation.js';
import type { Estimator, EstimatorSpec, StepObserver } from './estimator.js';

/** Options of contrastive divergence. */
export interface ContrastiveDivergenceOptions {
  /** Gibbs sweeps per step (the k of CD-k); default 1. */
  k?: number;
  /**
   * Persistent chains (PCD-k / stochastic maximum likelihood): the model phase continues the
   * chains of the previous step instead of restarting at the data. Default false.
   */
  persistent?: boolean;
  /**
   * Layers whose chain state is their mean rather than a sample. Default: CD uses the visible
   * probabilities (Hinton's recipe, less noise) unless the visible layer needs sampled
   * statistics (a Gaussian learning its variance); PCD samples every layer (a proper Markov chain).
   */
  meanLayers?: readonly string[];
}

/**
 * CD-k and PCD-k. Data phase: clamp layer 0 to the batch and take E[hidden | data] (exact, the
 * hidden layers being independent given the visible one). Model phase: k block-Gibbs sweeps
 * from the data (CD) or from the persistent chains (PCD); statistics use the chain states of
 * block 0 and the conditional means of the last updated block (Rao-Blackwellised), except for
 * layers that need sampled statistics (`UnitLayer.needsSampledStatistics`), which contribute
 * samples in both phases. PCD keeps as many chains as the first batch has rows.
 * grads = <dE/dtheta>_data - <dE/dtheta>_model.
 */
export class ContrastiveDivergence implements Estimator {
  readonly type: string;
  readonly k: number;
  readonly persistent: boolean;
  readonly sampler: GibbsSampler;
  private readonly meanLayers: readonly string[];
  /** Whether some layer of block 1 needs sampled statistics (so the data phase samples it too). */
  private readonly sampleBlock1: boolean;
  /** CD: chains by batch size (a partial last batch gets its own); PCD: data-phase buffers. */
  private readonly chains = new Map<number, Chain>();
  private persistentChain: Chain | undefined;
  /** Per-layer statistics of the two phases, refilled each step (no allocation). */
  private readonly dataStats: Tensor[];
  private readonly modelStats: Tensor[];

  constructor(readonly model: EnergyModel, options: ContrastiveDivergenceOptions = {}) {
    this.k = checkInteger('k (Gibbs steps of contrastive divergence)', options.k ?? 1);
    this.persistent = options.persistent ?? false;
    this.type = this.persistent ? 'pcd' : 'cd';
    const visible = model.layers[0]!;
    this.meanLayers = options.meanLayers ?? (this.persistent || visible.needsSampledStatistics ? [] : [visible.name]);
    for (const name of this.meanLayers) {
      const layer = model.layer(name);
      if (layer.needsSampledStatistics) {
        throw new InvalidValueError(`layer "${name}" (${layer.type}) needs sampled statistics (its energy is not linear in its state): it cannot carry its mean through the chain; leave it out of meanLayers`);
      }
    }
    this.sampler = new GibbsSampler(model, { meanLayers: this.meanLayers });
    const [dataBlock] = this.sampler.blocks;
    if (dataBlock!.length !== 1 || model.layers.length < 2) {
      throw new InvalidValueError(
        `contrastive divergence needs every hidden layer connected only to the visible layer (an RBM); layers ${dataBlock!.map((l) => model.layers[l]!.name).join(', ')} are all clamped by the data: use a mean-field estimator for deep models`,
      );
    }
    this.sampleBlock1 = this.sampler.blocks[1]!.some((l) => model.layers[l]!.needsSampledStatistics === true);
    this.dataStats = new Array<Tensor>(model.layers.length);
    this.modelStats = new Array<Tensor>(model.layers.length);
  }

  computeGradients(batch: Tensor, grads: GradientSet, rng: RngState, observer?: StepObserver): void {
    const model = this.model;
    const visible = model.layers[0]!;
    if (batch.cols !== visible.size) throw new ShapeError(`batch has ${batch.cols} columns, layer "${visible.name}" has ${visible.size} units`);
    const rows = batch.rows;

    // Data phase: hidden means given the batch.
    const data = this.chainFor(this.chains, rows);
    model.backend.copy(batch, data.states[0]!);
    const sampleHidden = !this.persistent || this.sampleBlock1;
    this.sampler.updateBlock(data, 1, rng, sampleHidden);
    const dataMeans = this.statistics(data, this.dataStats);
    model.addEnergyGradients(dataMeans, 1 / rows, grads, false);
    observer?.onDataPhase?.(dataMeans);

    // Model phase.
    let chain = data;
    if (this.persistent) {
      if (this.persistentChain === undefined) {
        // Start the persistent chains at the first batch (the data-phase hidden means, sampled).
        this.persistentChain = this.sampler.createChain(rows);
        model.backend.copy(batch, this.persistentChain.states[0]!);
        this.sampler.updateBlock(this.persistentChain, 1, rng);
      }
      chain = this.persistentChain;
    }
    for (let step = 0; step < this.k; step++) {
      this.sampler.sweep(chain, rng);
      if (step === 0 && !this.persistent) observer?.onReconstruction?.(batch, chain.means[0]!);
    }
    model.addEnergyGradients(this.statistics(chain, this.modelStats), -1 / chain.rows, grads, true);
  }

  /** Block 0 contributes its chain states, the last updated block its conditional means (or samples, where a layer needs them). */
  private statistics(chain: Chain, out: Tensor[]): readonly Tensor[] {
    const [b0, b1] = this.sampler.blocks;
    for (const l of b0!) out[l] = chain.states[l]!;
    for (const l of b1!) out[l] = this.model.layers[l]!.needsSampledStatistics ? chain.states[l]! : chain.means[l]!;
    return out;
  }

  private chainFor(cache: Map<number, Chain>, rows: number): Chain {
    let chain = cache.get(rows);
    if (chain === undefined) {
      if (cache.size >= 4) this.disposeChains(cache); // bounded: callers use one or two batch sizes
      chain = this.sampler.createChain(rows);
      cache.set(rows, chain);
    }
    return chain;
  }

  private disposeChains(cache: Map<number, Chain>): void {
    for (const c of cache.values()) c.dispose();
    cache.clear();
  }

  spec(): EstimatorSpec {
    return { type: this.type, k: this.k, meanLayers: [...this.meanLayers] };
  }

  state(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    if (this.persistentChain) {
      this.model.layers.forEach((layer, l) => {
        out[`chain.${layer.name}`] = this.persistentChain!.states[l]!;
      });
    }
    return out;
  }

  loadState(state: Readonly<Record<string, Matrix>>): void {
    const names = Object.keys(state);
    if (names.length === 0) return;
    if (!this.persistent) throw new InvalidValueError(`a non-persistent estimator has no state to load (got ${names.join(', ')})`);
    const layers = this.model.layers;
    const first = state[`chain.${layers[0]!.name}`];
    if (!(first instanceof Matrix)) throw new InvalidValueError(`persistent chain state lacks "chain.${layers[0]!.name}"`);
    const chain = this.sampler.createChain(first.rows);
    try {
      layers.forEach((layer, l) => {
        const m = state[`chain.${layer.name}`];
        if (!(m instanceof Matrix) || m.rows !== first.rows || m.cols !== layer.size) {
          throw new ShapeError(`persistent chain "chain.${layer.name}" must be ${first.rows}x${layer.size}, got ${m instanceof Matrix ? `${m.rows}x${m.cols}` : 'nothing'}`);
        }
        this.model.backend.write(chain.states[l]!, m);
      });
    } catch (error) {
      chain.dispose();
      throw error;
    }
    this.persistentChain?.dispose();
    this.persistentChain = chain;
  }

  dispose(): void {
    this.disposeChains(this.chains);
    this.persistentChain?.dispose();
    this.persistentChain = undefined;
  }
}
