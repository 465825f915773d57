import { InvalidValueError, Matrix, type Backend } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { checkNumber } from '../validation.js';
import { annealedImportanceSampling, type AISResult } from './ais.js';
import { negativeFreeEnergyRows } from './free-energy-rows.js';
import type { SumOut } from '../samplers/annealing-chains.js';
import { onBackend } from './on-backend.js';
import { requireVisibleChains, reverseAnnealedImportanceSampling, type ReverseAISResult } from './reverse-ais.js';

/** Options of {@link logPartitionSandwich}. */
export interface SandwichOptions {
  /** Training data: the base-rate distribution of both sides (its column means). */
  baseRate?: Matrix;
  /** Intermediate distributions of both sides; default 14,500. */
  betas?: number;
  /** Forward AIS runs; default 100. */
  runs?: number;
  /**
   * Where the reverse chains start: by default the forward runs' final states (approximate
   * samples of the model, found by annealing); or, for an RBM, these visible rows, e.g. held-out
   * data (RAISE). Data rows make a valid start only for a model that fits them: a model whose
   * mass lies away from its data (spurious modes) makes the reverse side from data err low.
   */
  reverseFrom?: Matrix;
  /** Which block both sides sum out (AIS's `sumOut`); default "auto". Ignored by `reverseFrom`, which needs the visible chains of an RBM. */
  sumOut?: SumOut;
  /** Rows that start reverse chains (at most; evenly spaced); default: all the starts (100). */
  reverseRows?: number;
  /** Reverse chains per row; default 1. */
  chainsPerRow?: number;
  seed?: number;
  /** Compute on this backend (a float64 one keeps every increment in float64). */
  backend?: Backend;
  /** The sides "disagree" when the upper estimate exceeds the lower one by more than this many nats; default 1. */
  tolerance?: number;
}

/** log Z bounded from both sides. */
export interface LogZSandwich {
  /**
   * The lower side's end: AIS's log(Z-hat - 3 sigma), or, when the weights are too spread for
   * that to be higher, log Z-hat - log 20 (AIS exceeds log Z by more than log 20 with probability
   * below 5%, by Markov's inequality, whatever its weights).
   */
  lower: number;
  /** The upper side's end: reverse AIS's estimate + 3 standard errors. */
  upper: number;
  /** AIS's estimate (errs low). */
  lowerEstimate: number;
  /** Reverse AIS's estimate (errs high). */
  upperEstimate: number;
  /** upperEstimate - lowerEstimate: how far apart the two sides are, in nats. */
  gap: number;
  /** Whether the gap is within the tolerance (and neither side crosses the other's end). */
  agree: boolean;
  forward: AISResult;
  reverse: ReverseAISResult;
  /** Everything a user should read before trusting the numbers; empty when nothing. */
  warnings: string[];
}

/**
 * log Z between two estimates that err in opposite directions (bidirectional Monte Carlo,
 * Grosse, Ghahramani & Adams 2015): AIS from the base distribution (errs low) and reverse AIS
 * (errs high) started from the forward runs' final states resampled by their weights, the
 * model's approximate samples, with the same schedule, summed-out block and base-rate model. For
 * an RBM the chains move on the visible layer; for a DBM on the block AIS keeps (a 2-layer DBM:
 * h1, with v and h2 summed out). When the schedule is long enough both meet; a gap larger than
 * `tolerance` means at least one side is off by about that much, and `warnings` says so. Both
 * sides share one blind spot: a mode of the model that no forward run reaches.
 */
