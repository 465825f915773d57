import { InvalidValueError, Matrix, type Backend } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { AnnealingChains, summedOutBlock, type SumOut } from '../samplers/annealing-chains.js';
import { AnnealingPath, type AnnealingStart } from '../samplers/annealing-path.js';
import { checkInteger } from '../validation.js';
import { aisSchedule, columnMeans } from './ais.js';
import { negativeFreeEnergyRows } from './free-energy-rows.js';
import { onBackend } from './on-backend.js';

/** Options of {@link reverseAnnealedImportanceSampling}. */
export interface ReverseAISOptions {
  /** The intermediate distributions, as for AIS (default 14,500 spread by `aisBetas`). */
  betas?: number | ArrayLike<number>;
  /** At most this many rows start chains (evenly spaced through the starts when they have more); default 100. */
  rows?: number;
  /** Reverse chains per row; default 1. */
  chainsPerRow?: number;
  /** Where the reverse chains end: "uniform", or "base-rate" (default when `baseRate` is given). */
  start?: AnnealingStart;
  /** Training data whose column means make the base-rate distribution. */
  baseRate?: Matrix;
  /**
   * Which block is summed out when the starts are states by layer name (as AIS's `sumOut`; default
   * "auto", AIS's default, so AIS's `finalStates` fit). Visible rows as starts need the chains on
   * the visible layer alone: "odd" for an RBM, and nothing else is accepted then.
   */
  sumOut?: SumOut;
  /** Block Gibbs sweeps per intermediate distribution; default 1. */
  gibbsSteps?: number;
  /** Seed of the chains; default 0. */
  seed?: number;
  /** Run on this backend instead of the model's (a float64 one for float64 increments). */
  backend?: Backend;
  /** Host float64 summation interval in steps; default 100. */
  flushEvery?: number;
}

/** What reverse annealing estimates. */
export interface ReverseAISResult {
  /**
   * The estimate of log Z from above: the mean over the rows of log Z_A + the reverse log-weight
   * sums (for visible rows, -F(v) - log p-hat(v), where p-hat(v), the reverse-annealing estimate
   * of p(v), errs low by Jensen's inequality).
   */
  logZ: number;
  /** logZ + 3 standard errors of that mean over the rows. */
  upper: number;
  /** Each row's estimate of log Z from above (float64; a row's chains combined as log mean w). */
  rowLogZ: Float64Array;
  /** Visible rows as starts only: log p-hat(v) of each row used (float64), conservative estimates of log p(v). */
  rowLogLikelihoods?: Float64Array;
  /** Which rows of the starts started chains. */
  rowIndices: Uint32Array;
  chainsPerRow: number;
  betas: number;
  start: AnnealingStart;
  /** The layers summed out analytically (the chains moved on the others). */
  summedOut: string[];
}

/**
 * The bound from above that pairs with AIS: reverse annealing (RAISE, Burda, Grosse &
 * Salakhutdinov 2015; the reverse half of bidirectional Monte Carlo, Grosse, Ghahramani & Adams
 * 2015). Each chain starts at a state x of the model's target distribution over the kept block
 * (the layers not summed out) and runs the AIS schedule backwards, a block Gibbs sweep at beta_k
 * and then the increment log p*_k(x) - log p*_{k-1}(x), down to the base distribution. With the
 * sum S of the increments, exp(-S) is an unbiased estimate of Z_A / Z when x is an exact sample
 * of the model, so log Z_A + S errs high (Jensen's inequality): a stochastic upper bound on log Z.
 *
 * `starts` is either
 * - visible rows (a Matrix), for a model whose other layers all hang off the visible layer (an
 *   RBM): on data this is RAISE's conservative log-likelihood estimate, `rowLogLikelihoods`;
 * - or states by layer name of the block kept by `sumOut` (default "auto", as AIS), e.g. AIS's
 *   `finalStates`: any model AIS anneals, a DBM included (its chains then start from h1 states
 *   with v and h2 summed out).
 *
 * States that are not samples of the model (data far from its modes, too short an AIS) make
 * the estimate err in either direction; `logPartitionSandwich` pairs it with AIS. Bad input throws.
 */
