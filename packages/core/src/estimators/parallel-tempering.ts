import { InvalidValueError, Matrix, ShapeError, type RngState, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';
import type { Chain } from '../samplers/chain.js';
import { ChainsByRows } from '../samplers/chains-by-rows.js';
import { GibbsSampler } from '../samplers/gibbs.js';
import { toSchedule } from '../schedules/registry.js';
import type { Schedule, ScheduleSpec } from '../schedules/schedule.js';
import { checkInteger, checkNumber } from '../validation.js';
import { chainFromState } from './chain-state.js';
import type { Estimator, EstimatorSpec, StepContext, StepObserver } from './estimator.js';
import { stepCountAt, stepCountSpec } from './step-count.js';

/** How {@link ParallelTempering} spaces its inverse temperatures between 1 and `minBeta`. */
export type BetaSpacing = 'linear' | 'geometric';

/** Options of {@link ParallelTempering}. */
export interface ParallelTemperingOptions {
  /**
   * Gibbs sweeps per step at every temperature; default 1. A number, a per-epoch array, a
   * `Schedule` or a schedule spec; each value a positive integer.
   */
  k?: number | readonly number[] | Schedule | ScheduleSpec;
  /**
   * Persistent chains per temperature. Default: as many as the first batch has rows; every
   * temperature's chains start at the first batch's rows (cycled), the hidden layers sampled at
   * that temperature.
   */
  chains?: number;
  /**
   * The inverse temperatures, explicitly: strictly decreasing, in [0, 1], the first exactly 1
   * (the model itself, whose chains give the statistics). Excludes `temperatures`, `spacing`
   * and `minBeta`. [1] is PCD-k.
   */
  betas?: readonly number[];
  /** Number of inverse temperatures when `betas` is not given; default 10. */
  temperatures?: number;
  /** "linear" (default) or "geometric" spacing from 1 down to `minBeta`. */
  spacing?: BetaSpacing;
  /** The smallest (hottest) beta: default 0 for linear spacing; geometric spacing needs one in (0, 1). */
  minBeta?: number;
}

const DEFAULT_TEMPERATURES = 10;

/** How errors name parallel tempering's k. */
const K = 'k (Gibbs sweeps of parallel tempering)';

/**
 * Throws an InvalidValueError unless `betas` is a non-empty array of finite numbers in [0, 1]
 * that starts at exactly 1 and decreases strictly; returns a copy.
 */
export function checkBetas(betas: unknown, what = 'parallel tempering "betas"'): number[] {
  if (!Array.isArray(betas)) throw new InvalidValueError(`${what} must be an array of inverse temperatures, got ${JSON.stringify(betas)}`);
  if (betas.length === 0) throw new InvalidValueError(`${what} is empty: it needs at least one inverse temperature, the first 1`);
  const out = betas.map((b: unknown, i) => checkNumber(`${what}[${i}]`, b, 0, 1));
  if (out[0] !== 1) throw new InvalidValueError(`${what} must start at 1 (the model itself, whose chains give the statistics), got ${out[0]}`);
  for (let i = 1; i < out.length; i++) {
    if (!(out[i]! < out[i - 1]!)) throw new InvalidValueError(`${what} must decrease strictly: ${what}[${i}] = ${out[i]} is not below ${what}[${i - 1}] = ${out[i - 1]}`);
  }
  return out;
}

/**
 * `count` inverse temperatures from 1 down to `minBeta` (exactly, both ends), evenly spaced
 * ("linear") or with a constant ratio ("geometric", minBeta > 0).
 */
export function temperingBetas(count: number, spacing: BetaSpacing = 'linear', minBeta?: number): number[] {
  checkInteger('parallel tempering "temperatures"', count);
  if (spacing !== 'linear' && spacing !== 'geometric') throw new InvalidValueError(`parallel tempering "spacing" must be "linear" or "geometric", got ${JSON.stringify(spacing)}`);
  if (spacing === 'geometric' && minBeta === undefined) throw new InvalidValueError('parallel tempering with geometric spacing needs "minBeta" in (0, 1): beta 0 is not on a geometric ladder');
  const low = checkNumber('parallel tempering "minBeta"', minBeta ?? 0, 0, 1);
  if (count === 1) return [1];
  if (low >= 1) throw new InvalidValueError(`parallel tempering "minBeta" must be below 1 with ${count} temperatures, got ${low}`);
  if (spacing === 'geometric' && low <= 0) throw new InvalidValueError(`parallel tempering with geometric spacing needs "minBeta" > 0, got ${low}`);
  const betas = Array.from({ length: count }, (_, i) => (spacing === 'linear' ? 1 - (i * (1 - low)) / (count - 1) : low ** (i / (count - 1))));
  betas[0] = 1;
  betas[count - 1] = low;
  return checkBetas(betas, `parallel tempering betas from ${count} ${spacing} temperatures down to ${low}`);
}

/** Scratch of the swap moves for `rows` chains per temperature. */
interface SwapBuffers {
  energies: Tensor[];
  delta: Tensor;
  mask: Tensor;
  zero: Tensor;
  /** Per layer: rows x layer size. */
  diff: Tensor[];
}

/**
 * Parallel tempering (replica exchange; Desjardins et al. 2010) for RBMs and any model whose
 * hidden layers connect only to the visible one. Besides the model (beta = 1) it keeps
 * persistent chains at inverse temperatures 1 = beta_1 > ... > beta_M >= 0, each sampling
 * p_beta(x) proportional to exp(-beta E(x)): a layer's input (fields plus bias) is multiplied
 * by beta, e.g. p(h | v) = sigmoid(beta (v W + c)). Hot chains cross energy barriers that trap
 * PCD's chains, and swaps hand their states down to the model's chains.
 *
 * A step: (1) swap moves between neighbouring temperatures (beta_1, beta_2), (beta_2, beta_3),
 * ... in turn, chain r of one with chain r of the other, each accepted with probability
 * min(1, exp((beta_i - beta_j) (E(x_i) - E(x_j)))) on the *joint* energies E(v, h) at beta = 1
 * (whole joint states are exchanged); (2) k block-Gibbs sweeps at every temperature; (3) the
 * gradient: data phase as PCD's (the batch and E[h | batch]), model phase from the beta = 1
 * chains (visible states and E[h | v]). Swapping first and then sweeping is the usual
 * sweep-then-swap chain with the step boundary moved, so the statistics use hidden means
 * computed after the swaps. The swaps run on the backend (no readback): one Bernoulli draw per
 * pair and step. With betas [1] no swap is proposed and the step is PCD-k's, random draw for
 * random draw (so `{ type: "pt", betas: [1] }` trains exactly as `{ type: "pcd" }`).
 *
 * Every layer must declare itself `temperable` (see `UnitLayer`). `swapAcceptance()` reads the
 * acceptance rate of each neighbouring pair (to tune the ladder: rates near 0 mean betas too
 * far apart). Dropout is not supported.
 */
export class ParallelTempering implements Estimator {
  static readonly type = 'pt';
  readonly type = ParallelTempering.type;
  /** 0, as PCD's (its chains persist too; with betas [1] it is PCD): momentum keeps pushing where the chains were. */
  readonly defaultMomentum = 0;
  /** The inverse temperatures, 1 first. */
  readonly betas: readonly number[];
  readonly sampler: GibbsSampler;
  /** The schedule of k. */
  readonly kSchedule: Schedule;
  /** The k of the last step (before any step: k at epoch 0). */
  k: number;
  private readonly chainCount: number | undefined;
  /** Data-phase buffers by batch size. */
  private readonly dataChains = new ChainsByRows((rows) => this.sampler.createChain(rows));
  /** One chain set per temperature (undefined before the first step). */
  private chains: Chain[] | undefined;
  private swap: SwapBuffers | undefined;
  /** Per neighbouring pair (i, i + 1): accepted swaps (1 x 1, on the backend). */
  private readonly accepted: Tensor[];
  /** Swaps proposed per pair since the counters were reset. */
  private proposed = 0;
  private readonly dataStats: Tensor[];
  private readonly modelStats: Tensor[];
  private readonly observedMeans: Tensor[];

  constructor(readonly model: EnergyModel, options: ParallelTemperingOptions = {}) {
    this.kSchedule = toSchedule(options.k ?? 1, K);
    this.k = stepCountAt(K, this.kSchedule);
    this.chainCount = options.chains === undefined ? undefined : checkInteger('parallel tempering "chains" (persistent chains per temperature)', options.chains);
    if (options.betas !== undefined) {
      const clash = (['temperatures', 'spacing', 'minBeta'] as const).filter((key) => options[key] !== undefined);
      if (clash.length > 0) throw new InvalidValueError(`parallel tempering takes either "betas" or "temperatures"/"spacing"/"minBeta", not both (got "betas" and ${clash.map((c) => `"${c}"`).join(', ')})`);
      this.betas = checkBetas(options.betas);
    } else {
      this.betas = temperingBetas(options.temperatures ?? DEFAULT_TEMPERATURES, options.spacing ?? 'linear', options.minBeta);
    }
    for (const layer of model.layers) {
      if (layer.temperable !== true) {
        throw new InvalidValueError(
          `parallel tempering cannot temper layer "${layer.name}" of ${layer.type} units: the unit type does not declare itself temperable (an energy -input . x, so that beta scales the input)`,
        );
      }
    }
    this.sampler = new GibbsSampler(model);
    const [dataBlock] = this.sampler.blocks;
    if (dataBlock!.length !== 1 || model.layers.length < 2) {
      throw new InvalidValueError(
        `parallel tempering needs every hidden layer connected only to the visible layer (an RBM); layers ${dataBlock!.map((l) => model.layers[l]!.name).join(', ')} are all clamped by the data`,
      );
    }
    this.accepted = this.betas.slice(1).map(() => model.backend.zeros(1, 1));
    this.dataStats = new Array<Tensor>(model.layers.length);
    this.modelStats = new Array<Tensor>(model.layers.length);
    this.observedMeans = new Array<Tensor>(model.layers.length);
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
    const [b0, b1] = this.sampler.blocks;

    // Data phase: the batch and E[hidden | batch] (as PCD's).
    const data = this.dataChains.get(rows);
    be.copy(batch, data.states[0]!);
    this.sampler.updateBlock(data, 1, rng, false);
    for (const l of b0!) this.dataStats[l] = data.states[l]!;
    for (const l of b1!) this.dataStats[l] = data.means[l]!;
    model.addEnergyGradients(this.dataStats, 1 / rows, grads, false);
    if (observer?.onDataPhase) {
      for (const l of b0!) this.observedMeans[l] = data.states[l]!;
      for (const l of b1!) this.observedMeans[l] = data.means[l]!;
      observer.onDataPhase(this.observedMeans);
    }

    // Model phase: swaps, then k sweeps at every temperature, statistics from beta = 1.
    if (this.chains === undefined) this.chains = this.startChains(batch, rng);
    const chains = this.chains;
    this.swapNeighbours(chains, rng);
    chains.forEach((chain, t) => {
      const beta = this.betas[t]!;
      for (let step = 0; step < this.k; step++) {
        this.sampler.updateBlock(chain, 0, rng, true, beta);
        this.sampler.updateBlock(chain, 1, rng, true, beta);
      }
    });
    const target = chains[0]!;
    for (const l of b0!) this.modelStats[l] = target.states[l]!;
    for (const l of b1!) this.modelStats[l] = target.means[l]!;
    model.addEnergyGradients(this.modelStats, -1 / target.rows, grads, true);
  }

  /**
   * The fraction of accepted swaps for each neighbouring pair (beta_i, beta_i+1), since the
   * estimator was built, its state loaded or `resetSwapAcceptance` called (NaN before any
   * proposal; empty with one temperature). Reads the backend (await).
   */
  async swapAcceptance(): Promise<number[]> {
    const out: number[] = [];
    for (const a of this.accepted) {
      const count = (await this.model.backend.read(a)).data[0]!;
      out.push(this.proposed === 0 ? NaN : count / this.proposed);
    }
    return out;
  }

  /** Restarts the swap acceptance counts. */
  resetSwapAcceptance(): void {
    for (const a of this.accepted) this.model.backend.fill(a, 0);
    this.proposed = 0;
  }

  /**
   * Proposes to exchange the joint states of chain r at beta_i and chain r at beta_i+1, for
   * i = 1..M-1 in turn, accepted with probability min(1, exp((beta_i - beta_i+1)(E_i - E_i+1)));
   * the energies follow the states, so a state can move down several temperatures in one step.
   */
  private swapNeighbours(chains: readonly Chain[], rng: RngState): void {
    if (chains.length < 2) return;
    const model = this.model;
    const be = model.backend;
    const s = this.swapBuffersFor(chains[0]!.rows);
    chains.forEach((chain, t) => model.energy(chain.states, s.energies[t]!));
    for (let i = 0; i + 1 < chains.length; i++) {
      const [a, b] = [chains[i]!, chains[i + 1]!];
      const [ea, eb] = [s.energies[i]!, s.energies[i + 1]!];
      be.binary('sub', ea, eb, s.delta);
      be.affine(s.delta, this.betas[i]! - this.betas[i + 1]!, 0, s.delta);
      be.binary('min', s.delta, s.zero, s.delta);
      be.unary('exp', s.delta, s.delta);
      be.sampleBernoulli(s.delta, rng, s.mask);
      be.sumColumns(s.mask, this.accepted[i]!, 1, 1);
      // Accepted rows: a <- b and b <- a, as a + m (b - a) and b - m (b - a) (exact for discrete states).
      this.model.layers.forEach((_, l) => this.exchange(a.states[l]!, b.states[l]!, s.mask, s.diff[l]!));
      this.exchange(ea, eb, s.mask, s.delta);
    }
    this.proposed += chains[0]!.rows;
  }

  /** Rows where mask = 1: x and y trade places (diff is scratch shaped like x). */
  private exchange(x: Tensor, y: Tensor, mask: Tensor, diff: Tensor): void {
    const be = this.model.backend;
    be.binary('sub', y, x, diff);
    be.mulColVector(diff, mask, diff);
    be.binary('add', x, diff, x);
    be.binary('sub', y, diff, y);
  }

  private swapBuffersFor(rows: number): SwapBuffers {
    if (this.swap !== undefined && this.swap.mask.rows === rows) return this.swap;
    this.disposeSwap();
    const be = this.model.backend;
    this.swap = {
      energies: this.betas.map(() => be.zeros(rows, 1)),
      delta: be.zeros(rows, 1),
      mask: be.zeros(rows, 1),
      zero: be.zeros(rows, 1),
      diff: this.model.layers.map((layer) => be.zeros(rows, layer.size)),
    };
    return this.swap;
  }

  /** Every temperature's chains: the first batch's rows (cycled), the other block sampled at that temperature. */
  private startChains(batch: Tensor, rng: RngState): Chain[] {
    const be = this.model.backend;
    const n = this.chainCount ?? batch.rows;
    return this.betas.map((beta) => {
      const chain = this.sampler.createChain(n);
      if (n === batch.rows) be.copy(batch, chain.states[0]!);
      else be.gatherRows(batch, Uint32Array.from({ length: n }, (_, i) => i % batch.rows), chain.states[0]!);
      this.sampler.updateBlock(chain, 1, rng, true, beta);
      return chain;
    });
  }

  spec(): EstimatorSpec {
    return {
      type: this.type,
      k: stepCountSpec(this.kSchedule),
      ...(this.chainCount === undefined ? {} : { chains: this.chainCount }),
      betas: [...this.betas],
    };
  }

  /** "chain.<t>.<layer>" (chains x layer size) for temperature t = 0 (beta 1) .. M-1 and every layer, once the chains exist. */
  state(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    this.chains?.forEach((chain, t) => {
      this.model.layers.forEach((layer, l) => {
        out[`chain.${t}.${layer.name}`] = chain.states[l]!;
      });
    });
    return out;
  }

  /** Restores what `state()` gave (the swap acceptance counts restart). */
  loadState(state: Readonly<Record<string, Matrix>>): void {
    const names = Object.keys(state);
    if (names.length === 0) return;
    const layers = this.model.layers;
    const expected = this.betas.flatMap((_, t) => layers.map((layer) => `chain.${t}.${layer.name}`));
    const known = new Set(expected);
    for (const name of names) {
      if (!known.has(name)) throw new InvalidValueError(`parallel tempering state has unknown entry "${name}" (expected ${expected.join(', ')}: ${this.betas.length} temperatures)`);
    }
    const first = state[expected[0]!];
    if (!(first instanceof Matrix)) throw new InvalidValueError(`parallel tempering state lacks "${expected[0]}"`);
    if (this.chainCount !== undefined && first.rows !== this.chainCount) {
      throw new ShapeError(`parallel tempering state holds ${first.rows} chains per temperature, the estimator was configured for ${this.chainCount}`);
    }
    const chains: Chain[] = [];
    try {
      this.betas.forEach((_, t) => chains.push(chainFromState(this.sampler, state, `chain.${t}.`, first.rows, 'parallel tempering chain')));
    } catch (error) {
      for (const c of chains) c.dispose();
      throw error;
    }
    this.disposeChains();
    this.chains = chains;
    this.resetSwapAcceptance();
  }

  private disposeChains(): void {
    for (const c of this.chains ?? []) c.dispose();
    this.chains = undefined;
  }

  private disposeSwap(): void {
    if (this.swap === undefined) return;
    const be = this.model.backend;
    for (const t of [...this.swap.energies, this.swap.delta, this.swap.mask, this.swap.zero, ...this.swap.diff]) be.dispose(t);
    this.swap = undefined;
  }

  dispose(): void {
    this.dataChains.dispose();
    this.disposeChains();
    this.disposeSwap();
    for (const a of this.accepted) this.model.backend.dispose(a);
    this.accepted.length = 0;
  }
}
