import { InvalidValueError, Matrix, rngState, type Backend, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { AnnealingPath, type AnnealingStart } from '../samplers/annealing-path.js';
import { checkInteger } from '../validation.js';
import { negativeFreeEnergyRows } from './free-energy-rows.js';
import { onBackend } from './on-backend.js';

/** Options of {@link annealedImportanceSampling}. */
export interface AISOptions {
  /**
   * The intermediate distributions: their count K (default 10,000), spread by {@link aisBetas},
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
   * (the visible layer's block: a DBM's v, h2, h4...; Salakhutdinov & Hinton's choice for a
   * 2-hidden-layer DBM, annealing over h1 alone) or "auto" (default): the block with more units,
   * so the chains move in the smaller space, which lowers the variance of the weights.
   */
  sumOut?: 'odd' | 'even' | 'auto';
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
}

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
function schedule(betas: number | ArrayLike<number> | undefined): Float64Array {
  if (betas === undefined || typeof betas === 'number') {
    if (betas !== undefined && !(Number.isInteger(betas) && betas >= 1)) {
      throw new InvalidValueError(`AIS needs at least one intermediate distribution: betas must be an integer >= 1, got ${betas}`);
    }
    return aisBetas(betas ?? 10000);
  }
  const b = Float64Array.from(betas);
  if (b.length < 2) throw new InvalidValueError(`an AIS schedule needs at least two betas (0 and 1), got ${b.length}`);
  if (b[0] !== 0 || b[b.length - 1] !== 1) throw new InvalidValueError(`an AIS schedule must start at 0 and end at 1, got ${b[0]} ... ${b[b.length - 1]}`);
  for (let i = 1; i < b.length; i++) {
    if (!(b[i]! >= b[i - 1]!)) throw new InvalidValueError(`AIS betas must not decrease: beta[${i}] = ${b[i]} after beta[${i - 1}] = ${b[i - 1]}`);
  }
  return b;
}

/** Column means of host data in float64. */
function columnMeans(m: Matrix): Float64Array {
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
 * other block (`sumOut`; by default the larger) is summed out analytically in every unnormalised probability, and
 * the transitions are block Gibbs sweeps at each beta. log w_i = sum_k log p*_{k}(x_k) -
 * log p*_{k-1}(x_k), accumulated per run and summed on the host in float64; log Z-hat =
 * log Z_A + log mean exp(log w) by log-sum-exp, with a +-3 sigma interval on Z-hat.
 * AIS tends to underestimate log Z when the schedule is too short (Jensen's inequality).
 * Bad input (no betas, no runs, an unknown start, base-rate without data) throws.
 */
export async function annealedImportanceSampling(model: EnergyModel, options: AISOptions = {}): Promise<AISResult> {
  const betas = schedule(options.betas);
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
      const { logWeights, summed } = await runAnnealing(m, path, betas, { runs, gibbsSteps, seed, flushEvery, sumOut });
      return { ...summarise(await path.baseLogPartition(), logWeights, betas.length - 1, start), summedOut: summed.map((l) => m.layers[l]!.name) };
    } finally {
      path.dispose();
    }
  });
}