export async function logPartitionSandwich(model: EnergyModel, options: SandwichOptions = {}): Promise<LogZSandwich> {
  const tolerance = checkNumber('sandwich tolerance', options.tolerance ?? 1, 0);
  if (options.reverseFrom !== undefined) requireVisibleChains(model);
  const common = { betas: options.betas, seed: options.seed, backend: options.backend };
  const sumOut = options.sumOut ?? 'auto';
  const forward = await annealedImportanceSampling(model, { ...common, sumOut, runs: options.runs, ...(options.baseRate !== undefined ? { data: options.baseRate } : {}) });
  const reverseOptions = { ...common, rows: options.reverseRows, chainsPerRow: options.chainsPerRow, baseRate: options.baseRate };
  const reverse = options.reverseFrom !== undefined
    ? await reverseAnnealedImportanceSampling(model, options.reverseFrom, reverseOptions)
    : await reverseAnnealedImportanceSampling(model, resampleStates(forward.finalStates, forward.logWeights), { ...reverseOptions, sumOut });
  const gap = reverse.logZ - forward.logZ;
  const warnings = [...forward.warnings];
  const crossed = forward.lower > reverse.upper;
  if (crossed) {
    warnings.push(
      `the two sides disagree: AIS from below (${forward.logZ.toFixed(3)}) lies above reverse AIS from above (${reverse.logZ.toFixed(3)}) beyond their noise; the reverse chains' rows may be far from the model's distribution`,
    );
  } else if (gap > tolerance) {
    warnings.push(
      `the two sides disagree by ${gap.toFixed(2)} nats (AIS ${forward.logZ.toFixed(3)} from below, reverse AIS ${reverse.logZ.toFixed(3)} from above): log Z is only known to lie between them; use more betas (intermediate distributions)`,
    );
  }
  return {
    lower: Math.max(forward.lower, forward.logZ - Math.log(20)),
    upper: reverse.upper,
    lowerEstimate: forward.logZ,
    upperEstimate: reverse.logZ,
    gap,
    agree: !crossed && gap <= tolerance,
    forward,
    reverse,
    warnings,
  };
}

/** The mean log-likelihood of rows of an RBM bounded from both sides by a log Z sandwich. */
export interface LogLikelihoodSandwich {
  /** mean(-F(v)) - the sandwich's upper end. */
  lower: number;
  /** mean(-F(v)) - the sandwich's lower end. */
  upper: number;
  /** mean(-F(v)) - the reverse estimate (errs low). */
  lowerEstimate: number;
  /** mean(-F(v)) - the AIS estimate (errs high): what AIS alone reports. */
  upperEstimate: number;
  /** The mean of -F(v) over the rows (exact, float64). */
  meanNegativeFreeEnergy: number;
  logZ: LogZSandwich;
}

/**
 * The mean log p(v) = -F(v) - log Z of `rows` under an RBM, from a log Z sandwich: F exact (on
 * `backend` when given), so the two ends swap: log Z's upper end gives the lower end.
 */
export async function logLikelihoodSandwich(model: EnergyModel, rows: Matrix, logZ: LogZSandwich, options: { backend?: Backend } = {}): Promise<LogLikelihoodSandwich> {
  model.layers[0]!.validate(rows, 'data');
  if (model.bipartition()[0]!.length !== 1) {
    throw new InvalidValueError('the log-likelihood sandwich needs log p(v) = -F(v) - log Z, so every other layer must hang off the visible layer (an RBM); for a DBM subtract the sandwich\'s ends from variationalLowerBound\'s bound (its lower end is then a lower bound on the log-likelihood)');
  }
  const negF = await onBackend(model, options.backend, (m) => negativeFreeEnergyRows(m, rows));
  let mean = 0;
  for (const x of negF) mean += x / negF.length;
  return {
    lower: mean - logZ.upper,
    upper: mean - logZ.lower,
    lowerEstimate: mean - logZ.upperEstimate,
    upperEstimate: mean - logZ.lowerEstimate,
    meanNegativeFreeEnergy: mean,
    logZ,
  };
}

/**
 * Systematic resampling: row indices drawn in proportion to exp(logWeights), at evenly spaced
 * positions (no randomness), and those rows of every layer's states. The forward runs' final
 * states weighted this way are the best available stand-in for samples of the model: the runs
 * that found its heavy modes count most.
 */
function resampleStates(states: Readonly<Record<string, Matrix>>, logWeights: Float64Array): Record<string, Matrix> {
  const n = logWeights.length;
  let max = -Infinity;
  for (const x of logWeights) max = Math.max(max, x);
  const w = Float64Array.from(logWeights, (x) => Math.exp(x - max));
  const total = w.reduce((a, b) => a + b, 0);
  const picked = new Uint32Array(n);
  let j = 0;
  let cumulative = w[0]!;
  for (let i = 0; i < n; i++) {
    const position = ((i + 0.5) / n) * total;
    while (cumulative < position && j < n - 1) cumulative += w[++j]!;
    picked[i] = j;
  }
  return Object.fromEntries(Object.entries(states).map(([name, m]) => {
    const out = new Matrix(n, m.cols, new (m.data.constructor as Float64ArrayConstructor)(n * m.cols));
    picked.forEach((r, i) => out.data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
    return [name, out];
  }));
}
