import { InvalidValueError, Matrix, type Backend } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { AnnealingChains, type SumOut } from '../samplers/annealing-chains.js';
import { AnnealingPath, type AnnealingStart } from '../samplers/annealing-path.js';
import { checkInteger } from '../validation.js';
import { negativeFreeEnergyRows } from './free-energy-rows.js';
import { onBackend } from './on-backend.js';

/** Options of {@link annealedImportanceSampling}. */
export interface AISOptions {
  /**
   * The intermediate distributions: their count K (default 14,500, Salakhutdinov & Murray's), spread by {@link aisBetas},
   * or an explicit schedule 0 = beta_0 <= beta_1 <= ... <= beta_K = 1.
   */
  betas?: number | ArrayLike<number>;
  /** Independent annealing runs (importance weights); default 100. */
  runs?: number;
  /** "uniform" or "base-rate" (needs `data`); default "base-rate" when `data` is given, else "uniform". */
  start?: AnnealingStart;
  /** Training data: its column means make the base-rate start. */
  data?: Matrix;
  /** Block Gibbs sweeps per intermediate distribution; default 1. */
  gibbsSteps?: number;
  /**
   * Which block of the graph's two-colouring is summed out analytically at every step: "odd"
   * (the block without the visible layer: an RBM's hidden layer, a DBM's odd layers), "even"
   * (the visible layer's block: a DBM's v, h2, h4...) or "auto" (default), the published recipes:
   * an RBM sums out its hidden units and the chains move on the visible ones, from the base-rate
   * model (Salakhutdinov & Murray 2008); a deeper model sums out its larger block (a 2-layer DBM:
   * v and h2, annealing over h1 alone, as Salakhutdinov & Hinton 2009).
   */
  sumOut?: SumOut;
  /** Seed of the annealing runs; default 0. */
  seed?: number;
  /**
   * Run on this backend instead of the model's (a copy of the parameters goes there): a float64
   * backend keeps every weight increment in float64. The weights are always summed in float64
   * on the host (every `flushEvery` steps, default 100) and combined by log-sum-exp.
   */
  backend?: Backend;
  flushEvery?: number;
}

/** What an AIS run estimates. */
export interface AISResult {
  /** log Z-hat = log Z_A + log mean_i w_i. */
  logZ: number;
  /** log(Z-hat - 3 sigma), -Infinity when Z-hat - 3 sigma <= 0; sigma = std(w) / sqrt(runs), the standard error of Z-hat. */
  lower: number;
  /** log(Z-hat + 3 sigma). */
  upper: number;
  /** log Z of the base distribution A. */
  logZBase: number;
  /** log w_i of every run (float64). */
  logWeights: Float64Array;
  runs: number;
  /** Number of intermediate distributions K (the schedule has K + 1 betas). */
  betas: number;
  start: AnnealingStart;
  /** The layers summed out analytically (the chains sampled the others). */
  summedOut: string[];
  /** The chains' last states (runs x size), by layer name, for the layers that were sampled: with the weights, approximate samples of the model. */
  finalStates: Record<string, Matrix>;
  /**
   * Effective sample size of the importance weights, (sum w)^2 / sum w^2, between 1 and `runs`:
   * near 1 when one run carries the estimate, which then is probably too low.
   */
  effectiveSampleSize: number;
  /** Why the estimate may not be trusted (a small effective sample size), in words; empty when none. */
  warnings: string[];
}

/** An effective sample size below this fraction of the runs draws a warning. */
export const SMALL_EFFECTIVE_SAMPLE_FRACTION = 0.1;

/**
 * K + 1 inverse temperatures from 0 to 1 spaced as Salakhutdinov & Murray (2008) do for MNIST
 * RBMs (500 steps over [0, 0.5], 4,000 over [0.5, 0.9], 10,000 over [0.9, 1], out of 14,500),
 * scaled to K steps: finer where the distributions change fastest.
 */
export function aisBetas(count: number): Float64Array {
  const k = checkInteger('number of AIS betas (intermediate distributions)', count);
  const out = new Float64Array(k + 1);
  if (k < 3) {
    for (let j = 1; j <= k; j++) out[j] = j / k;
    return out;
  }
  const bounds = [0, 0.5, 0.9, 1];
  const first = Math.max(1, Math.round((k * 500) / 14500));
  const second = Math.max(1, Math.round((k * 4000) / 14500));
  const steps = [first, second, k - first - second]; // the last segment keeps >= 1 step for k >= 3
  let at = 0;
  steps.forEach((n, i) => {
    for (let j = 1; j <= n; j++) out[at + j] = bounds[i]! + ((bounds[i + 1]! - bounds[i]!) * j) / n;
    at += n;
  });
  out[k] = 1;
  return out;
}

