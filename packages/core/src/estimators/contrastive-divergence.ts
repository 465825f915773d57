import { InvalidValueError, Matrix, ShapeError, type RngState, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';
import type { Chain } from '../samplers/chain.js';
import { ChainsByRows } from '../samplers/chains-by-rows.js';
import { GibbsSampler } from '../samplers/gibbs.js';
import { toSchedule } from '../schedules/registry.js';
import type { Schedule, ScheduleSpec } from '../schedules/schedule.js';
import { checkBoolean, checkInteger } from '../validation.js';
import { chainFromState } from './chain-state.js';
import type { Estimator, EstimatorSpec, StepContext, StepObserver } from './estimator.js';
import { stepCountAt, stepCountSpec } from './step-count.js';

/** How errors name CD's k. */
const K = 'k (Gibbs steps of contrastive divergence)';

/** Which value of a layer enters the gradient statistics: its conditional mean or its chain state (a sample). */
export type StatisticSource = 'mean' | 'sample';

/** Options of contrastive divergence. */
export interface ContrastiveDivergenceOptions {
  /**
   * Gibbs sweeps per step (the k of CD-k); default 1. A number, a per-epoch array, a
   * `Schedule` or a schedule spec (e.g. { type: "list", values: [1, 1, 3, 5] }); each value
   * must be a positive integer.
   */
  k?: number | readonly number[] | Schedule | ScheduleSpec;
  /**
   * Persistent chains (PCD-k / stochastic maximum likelihood): the model phase continues the
   * chains of the previous step instead of restarting at the data. Default false.
   */
  persistent?: boolean;
  /**
   * PCD only: the number of persistent chains ("fantasy particles"). Default: as many as the
   * first batch has rows. They start at the first batch's rows (cycled when there are more
   * chains than rows), the hidden layer sampled given them.
   */
  chains?: number;
  /**
   * The chain: layers whose chain state is their mean (probabilities) rather than a sample.
   * Default: CD carries the visible probabilities (Hinton's recipe, less noise) unless the visible
   * layer needs sampled statistics (a Gaussian learning its variance); PCD samples every layer
   * (a proper Markov chain). Hidden layers are sampled unless listed here.
   */
  meanLayers?: readonly string[];
  /**
   * The statistics, per layer name: "mean" (the conditional mean, Rao-Blackwellised) or "sample"
   * (the chain state: a sample, or the mean for a layer in `meanLayers`). Default: the visible
   * layer "sample" (in the data phase always the batch itself), every hidden layer "mean";
   * layers that need sampled statistics (`UnitLayer.needsSampledStatistics`) must be "sample".
   */
  statistics?: Readonly<Record<string, StatisticSource>>;
}

/**
 * CD-k and PCD-k. Data phase: clamp layer 0 to the batch and take E[hidden | data] (exact, the
 * hidden layers being independent given the visible one). Model phase: k block-Gibbs sweeps
 * from the data (CD) or from the persistent chains (PCD). The statistics of each layer are its
 * conditional means or its chain states (`statistics`; default: the visible chain state and the
 * hidden means). grads = <dE/dtheta>_data - <dE/dtheta>_model.
 *
 * Missing values (`context.visibleMask`, the recommender RBM of Salakhutdinov, Mnih & Hinton
 * 2007) are masked the same way on the visible layer, in both phases (CD only).
 *
 * Dropout (`context.masks`, Srivastava et al. 2014): one mask per batch row and layer is drawn
 * per step and multiplies the layer's means and states after every update, so a dropped unit is
 * absent from both phases. CD's chains start at the batch, so they use the batch's masks; PCD's
 * chains are not the batch's rows and get a mask of their own per step, held through the k sweeps.
 */
export class ContrastiveDivergence implements Estimator {
  readonly type: string;
  readonly supportsMasks = true;
  readonly supportsGiven = true;
  readonly persistent: boolean;
  /**
   * PCD: 0. Momentum keeps pushing the energy up where the persistent chains were after they have
   * moved on; on Fashion-MNIST 784 x 500 the trainer's 0.5-then-0.9 collapsed the hidden units
   * (bench/README.md, the quality table). CD: the trainer's default.
   */
  readonly defaultMomentum: number | undefined;
  readonly sampler: GibbsSampler;
  /** The schedule of k. */
  readonly kSchedule: Schedule;
  /** The k of the last step (before any step: k at epoch 0). */
  k: number;
  private readonly chainCount: number | undefined;
  private readonly meanLayers: readonly string[];
  /** Per layer: whether its statistics are its means (else its chain states). */
  private readonly useMeanStatistic: readonly boolean[];
  private readonly statisticsOption: Readonly<Record<string, StatisticSource>> | undefined;
  /** Whether the data phase must sample block 1 (a layer's statistics or the CD chain needs it). */
  private readonly sampleDataHidden: boolean;
  /** CD: chains by batch size; PCD: data-phase buffers. */
  private readonly chains = new ChainsByRows((rows) => this.sampler.createChain(rows));
  private persistentChain: Chain | undefined;
  /** Per-layer statistics of the two phases, refilled each step (no allocation). */
  private readonly dataStats: Tensor[];
  private readonly modelStats: Tensor[];
  private readonly observedMeans: Tensor[];
  /** The given layers (clamped to `context.given` in both phases). */
  private readonly given: readonly number[];
  /** Per layer: the RNG keys one `sample` of it drew (counted the first time; see `updateLastBlock`). */
  private readonly sampleKeys: (number | undefined)[];

  constructor(readonly model: EnergyModel, options: ContrastiveDivergenceOptions = {}) {
    this.kSchedule = toSchedule(options.k ?? 1, K);
    this.k = stepCountAt(K, this.kSchedule);
    this.persistent = checkBoolean('contrastive divergence "persistent"', options.persistent ?? false);
    this.type = this.persistent ? 'pcd' : 'cd';
    this.defaultMomentum = this.persistent ? 0 : undefined;
    if (options.chains !== undefined) {
      if (!this.persistent) throw new InvalidValueError('"chains" sets the number of persistent chains: it applies to PCD only (CD restarts its chains at each batch)');
      this.chainCount = checkInteger('chains (persistent chains)', options.chains);
    }
    const visible = model.layers[0]!;
    if (options.meanLayers !== undefined && (!Array.isArray(options.meanLayers) || !options.meanLayers.every((n) => typeof n === 'string'))) {
      throw new InvalidValueError(`contrastive divergence "meanLayers" must be an array of layer names, got ${JSON.stringify(options.meanLayers)}`);
    }
    this.meanLayers = options.meanLayers ?? (this.persistent || visible.needsSampledStatistics ? [] : [visible.name]);
    for (const name of this.meanLayers) {
      const layer = model.layer(name);
      if (layer.needsSampledStatistics) {
        throw new InvalidValueError(`layer "${name}" (${layer.type}) needs sampled statistics (its energy is not linear in its state): it cannot carry its mean through the chain; leave it out of meanLayers`);
      }
    }
    // The chains are CD's own and nothing reads their inputs: fuse each Bernoulli-like layer's
    // mean into its product (one linear with the sigmoid, not linear then sigmoid).
    this.sampler = new GibbsSampler(model, { meanLayers: this.meanLayers, fuseMeans: true, clampGiven: true });
    this.given = model.givenLayers();
    if (this.given.length > 0 && this.persistent) {
      throw new InvalidValueError(`persistent chains cannot hold given values (layer "${model.layers[this.given[0]!]!.name}" is clamped to each batch row's own): use "cd"`);
    }
    const [dataBlock, otherBlock] = this.sampler.blocks;
    if (dataBlock!.length !== 1 || model.layers.length < 2) {
      throw new InvalidValueError(
        `contrastive divergence needs every hidden layer connected only to the visible layer (an RBM); layers ${dataBlock!.map((l) => model.layers[l]!.name).join(', ')} are all clamped by the data: use a mean-field estimator for deep models`,
      );
    }
    if (options.statistics !== undefined && (typeof options.statistics !== 'object' || options.statistics === null || Array.isArray(options.statistics))) {
      throw new InvalidValueError(`contrastive divergence "statistics" must be an object { "<layer>": "mean" | "sample" }, got ${JSON.stringify(options.statistics)}`);
    }
    this.statisticsOption = options.statistics;
    const given = options.statistics ?? {};
    for (const [name, source] of Object.entries(given)) {
      const layer = model.layer(name);
      if (source !== 'mean' && source !== 'sample') throw new InvalidValueError(`statistics of layer "${name}" must be "mean" or "sample", got ${JSON.stringify(source)}`);
      if (source === 'mean' && layer.needsSampledStatistics) {
        throw new InvalidValueError(`layer "${name}" (${layer.type}) needs sampled statistics (its energy is not linear in its state): its statistics cannot be "mean"`);
      }
    }
    this.useMeanStatistic = model.layers.map((layer, l) => {
      if (layer.needsSampledStatistics) return false;
      const source = given[layer.name] ?? (l === 0 ? 'sample' : 'mean');
      return source === 'mean';
    });
    this.sampleDataHidden = !this.persistent || otherBlock!.some((l) => !this.useMeanStatistic[l]);
    this.dataStats = new Array<Tensor>(model.layers.length);
    this.modelStats = new Array<Tensor>(model.layers.length);
    this.observedMeans = new Array<Tensor>(model.layers.length);
    this.sampleKeys = new Array<number | undefined>(model.layers.length);
  }

  schedules(): Readonly<Record<string, Schedule>> {
    return { 'estimator k': this.kSchedule };
  }

  async computeGradients(batch: Tensor, grads: GradientSet, rng: RngState, observer?: StepObserver, context: StepContext = {}): Promise<void> {
    const model = this.model;
    const be = model.backend;
    const visible = model.layers[0]!;
    if (batch.cols !== visible.size) throw new ShapeError(`batch has ${batch.cols} columns, layer "${visible.name}" has ${visible.size} units`);
    const rows = batch.rows;
    this.k = stepCountAt(K, this.kSchedule, context.clock);
    const dataMasks = context.visibleMask !== undefined ? this.visibleMasks(context) : context.masks?.draw(model, rows, rng, 'data');

    // Data phase: hidden means (and samples, where needed) given the batch (and the given values).
    const data = this.chains.get(rows);
    be.copy(batch, data.states[0]!);
    for (const g of this.given) {
      const values = context.given?.[g];
      if (values === undefined) throw new InvalidValueError(`layer "${model.layers[g]!.name}" holds given values: each batch needs them (a conditional RBM's past frames)`);
      if (values.rows !== rows || values.cols !== model.layers[g]!.size) throw new ShapeError(`the given values of layer "${model.layers[g]!.name}" are ${values.rows} x ${values.cols}, expected ${rows} x ${model.layers[g]!.size}`);
      be.copy(values, data.states[g]!);
      this.dataStats[g] = data.states[g]!;
      this.modelStats[g] = data.states[g]!;
      this.observedMeans[g] = data.states[g]!;
    }
    this.mask(data, 0, dataMasks);
    this.updateBlock(data, 1, rng, dataMasks, this.sampleDataHidden);
    const [b0, b1] = this.sampler.blocks;
    for (const l of b0!) this.dataStats[l] = data.states[l]!;
    for (const l of b1!) this.dataStats[l] = this.useMeanStatistic[l] ? data.means[l]! : data.states[l]!;
    model.addEnergyGradients(this.dataStats, 1 / rows, grads, false);
    if (observer?.onDataPhase) {
      for (const l of b0!) this.observedMeans[l] = data.states[l]!;
      for (const l of b1!) this.observedMeans[l] = data.means[l]!;
      observer.onDataPhase(this.observedMeans);
    }

    // Model phase.
    let chain = data;
    let chainMasks = dataMasks;
    if (this.persistent) {
      if (this.persistentChain === undefined) this.persistentChain = this.startChains(batch, rng);
      chain = this.persistentChain;
      chainMasks = context.masks?.draw(model, chain.rows, rng, 'chains');
      if (chainMasks !== undefined) for (const l of b1!) this.mask(chain, l, chainMasks);
    }
    for (let step = 0; step < this.k; step++) {
      this.updateBlock(chain, 0, rng, chainMasks);
      if (step === this.k - 1 && !this.persistent) this.updateLastBlock(chain, rng, chainMasks);
      else this.updateBlock(chain, 1, rng, chainMasks);
      if (step === 0 && !this.persistent) observer?.onReconstruction?.(dataMasks?.[0] === undefined ? batch : data.states[0]!, chain.means[0]!);
    }
    for (const l of b0!) this.modelStats[l] = this.useMeanStatistic[l] ? chain.means[l]! : chain.states[l]!;
    for (const l of b1!) this.modelStats[l] = this.useMeanStatistic[l] ? chain.means[l]! : chain.states[l]!;
    model.addEnergyGradients(this.modelStats, -1 / chain.rows, grads, true);
  }

  /** The per-layer masks of a batch with missing visible values: the visible mask alone. */
  private visibleMasks(context: StepContext): (Tensor | undefined)[] {
    if (context.masks !== undefined) throw new InvalidValueError('a batch with missing values (a visible mask) cannot also drop units (dropout)');
    if (this.persistent) throw new InvalidValueError('a batch with missing values (a visible mask) needs chains that start at the batch ("cd"): persistent chains are not the batch\'s rows, so they have no mask');
    const masks: (Tensor | undefined)[] = this.model.layers.map(() => undefined);
    masks[0] = context.visibleMask;
    return masks;
  }

  /** Updates the layers of block `b`, then applies their masks. */
  private updateBlock(chain: Chain, b: number, rng: RngState, masks: readonly (Tensor | undefined)[] | undefined, sample = true): void {
    this.sampler.updateBlock(chain, b, rng, sample);
    if (masks !== undefined) for (const l of this.sampler.blocks[b]!) this.mask(chain, l, masks);
  }

  /**
   * CD's last update of block 1: a layer whose statistics are its means is not sampled, since
   * its chain state would be read by nothing (the next step restarts the chain at the data).
   * The stream still advances by the keys the sample would have drawn (counted at the first
   * sample), so every later draw, and so the training, is the same as with the sample.
   */
  private updateLastBlock(chain: Chain, rng: RngState, masks: readonly (Tensor | undefined)[] | undefined): void {
    const block = this.sampler.blocks[1]!;
    for (const l of block) {
      const keys = this.sampleKeys[l];
      if (!this.useMeanStatistic[l]) {
        this.sampler.updateLayer(chain, l, rng);
      } else if (keys === undefined) {
        const before = rng.counter;
        this.sampler.updateLayer(chain, l, rng);
        this.sampleKeys[l] = rng.counter - before;
      } else {
        this.sampler.updateLayer(chain, l, rng, false);
        rng.counter += keys;
      }
    }
    if (masks !== undefined) for (const l of block) this.mask(chain, l, masks);
  }

  /** Multiplies layer l's mean and state by its mask, if it has one. */
  private mask(chain: Chain, l: number, masks: readonly (Tensor | undefined)[] | undefined): void {
    const m = masks?.[l];
    if (m === undefined) return;
    const be = this.model.backend;
    be.binary('mul', chain.states[l]!, m, chain.states[l]!);
    if (chain.means[l] !== chain.states[l]) be.binary('mul', chain.means[l]!, m, chain.means[l]!);
  }

  /** The persistent chains: the first batch's rows (cycled), the other block sampled given them. */
  private startChains(batch: Tensor, rng: RngState): Chain {
    const model = this.model;
    const n = this.chainCount ?? batch.rows;
    const chain = this.sampler.createChain(n);
    if (n === batch.rows) model.backend.copy(batch, chain.states[0]!);
    else model.backend.gatherRows(batch, Uint32Array.from({ length: n }, (_, i) => i % batch.rows), chain.states[0]!);
    this.sampler.updateBlock(chain, 1, rng);
    return chain;
  }

  spec(): EstimatorSpec {
    return {
      type: this.type,
      k: stepCountSpec(this.kSchedule),
      meanLayers: [...this.meanLayers],
      ...(this.chainCount === undefined ? {} : { chains: this.chainCount }),
      ...(this.statisticsOption === undefined ? {} : { statistics: { ...this.statisticsOption } }),
    };
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
    if (this.chainCount !== undefined && first.rows !== this.chainCount) {
      throw new ShapeError(`persistent chain state holds ${first.rows} chains, the estimator was configured for ${this.chainCount}`);
    }
    const chain = chainFromState(this.sampler, state, 'chain.', first.rows, 'persistent chain');
    this.persistentChain?.dispose();
    this.persistentChain = chain;
  }

  dispose(): void {
    this.chains.dispose();
    this.persistentChain?.dispose();
    this.persistentChain = undefined;
  }
}
