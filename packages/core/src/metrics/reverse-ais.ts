import { InvalidValueError, Matrix, type Backend } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { AnnealingChains } from '../samplers/annealing-chains.js';
import { AnnealingPath, type AnnealingStart } from '../samplers/annealing-path.js';
import { checkInteger } from '../validation.js';
import { aisSchedule, columnMeans } from './ais.js';
import { negativeFreeEnergyRows } from './free-energy-rows.js';
import { onBackend } from './on-backend.js';

/** Options of {@link reverseAnnealedImportanceSampling}. */
export interface ReverseAISOptions {
  /** The intermediate distributions, as for AIS (default 14,500 spread by `aisBetas`). */
  betas?: number | ArrayLike<number>;
  /** At most this many rows start chains (evenly spaced through the data when it has more); default 100. */
  rows?: number;
  /** Reverse chains per row; default 1. */
  chainsPerRow?: number;
  /** Where the reverse chains end: "uniform", or "base-rate" (default when `baseRate` is given). */
  start?: AnnealingStart;
  /** Training data whose column means make the base-rate distribution. */
  baseRate?: Matrix;
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
   * The estimate of log Z from above: the mean over the rows of -F(v) - log p-hat(v), where
   * p-hat(v) is the reverse-annealing estimate of p(v), which errs low (Jensen's inequality).
   */
  logZ: number;
  /** logZ + 3 standard errors of that mean over the rows. */
  upper: number;
  /** log p-hat(v) of each row used (float64): conservative estimates of log p(v). */
  rowLogLikelihoods: Float64Array;
  /** Which data rows started chains. */
  rowIndices: Uint32Array;
  chainsPerRow: number;
  betas: number;
  start: AnnealingStart;
  /** The layers summed out analytically (the chains moved on the visible layer). */
  summedOut: string[];
}

/**
 * The bound from above that pairs with AIS: reverse annealing (RAISE, Burda, Grosse &
 * Salakhutdinov 2015), for a model whose other layers all hang off the visible layer (an RBM).
 * Each chain starts at a data row v, the state of the model's own distribution that is known
 * without sampling, and runs the AIS schedule backwards, a block Gibbs sweep at beta_k and then
 * the increment log p*_k(x) - log p*_{k-1}(x), down to the base distribution. Then
 *
 *   w = p*(v) / (Z_A prod_k p*_k(x_{k-1}) / p*_{k-1}(x_{k-1}))
 *
 * is an unbiased estimate of the likelihood of v under the annealing chain read as a generative
 * model, which tends to p(v) as the schedule grows; log mean w therefore errs low, and
 * -F(v) - log mean w errs high as an estimate of log Z. Where the rows were exact samples of the
 * model this is the reverse half of bidirectional Monte Carlo (Grosse et al. 2015), a stochastic
 * upper bound; on data it is RAISE's conservative estimate. Bad input throws.
 */
export async function reverseAnnealedImportanceSampling(model: EnergyModel, data: Matrix, options: ReverseAISOptions = {}): Promise<ReverseAISResult> {
  const betas = aisSchedule(options.betas);
  const maxRows = checkInteger('reverse AIS rows', options.rows ?? 100);
  const chainsPerRow = checkInteger('reverse AIS chains per row', options.chainsPerRow ?? 1);
  const gibbsSteps = checkInteger('gibbsSteps', options.gibbsSteps ?? 1);
  const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff);
  const flushEvery = checkInteger('flushEvery', options.flushEvery ?? 100);
  const start = options.start ?? (options.baseRate !== undefined ? 'base-rate' : 'uniform');
  requireVisibleChains(model);
  model.layers[0]!.validate(data, 'reverse AIS data');
  if (data.rows === 0) throw new InvalidValueError('reverse AIS needs at least one data row');
  let visibleMeans: Float64Array | undefined;
  if (options.baseRate !== undefined) {
    model.layers[0]!.validate(options.baseRate, 'reverse AIS base-rate data');
    visibleMeans = columnMeans(options.baseRate);
  }
  const used = Math.min(maxRows, data.rows);
  const rowIndices = Uint32Array.from({ length: used }, (_, i) => Math.floor((i * data.rows) / used));
  const starts = Matrix.zeros(used * chainsPerRow, data.cols, model.backend.precision);
  rowIndices.forEach((r, i) => {
    const row = data.data.subarray(r * data.cols, (r + 1) * data.cols);
    for (let c = 0; c < chainsPerRow; c++) starts.data.set(row, (i * chainsPerRow + c) * data.cols);
  });
  const picked = Matrix.zeros(used, data.cols, model.backend.precision);
  rowIndices.forEach((r, i) => picked.data.set(data.data.subarray(r * data.cols, (r + 1) * data.cols), i * data.cols));

  return onBackend(model, options.backend, async (m) => {
    const negF = await negativeFreeEnergyRows(m, picked);
    const path = new AnnealingPath(m, { start, visibleMeans });
    const chains = new AnnealingChains(path, starts.rows, { sumOut: 'odd', seed, stream: 7 });
    const rowsTensor = m.backend.upload(starts);
    try {
      chains.setState(0, rowsTensor);
      const K = betas.length - 1;
      for (let k = K, done = 1; k >= 1; k--, done++) {
        chains.sweep(betas[k]!, gibbsSteps);
        chains.increment(betas[k - 1]!, betas[k]!);
        if (done % flushEvery === 0 || k === 1) await chains.flush();
      }
      const logZBase = await path.baseLogPartition();
      // u = log Z_A + sum of the increments: -F(v) - log w of one chain; a row's chains combine as log mean w.
      const rowLogLikelihoods = new Float64Array(used);
      const perRow = new Float64Array(used);
      for (let i = 0; i < used; i++) {
        let max = -Infinity;
        for (let c = 0; c < chainsPerRow; c++) max = Math.max(max, -chains.logWeights[i * chainsPerRow + c]!);
        let s = 0;
        for (let c = 0; c < chainsPerRow; c++) s += Math.exp(-chains.logWeights[i * chainsPerRow + c]! - max);
        perRow[i] = logZBase - (max + Math.log(s / chainsPerRow));
        rowLogLikelihoods[i] = negF[i]! - perRow[i]!;
      }
      if (!perRow.every(Number.isFinite)) throw new InvalidValueError('reverse AIS produced a non-finite log weight: the model\'s parameters or the schedule are degenerate');
      const mean = perRow.reduce((a, b) => a + b, 0) / used;
      const variance = used > 1 ? perRow.reduce((a, b) => a + (b - mean) ** 2, 0) / (used - 1) : 0;
      return {
        logZ: mean,
        upper: mean + 3 * Math.sqrt(variance / used),
        rowLogLikelihoods,
        rowIndices,
        chainsPerRow,
        betas: K,
        start,
        summedOut: chains.summed.map((l) => m.layers[l]!.name),
      };
    } finally {
      m.backend.dispose(rowsTensor);
      chains.dispose();
      path.dispose();
    }
  });
}

/** Reverse chains start from visible rows alone: every other layer must hang off the visible layer. */
export function requireVisibleChains(model: EnergyModel): void {
  if (model.bipartition()[0]!.length !== 1) {
    throw new InvalidValueError(
      'reverse AIS starts its chains from visible rows, so it needs every other layer to hang off the visible layer (an RBM); a DBM has no bound from above here: use annealedImportanceSampling (from below) and variationalLowerBound',
    );
  }
}