/** The schedule from the option: a count or an explicit list (validated). */
export function aisSchedule(betas: number | ArrayLike<number> | undefined): Float64Array {
  if (betas === undefined || typeof betas === 'number') {
    if (betas !== undefined && !(Number.isInteger(betas) && betas >= 1)) {
      throw new InvalidValueError(`AIS needs at least one intermediate distribution: betas must be an integer >= 1, got ${betas}`);
    }
    return aisBetas(betas ?? DEFAULT_AIS_BETAS);
  }
  const b = Float64Array.from(betas);
  if (b.length < 2) throw new InvalidValueError(`an AIS schedule needs at least two betas (0 and 1), got ${b.length}`);
  if (b[0] !== 0 || b[b.length - 1] !== 1) throw new InvalidValueError(`an AIS schedule must start at 0 and end at 1, got ${b[0]} ... ${b[b.length - 1]}`);
  for (let i = 1; i < b.length; i++) {
    if (!(b[i]! >= b[i - 1]!)) throw new InvalidValueError(`AIS betas must not decrease: beta[${i}] = ${b[i]} after beta[${i - 1}] = ${b[i - 1]}`);
  }
  return b;
}

/** Default number of intermediate distributions: Salakhutdinov & Murray's 14,500. */
export const DEFAULT_AIS_BETAS = 14500;

/** Column means of host data in float64. */
export function columnMeans(m: Matrix): Float64Array {
  const out = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) out[c]! += m.data[r * m.cols + c]!;
  for (let c = 0; c < m.cols; c++) out[c]! /= m.rows;
  return out;
}

/**
 * Estimates log Z of an RBM, a DBM of any depth, or any model whose graph splits into two
 * blocks, by annealed importance sampling (Neal 2001; Salakhutdinov & Murray 2008;
 * Salakhutdinov & Hinton 2009) along the geometric path of `AnnealingPath` from independent
 * units ("uniform" or "base-rate" start) to the model. The state holds one block's layers; the
 * other block (`sumOut`) is summed out analytically in every unnormalised probability, and the
 * transitions are block Gibbs sweeps at each beta. log w_i = sum_k log p*_{k}(x_k) -
 * log p*_{k-1}(x_k), accumulated per run and summed on the host in float64; log Z-hat =
 * log Z_A + log mean exp(log w) by log-sum-exp, with a +-3 sigma interval on Z-hat and the
 * effective sample size of the weights (`warnings` says when it is small).
 *
 * The defaults are the published recipe: 14,500 betas dense near 1, an RBM's chains on its
 * visible units with the hidden ones summed out, and the base-rate start when `data` (the
 * training data) is given. E[log Z-hat] <= log Z: AIS errs low, and its interval measures only
 * the spread of the weights, not that bias; `logPartitionSandwich` adds a bound from above.
 * Bad input (no betas, no runs, an unknown start, base-rate without data) throws.
 */
export async function annealedImportanceSampling(model: EnergyModel, options: AISOptions = {}): Promise<AISResult> {
  const betas = aisSchedule(options.betas);
  const runs = checkInteger('AIS runs', options.runs ?? 100);
  const gibbsSteps = checkInteger('gibbsSteps', options.gibbsSteps ?? 1);
  const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff);
  const flushEvery = checkInteger('flushEvery', options.flushEvery ?? 100);
  const sumOut = options.sumOut ?? 'auto';
  if (sumOut !== 'odd' && sumOut !== 'even' && sumOut !== 'auto') throw new InvalidValueError(`sumOut must be "odd", "even" or "auto", got ${JSON.stringify(sumOut)}`);
  const start = options.start ?? (options.data !== undefined ? 'base-rate' : 'uniform');
  let visibleMeans: Float64Array | undefined;
  if (options.data !== undefined) {
    model.layers[0]!.validate(options.data, 'AIS data');
    visibleMeans = columnMeans(options.data);
  }
  return onBackend(model, options.backend, async (m) => {
    const path = new AnnealingPath(m, { start, visibleMeans });
    try {
      const { logWeights, summed, finalStates } = await runAnnealing(path, betas, { runs, gibbsSteps, seed, flushEvery, sumOut });
      const estimate = importanceEstimate(await path.baseLogPartition(), logWeights);
      return { ...estimate, logWeights, runs, betas: betas.length - 1, start, summedOut: summed.map((l) => m.layers[l]!.name), finalStates, warnings: weightWarnings('AIS', estimate.effectiveSampleSize, runs) };
    } finally {
      path.dispose();
    }
  });
}