/** The annealing runs themselves: returns log w of each run (summed on the host at each flush, read with await). */
async function runAnnealing(
  model: EnergyModel,
  path: AnnealingPath,
  betas: Float64Array,
  o: { runs: number; gibbsSteps: number; seed: number; flushEvery: number; sumOut: 'odd' | 'even' | 'auto' },
): Promise<{ logWeights: Float64Array; summed: readonly number[] }> {
  const be = model.backend;
  const [b0, b1] = model.bipartition();
  const units = (block: readonly number[]) => block.reduce((n, l) => n + model.layers[l]!.size, 0);
  const odd = o.sumOut === 'odd' || (o.sumOut === 'auto' && units(b1!) >= units(b0!));
  const summed = odd ? b1! : b0!;
  const kept = odd ? b0! : b1!;
  const rng = rngState(o.seed, 6);
  const all: Tensor[] = [];
  const make = (cols: number, rows = o.runs) => {
    const t = be.zeros(rows, cols);
    all.push(t);
    return t;
  };
  const layers = model.layers;
  const states = layers.map((l) => make(l.size));
  const inputs = layers.map((l) => make(l.size));
  const means = layers.map((l) => make(l.size));
  const fields = layers.map((l) => make(l.size));
  const previous = layers.map((l) => make(l.size));
  const increment = make(1);
  const sum = make(1);
  const logWeights = new Float64Array(o.runs);
  const ws = path.workspace;
  const flush = async () => {
    const s = (await be.read(sum)).data;
    for (let i = 0; i < o.runs; i++) logWeights[i]! += s[i]!;
    be.fill(sum, 0);
  };
  const draw = (l: number) => {
    path.betaLayers[l]!.mean(inputs[l]!, means[l]!);
    path.betaLayers[l]!.sample(inputs[l]!, means[l]!, rng, states[l]!);
  };
  try {
    // x_1 ~ p_0: the kept layers from the base distribution (zero field).
    path.setBeta(0);
    for (const l of kept) {
      path.inputAt(l, undefined, inputs[l]!);
      draw(l);
    }
    const K = betas.length - 1;
    for (let k = 1; k <= K; k++) {
      const lo = betas[k - 1]!;
      const hi = betas[k]!;
      // log p*_k(x_k) - log p*_{k-1}(x_k): the kept layers' own energies, then the summed-out layers' log-partitions.
      be.fill(increment, 0);
      for (const l of kept) {
        path.baseLayers[l]!.addEnergy(states[l]!, increment, hi - lo, ws);
        layers[l]!.addEnergy(states[l]!, increment, lo - hi, ws);
      }
      for (const s of summed) path.field(s, states, fields[s]!);
      path.setBeta(lo);
      for (const s of summed) {
        path.inputAt(s, fields[s]!, previous[s]!);
        path.betaLayers[s]!.addLogPartition(previous[s]!, increment, -1, ws);
      }
      path.setBeta(hi);
      for (const s of summed) {
        path.inputAt(s, fields[s]!, inputs[s]!);
        path.betaLayers[s]!.addLogPartition(inputs[s]!, increment, 1, ws);
      }
      be.axpby(1, sum, 1, increment, sum);
      if (k % o.flushEvery === 0 || k === K) await flush();
      if (k === K) break;
      // x_{k+1} ~ T_k(x_k): block Gibbs at beta_k (the summed-out layers' inputs are already those of x_k).
      for (let g = 0; g < o.gibbsSteps; g++) {
        for (const s of summed) {
          if (g > 0) {
            path.field(s, states, fields[s]!);
            path.inputAt(s, fields[s]!, inputs[s]!);
          }
          draw(s);
        }
        for (const l of kept) {
          path.field(l, states, fields[l]!);
          path.inputAt(l, fields[l]!, inputs[l]!);
          draw(l);
        }
      }
    }
    return { logWeights, summed };
  } finally {
    for (const t of all) be.dispose(t);
  }
}

/** log Z-hat and its +-3 sigma interval from the log weights, in float64 by log-sum-exp. */
function summarise(logZBase: number, logWeights: Float64Array, betas: number, start: AnnealingStart): Omit<AISResult, 'summedOut'> {
  const n = logWeights.length;
  let max = -Infinity;
  for (const x of logWeights) if (x > max) max = x;
  if (!Number.isFinite(max)) throw new InvalidValueError(`AIS produced a non-finite log weight (${max}): the model's parameters or the schedule are degenerate`);
  let mean = 0;
  for (const x of logWeights) mean += Math.exp(x - max);
  mean /= n;
  let variance = 0;
  for (const x of logWeights) variance += (Math.exp(x - max) - mean) ** 2;
  variance = n > 1 ? variance / (n - 1) : 0;
  const sigma = Math.sqrt(variance / n);
  const offset = logZBase + max;
  return {
    logZ: offset + Math.log(mean),
    lower: mean - 3 * sigma > 0 ? offset + Math.log(mean - 3 * sigma) : -Infinity,
    upper: offset + Math.log(mean + 3 * sigma),
    logZBase,
    logWeights,
    runs: n,
    betas,
    start,
  };
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
