import { InvalidValueError, Matrix, ShapeError, type RngState, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';
import type { Chain } from '../samplers/chain.js';
import { ChainsByRows } from '../samplers/chains-by-rows.js';
import { GibbsSampler } from '../samplers/gibbs.js';
import { MeanField, type MeanFieldOptions, type MeanFieldReport } from '../samplers/mean-field.js';
import { checkInteger } from '../validation.js';
import { chainFromState } from './chain-state.js';
import type { Estimator, EstimatorSpec, StepObserver } from './estimator.js';

/** How the persistent chains of {@link MeanFieldPCD} start. */
export type ChainInit = 'data' | 'noise';

/** Options of {@link MeanFieldPCD}. */
export interface MeanFieldPCDOptions extends MeanFieldOptions {
  /** Block Gibbs sweeps of the persistent chains per step (the k of PCD-k); default 5, as monsta-hd. */
  k?: number;
  /** Number of persistent chains ("fantasy particles"); default: the rows of the first batch. */
  chains?: number;
  /**
   * "data" (default): the chains start at the first batch's rows (cycled when there are more
   * chains than rows), the hidden layers sampled from their mean-field posteriors. "noise":
   * every unit drawn independently from its bias alone.
   */
  init?: ChainInit;
}

/**
 * The joint learning rule of a DBM (Salakhutdinov & Hinton 2009), for any bipartite model graph:
 * data phase by mean-field inference of every hidden layer given the batch (`MeanField`,
 * at most `maxIterations` updates, `tolerance`), model phase by `k` block-Gibbs sweeps of
 * persistent chains (stochastic approximation, PCD-k). Model statistics use the chains' states
 * of the visible layer's block and the conditional means of the other block (Rao-Blackwellised,
 * as contrastive divergence does). grads = <dE/dtheta>_q - <dE/dtheta>_model.
 *
 * Observers see the data phase (batch and mean-field means of every layer: sparsity targets
 * per layer hook in there) and a reconstruction E[v | the means of v's neighbours].
 */
export class MeanFieldPCD implements Estimator {
  static readonly type = 'mean-field-pcd';
  readonly type = MeanFieldPCD.type;
  readonly k: number;
  readonly init: ChainInit;
  readonly meanField: MeanField;
  readonly sampler: GibbsSampler;
  /** The mean-field report of the last step (iterations used, last change). */
  lastInference: MeanFieldReport | undefined;
  private readonly chainCount: number | undefined;
  /** Mean-field states by batch size. */
  private readonly states = new ChainsByRows((rows) => this.meanField.createState(rows));
  private chain: Chain | undefined;
  private readonly modelStats: Tensor[];

  constructor(readonly model: EnergyModel, options: MeanFieldPCDOptions = {}) {
    this.k = checkInteger('k (Gibbs sweeps per step)', options.k ?? 5);
    this.chainCount = options.chains === undefined ? undefined : checkInteger('chains (persistent chains)', options.chains);
    const init = options.init ?? 'data';
    if (init !== 'data' && init !== 'noise') throw new InvalidValueError(`chain init must be "data" or "noise", got ${JSON.stringify(init)}`);
    this.init = init;
    model.layers.forEach((layer, l) => {
      if (l > 0 && layer.needsSampledStatistics) {
        throw new InvalidValueError(`mean-field learning uses means as the statistics of hidden layers; layer "${layer.name}" (${layer.type}) needs sampled statistics`);
      }
    });
    this.meanField = new MeanField(model, options);
    this.sampler = new GibbsSampler(model);
    this.modelStats = new Array<Tensor>(model.layers.length);
  }

  /**
   * One step. With tolerance 0 the mean field runs exactly `maxIterations` iterations and
   * nothing is read back; with a tolerance > 0 the changes are read back with
   * `await backend.read` (`MeanField.infer`, so asynchronous backends work).
   */
  async computeGradients(batch: Tensor, grads: GradientSet, rng: RngState, observer?: StepObserver): Promise<void> {
    const visible = this.model.layers[0]!;
    if (batch.cols !== visible.size) throw new ShapeError(`batch has ${batch.cols} columns, layer "${visible.name}" has ${visible.size} units`);
    // Data phase: mean-field q(h | batch) (the batch is copied into the state before any await).
    const state = this.states.get(batch.rows);
    this.lastInference = await this.meanField.infer(state, batch);
    this.afterInference(state, grads, rng, observer);
  }

  /** The rest of a step once the mean field has converged: data statistics, observers, model phase. */
  private afterInference(state: Chain, grads: GradientSet, rng: RngState, observer: StepObserver | undefined): void {
    const model = this.model;
    const visible = model.layers[0]!;
    const rows = state.rows;
    model.addEnergyGradients(state.states, 1 / rows, grads, false);
    observer?.onDataPhase?.(state.states);
    if (observer?.onReconstruction) {
      const input = model.workspace.get('mean-field-pcd:reconstruction-input', rows, visible.size);
      const reconstruction = model.workspace.get('mean-field-pcd:reconstruction', rows, visible.size);
      model.computeInput(0, state.states, input);
      visible.mean(input, reconstruction);
      observer.onReconstruction(state.states[0]!, reconstruction); // the state's copy of the batch
    }

    // Model phase: persistent chains.
    if (this.chain === undefined) this.chain = this.startChains(state, rng);
    for (let s = 0; s < this.k; s++) this.sampler.sweep(this.chain, rng);
    const [b0, b1] = this.sampler.blocks;
    for (const l of b0!) this.modelStats[l] = this.chain.states[l]!;
    for (const l of b1!) this.modelStats[l] = this.chain.means[l]!;
    model.addEnergyGradients(this.modelStats, -1 / this.chain.rows, grads, true);
  }

  private startChains(data: Chain, rng: RngState): Chain {
    const model = this.model;
    const n = this.chainCount ?? data.rows;
    const chain = this.sampler.createChain(n);
    if (this.init === 'noise') {
      this.sampler.initializeIndependent(chain, rng);
      return chain;
    }
    const indices = Uint32Array.from({ length: n }, (_, i) => i % data.rows);
    model.layers.forEach((layer, l) => {
      if (l === 0) {
        model.backend.gatherRows(data.states[0]!, indices, chain.states[0]!);
        return;
      }
      model.backend.gatherRows(data.inputs[l]!, indices, chain.inputs[l]!);
      model.backend.gatherRows(data.means[l]!, indices, chain.means[l]!);
      layer.sample(chain.inputs[l]!, chain.means[l]!, rng, chain.states[l]!);
    });
    return chain;
  }

  /**
   * The persistent chains as pictures: E[v | the chains' states of v's neighbours] (rows = chains),
   * the "fantasy particles" the model phase uses; undefined before the first step.
   */
  async particles(): Promise<Matrix | undefined> {
    if (this.chain === undefined) return undefined;
    const model = this.model;
    const visible = model.layers[0]!;
    const input = model.workspace.get('mean-field-pcd:particles-input', this.chain.rows, visible.size);
    const means = model.workspace.get('mean-field-pcd:particles', this.chain.rows, visible.size);
    model.computeInput(0, this.chain.states, input);
    visible.mean(input, means);
    return model.backend.read(means);
  }

  spec(): EstimatorSpec {
    return {
      type: this.type,
      k: this.k,
      ...(this.chainCount === undefined ? {} : { chains: this.chainCount }),
      init: this.init,
      maxIterations: this.meanField.maxIterations,
      tolerance: this.meanField.tolerance,
    };
  }

  state(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    if (this.chain) this.model.layers.forEach((layer, l) => (out[`chain.${layer.name}`] = this.chain!.states[l]!));
    return out;
  }

  loadState(state: Readonly<Record<string, Matrix>>): void {
    const names = Object.keys(state);
    if (names.length === 0) return;
    const layers = this.model.layers;
    const first = state[`chain.${layers[0]!.name}`];
    if (!(first instanceof Matrix)) throw new InvalidValueError(`persistent chain state lacks "chain.${layers[0]!.name}"`);
    const known = new Set(layers.map((l) => `chain.${l.name}`));
    for (const name of names) if (!known.has(name)) throw new InvalidValueError(`mean-field PCD state has unknown entry "${name}"`);
    const chain = chainFromState(this.sampler, state, 'chain.', first.rows, 'persistent chain');
    this.chain?.dispose();
    this.chain = chain;
  }

  dispose(): void {
    this.states.dispose();
    this.chain?.dispose();
    this.chain = undefined;
  }
}