export async function reverseAnnealedImportanceSampling(
  model: EnergyModel,
  starts: Matrix | Readonly<Record<string, Matrix>>,
  options: ReverseAISOptions = {},
): Promise<ReverseAISResult> {
  const betas = aisSchedule(options.betas);
  const maxRows = checkInteger('reverse AIS rows', options.rows ?? 100);
  const chainsPerRow = checkInteger('reverse AIS chains per row', options.chainsPerRow ?? 1);
  const gibbsSteps = checkInteger('gibbsSteps', options.gibbsSteps ?? 1);
  const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff);
  const flushEvery = checkInteger('flushEvery', options.flushEvery ?? 100);
  const start = options.start ?? (options.baseRate !== undefined ? 'base-rate' : 'uniform');
  const visibleRows = starts instanceof Matrix ? starts : undefined;
  if (visibleRows !== undefined) requireVisibleChains(model);
  const sumOut = visibleRows !== undefined ? 'odd' : (options.sumOut ?? 'auto');
  if (sumOut !== 'odd' && sumOut !== 'even' && sumOut !== 'auto') throw new InvalidValueError(`sumOut must be "odd", "even" or "auto", got ${JSON.stringify(sumOut)}`);
  const { kept } = summedOutBlock(model, sumOut);
  const byLayer: Readonly<Record<string, Matrix>> = visibleRows !== undefined ? { [model.layers[0]!.name]: visibleRows } : (starts as Readonly<Record<string, Matrix>>);
  const given = Object.keys(byLayer);
  const keptNames = kept.map((l) => model.layers[l]!.name);
  if (given.length !== keptNames.length || !keptNames.every((n) => given.includes(n))) {
    throw new InvalidValueError(`reverse AIS starts need the states of exactly the kept layers (${keptNames.join(', ')}; sumOut "${sumOut}"), got ${given.join(', ') || 'none'}`);
  }
  const total = byLayer[keptNames[0]!]!.rows;
  for (const l of kept) {
    const layer = model.layers[l]!;
    const m = byLayer[layer.name]!;
    layer.validate(m, `reverse AIS starts of layer "${layer.name}"`);
    if (m.rows !== total) throw new InvalidValueError(`reverse AIS starts: layer "${layer.name}" has ${m.rows} rows, layer "${keptNames[0]}" ${total}; every kept layer needs one state per row`);
  }
  if (total === 0) throw new InvalidValueError('reverse AIS needs at least one start row');
  let visibleMeans: Float64Array | undefined;
  if (options.baseRate !== undefined) {
    model.layers[0]!.validate(options.baseRate, 'reverse AIS base-rate data');
    visibleMeans = columnMeans(options.baseRate);
  }
  const used = Math.min(maxRows, total);
  const rowIndices = Uint32Array.from({ length: used }, (_, i) => Math.floor((i * total) / used));
  /** The chosen rows of one layer's starts, each repeated `times`. */
  const pick = (m: Matrix, times: number) => {
    const out = Matrix.zeros(used * times, m.cols, model.backend.precision);
    rowIndices.forEach((r, i) => {
      const row = m.data.subarray(r * m.cols, (r + 1) * m.cols);
      for (let c = 0; c < times; c++) out.data.set(row, (i * times + c) * m.cols);
    });
    return out;
  };

  return onBackend(model, options.backend, async (m) => {
    const negF = visibleRows !== undefined ? await negativeFreeEnergyRows(m, pick(visibleRows, 1)) : undefined;
    const path = new AnnealingPath(m, { start, visibleMeans });
    const chains = new AnnealingChains(path, used * chainsPerRow, { sumOut, seed, stream: 7 });
    const uploaded = kept.map((l) => m.backend.upload(pick(byLayer[m.layers[l]!.name]!, chainsPerRow)));
    try {
      kept.forEach((l, i) => chains.setState(l, uploaded[i]!));
      const K = betas.length - 1;
      for (let k = K, done = 1; k >= 1; k--, done++) {
        chains.sweep(betas[k]!, gibbsSteps);
        chains.increment(betas[k - 1]!, betas[k]!);
        if (done % flushEvery === 0 || k === 1) await chains.flush();
      }
      const logZBase = await path.baseLogPartition();
      // A chain's log Z_A + S estimates log Z from above; a row's chains combine as -log mean exp(-(log Z_A + S)).
      const rowLogZ = new Float64Array(used);
      for (let i = 0; i < used; i++) {
        let max = -Infinity;
        for (let c = 0; c < chainsPerRow; c++) max = Math.max(max, -chains.logWeights[i * chainsPerRow + c]!);
        let s = 0;
        for (let c = 0; c < chainsPerRow; c++) s += Math.exp(-chains.logWeights[i * chainsPerRow + c]! - max);
        rowLogZ[i] = logZBase - (max + Math.log(s / chainsPerRow));
      }
      if (!rowLogZ.every(Number.isFinite)) throw new InvalidValueError('reverse AIS produced a non-finite log weight: the model\'s parameters or the schedule are degenerate');
      const mean = rowLogZ.reduce((a, b) => a + b, 0) / used;
      const variance = used > 1 ? rowLogZ.reduce((a, b) => a + (b - mean) ** 2, 0) / (used - 1) : 0;
      return {
        logZ: mean,
        upper: mean + 3 * Math.sqrt(variance / used),
        rowLogZ,
        ...(negF !== undefined ? { rowLogLikelihoods: Float64Array.from(negF, (x, i) => x - rowLogZ[i]!) } : {}),
        rowIndices,
        chainsPerRow,
        betas: K,
        start,
        summedOut: chains.summed.map((l) => m.layers[l]!.name),
      };
    } finally {
      for (const t of uploaded) m.backend.dispose(t);
      chains.dispose();
      path.dispose();
    }
  });
}

/** Reverse chains from visible rows alone: every other layer must hang off the visible layer. */
export function requireVisibleChains(model: EnergyModel): void {
  if (model.bipartition()[0]!.length !== 1) {
    throw new InvalidValueError(
      'reverse AIS from visible rows needs every other layer to hang off the visible layer (an RBM); for a DBM start it from states of the annealed layers (e.g. AIS finalStates), as logPartitionSandwich does',
    );
  }
}