/** The forward annealing runs: x_1 ~ p_0, then alternately the weight increment at each step and a transition. */
async function runAnnealing(
  path: AnnealingPath,
  betas: Float64Array,
  o: { runs: number; gibbsSteps: number; seed: number; flushEvery: number; sumOut: SumOut },
): Promise<{ logWeights: Float64Array; summed: readonly number[]; finalStates: Record<string, Matrix> }> {
  const chains = new AnnealingChains(path, o.runs, { sumOut: o.sumOut, seed: o.seed, stream: 6 });
  try {
    chains.startFromBase();
    const K = betas.length - 1;
    for (let k = 1; k <= K; k++) {
      chains.increment(betas[k - 1]!, betas[k]!);
      if (k % o.flushEvery === 0 || k === K) await chains.flush();
      // x_{k+1} ~ T_k(x_k): block Gibbs at beta_k.
      if (k < K) chains.sweep(betas[k]!, o.gibbsSteps);
    }
    const finalStates = await Promise.all(chains.kept.map(async (l) => [path.target.layers[l]!.name, await path.target.backend.read(chains.states[l]!)] as const));
    return { logWeights: chains.logWeights, summed: chains.summed, finalStates: Object.fromEntries(finalStates) };
  } finally {
    chains.dispose();
  }
}

/** log Z-hat = offset + log mean exp(log w), its +-3 sigma interval and the effective sample size, in float64 by log-sum-exp. */
export function importanceEstimate(offset: number, logWeights: Float64Array): { logZ: number; lower: number; upper: number; logZBase: number; effectiveSampleSize: number } {
  const n = logWeights.length;
  let max = -Infinity;
  for (const x of logWeights) if (x > max) max = x;
  if (!Number.isFinite(max)) throw new InvalidValueError(`AIS produced a non-finite log weight (${max}): the model's parameters or the schedule are degenerate`);
  let mean = 0;
  let squares = 0;
  for (const x of logWeights) {
    const w = Math.exp(x - max);
    mean += w;
    squares += w * w;
  }
  const effectiveSampleSize = (mean * mean) / squares;
  mean /= n;
  let variance = 0;
  for (const x of logWeights) variance += (Math.exp(x - max) - mean) ** 2;
  variance = n > 1 ? variance / (n - 1) : 0;
  const sigma = Math.sqrt(variance / n);
  const at = offset + max;
  return {
    logZ: at + Math.log(mean),
    lower: mean - 3 * sigma > 0 ? at + Math.log(mean - 3 * sigma) : -Infinity,
    upper: at + Math.log(mean + 3 * sigma),
    logZBase: offset,
    effectiveSampleSize,
  };
}

/** The warning a small effective sample size deserves, if any. */
export function weightWarnings(what: string, effectiveSampleSize: number, runs: number): string[] {
  if (runs < 2 || effectiveSampleSize >= SMALL_EFFECTIVE_SAMPLE_FRACTION * runs) return [];
  return [
    `${what}: the effective sample size of the importance weights is ${effectiveSampleSize.toFixed(1)} of ${runs} runs: a few runs carry the estimate, which is then probably too low; use more betas (intermediate distributions) or more runs`,
  ];
}

/** An AIS log-likelihood estimate: the mean over rows, with the interval that log Z's interval gives. */
export interface AISLogLikelihood {
  /** mean_rows(-F(v)) - log Z-hat. */
  mean: number;
  /** From log Z's upper end. */
  lower: number;
  /** From log Z's lower end (Infinity when that is -Infinity). */
  upper: number;
  /** Per-row estimates -F(v) - log Z-hat, float64. */
  rows: Float64Array;
  logZ: AISResult;
}

/**
 * The AIS estimate of the mean log-likelihood of `data` under a model whose other layers all
 * hang off the visible layer (an RBM): log p(v) = -F(v) - log Z, F exact, log Z from `logZ`
 * (an earlier result) or from a new AIS run with `options`. For a DBM use the variational
 * lower bound (`variationalLowerBound`) with the AIS log Z.
 */
export async function aisLogLikelihood(model: EnergyModel, data: Matrix, options: AISOptions & { logZ?: AISResult } = {}): Promise<AISLogLikelihood> {
  model.layers[0]!.validate(data, 'data');
  const [dataBlock] = model.bipartition();
  if (dataBlock!.length !== 1) {
    throw new InvalidValueError('the AIS log-likelihood needs every other layer to hang off the visible layer (an RBM); for a DBM use variationalLowerBound with the AIS log Z');
  }
  const logZ = options.logZ ?? (await annealedImportanceSampling(model, options));
  const rows = await onBackend(model, options.backend, (m) => negativeFreeEnergyRows(m, data));
  let negF = 0;
  for (const x of rows) negF += x;
  negF /= rows.length;
  for (let i = 0; i < rows.length; i++) rows[i]! -= logZ.logZ;
  return { mean: negF - logZ.logZ, lower: negF - logZ.upper, upper: negF - logZ.lower, rows, logZ };
}
