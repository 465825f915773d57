import { InvalidValueError, Matrix, ShapeError } from '@boltzmann/tensor';
import type { QuadraticEnergy } from '../models/quadratic-energy.js';
import { checkInteger, checkNumber } from '../validation.js';

/** Options of the exact (enumeration) computations on a general Boltzmann machine. */
export interface ExactBoltzmannOptions {
  /** p(s) is proportional to exp(-E(s) / T); default 1. */
  temperature?: number;
  /** Refuse machines with more units than this (2^units states are visited); default 24. */
  maxUnits?: number;
}

/** Default cap on the units of an enumerated general Boltzmann machine (2^24 states). */
export const MAX_EXACT_UNITS = 24;

function checkEnumerable(units: number, options: ExactBoltzmannOptions): { temperature: number } {
  const maxUnits = checkInteger('maxUnits', options.maxUnits ?? MAX_EXACT_UNITS, 1, 30);
  if (units > maxUnits) {
    throw new InvalidValueError(`exact enumeration over ${units} units of a Boltzmann machine visits 2^${units} states; the limit is ${maxUnits} units: use Glauber sampling`);
  }
  return { temperature: checkNumber('temperature', options.temperature ?? 1, Number.MIN_VALUE) };
}

/**
 * The Boltzmann-Gibbs distribution p(s) = exp(-E(s)/T) / Z over all 2^N states, in float64,
 * indexed like `energy.stateOf` (bit j of the index = unit j on).
 */
export function exactBoltzmannDistribution(energy: QuadraticEnergy, options: ExactBoltzmannOptions = {}): Float64Array {
  const { temperature } = checkEnumerable(energy.size, options);
  const negE = new Float64Array(2 ** energy.size);
  enumerateFree(energy, energy.stateOf(0), allUnits(energy.size), (_, e, index) => {
    negE[index] = -e / temperature;
  });
  const logZ = logSumExp(negE);
  for (let k = 0; k < negE.length; k++) negE[k] = Math.exp(negE[k]! - logZ);
  return negE;
}

/** log Z(T) = log sum_s exp(-E(s)/T), exactly (float64 log-sum-exp). */
export function exactBoltzmannLogPartition(energy: QuadraticEnergy, options: ExactBoltzmannOptions = {}): number {
  return exactConditionalStatistics(energy, energy.stateOf(0), allUnits(energy.size), options).logPartition;
}

/** Exact statistics of the free units given the others (see {@link exactConditionalStatistics}). */
export interface ConditionalStatistics {
  /** E[s_i] for every unit (clamped ones: their value). */
  mean: Float64Array;
  /** E[s_i s_j], N x N row-major. */
  correlation: Float64Array;
  /** log sum over the free units of exp(-E(s)/T): -F/T of the clamped values (log Z when nothing is clamped). */
  logPartition: number;
}

/**
 * Moments of p(free units | the others) with the others held at their values in `state`, by
 * enumerating the 2^(free units) assignments: the exact "clamped" (wake) statistics for
 * `free` = the hidden units and a data vector in `state`, and the exact "free" (dream) ones
 * for `free` = every unit.
 */
export function exactConditionalStatistics(
  energy: QuadraticEnergy,
  state: ArrayLike<number>,
  free: ArrayLike<number>,
  options: ExactBoltzmannOptions = {},
): ConditionalStatistics {
  const { temperature } = checkEnumerable(free.length, options);
  const start = Float64Array.from(state);
  energy.checkState(start);
  const negE = new Float64Array(2 ** free.length);
  let k = 0;
  enumerateFree(energy, start, free, (_, e) => {
    negE[k++] = -e / temperature;
  });
  const logPartition = logSumExp(negE);
  const n = energy.size;
  const mean = new Float64Array(n);
  const correlation = new Float64Array(n * n);
  k = 0;
  enumerateFree(energy, start, free, (s) => {
    addOuter(s, Math.exp(negE[k++]! - logPartition), mean, correlation);
  });
  return { mean, correlation, logPartition };
}

/**
 * Visits every assignment of the `free` units, the other units held at their values in
 * `start`, in Gray-code order: each step flips one unit and updates the energy and fields in
 * O(N). `visit` gets the state (a reused buffer), its energy and its index (`energy.indexOf`; -1 beyond 30 units).
 */
export function enumerateFree(
  energy: QuadraticEnergy,
  start: ArrayLike<number>,
  free: ArrayLike<number>,
  visit: (state: Float64Array, e: number, index: number) => void,
): void {
  const n = energy.size;
  if (free.length > 30) throw new InvalidValueError(`enumerating ${free.length} free units visits 2^${free.length} states; at most 30`);
  const s = Float64Array.from(start);
  const field = new Float64Array(n);
  for (let i = 0; i < n; i++) field[i] = energy.field(i, s);
  let e = energy.energy(s);
  const track = n <= 30; // state indices fit a 32-bit integer
  let index = track ? energy.indexOf(s) : -1;
  const gap = energy.high - energy.low;
  visit(s, e, index);
  const count = 2 ** free.length;
  for (let k = 1; k < count; k++) {
    const i = free[31 - Math.clz32(k & -k)]!; // Gray code: step k flips the free unit of k's lowest set bit
    const d = s[i] === energy.high ? -gap : gap;
    e -= d * field[i]!;
    s[i]! += d;
    if (track) index ^= 1 << i;
    for (let j = 0; j < n; j++) field[j]! += energy.weights[j * n + i]! * d;
    visit(s, e, index);
  }
}

function allUnits(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}

/**
 * Exact mean log-likelihood (1/rows) sum log p(v) of rows of the first `visible` units (0/1 or
 * spins), the rest summed out: log p(v) = log sum_h exp(-E(v, h)/T) - log Z.
 */
export function exactBoltzmannLogLikelihood(energy: QuadraticEnergy, data: Matrix, visible: number, options: ExactBoltzmannOptions = {}): number {
  if (data.cols !== visible || visible > energy.size) throw new ShapeError(`data has ${data.cols} columns for ${visible} visible units of a machine with ${energy.size}`);
  const logZ = exactBoltzmannLogPartition(energy, options);
  const hidden = Uint32Array.from({ length: energy.size - visible }, (_, i) => visible + i);
  const state = new Float64Array(energy.size).fill(energy.low);
  const cache = new Map<string, number>();
  let total = 0;
  for (let r = 0; r < data.rows; r++) {
    const v = data.row(r);
    const key = v.join(',');
    let lp = cache.get(key);
    if (lp === undefined) {
      state.set(v);
      lp = exactConditionalStatistics(energy, state, hidden, options).logPartition - logZ;
      cache.set(key, lp);
    }
    total += lp;
  }
  return total / data.rows;
}

/**
 * The marginal distribution of the first `units` units (the visible ones of a
 * `BoltzmannMachine`, which come first) from a joint distribution over 2^N states.
 */
export function leadingMarginal(joint: Float64Array, units: number): Float64Array {
  const size = 2 ** units;
  if (!Number.isInteger(Math.log2(joint.length)) || size > joint.length) throw new ShapeError(`cannot take the marginal of ${units} units from a distribution of ${joint.length} states`);
  const out = new Float64Array(size);
  for (let k = 0; k < joint.length; k++) out[k % size]! += joint[k]!;
  return out;
}

/** Total variation distance 1/2 sum |p - q| between two distributions over the same states. */
export function totalVariation(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new ShapeError(`total variation needs distributions over the same states, got ${p.length} and ${q.length}`);
  let s = 0;
  for (let k = 0; k < p.length; k++) s += Math.abs(p[k]! - q[k]!);
  return s / 2;
}

/**
 * The empirical distribution of binary (or spin) rows: the fraction of rows equal to each state,
 * indexed like `QuadraticEnergy.stateOf` (value `high` = bit set).
 */
export function empiricalDistribution(rows: Matrix, high = 1): Float64Array {
  if (rows.cols > 30) throw new InvalidValueError(`an empirical distribution over ${rows.cols} units has 2^${rows.cols} states; at most 30 units`);
  const out = new Float64Array(2 ** rows.cols);
  for (let r = 0; r < rows.rows; r++) {
    let index = 0;
    for (let j = rows.cols - 1; j >= 0; j--) index = index * 2 + (rows.data[r * rows.cols + j] === high ? 1 : 0);
    out[index]! += 1 / rows.rows;
  }
  return out;
}

/** Entropy -sum p log p in nats: minus the best mean log-likelihood any model can reach on data distributed as p. */
export function entropy(p: ArrayLike<number>): number {
  let h = 0;
  for (let k = 0; k < p.length; k++) if (p[k]! > 0) h -= p[k]! * Math.log(p[k]!);
  return h;
}

/**
 * First and second moments under a distribution over the states of `energy`:
 * mean[i] = E[s_i], correlation[i*N + j] = E[s_i s_j] (float64). The exact "free" statistics
 * of wake/dream learning.
 */
export function exactMoments(energy: QuadraticEnergy, p: ArrayLike<number>): { mean: Float64Array; correlation: Float64Array } {
  const n = energy.size;
  if (p.length !== 2 ** n) throw new ShapeError(`moments of ${n} units need ${2 ** n} probabilities, got ${p.length}`);
  const mean = new Float64Array(n);
  const correlation = new Float64Array(n * n);
  const s = new Float64Array(n);
  for (let k = 0; k < p.length; k++) {
    const w = p[k]!;
    if (w === 0) continue;
    energy.stateOf(k, s);
    addOuter(s, w, mean, correlation);
  }
  return { mean, correlation };
}

/** mean += w s; correlation += w s s^T (skipping zero entries: cheap for 0/1 units). */
export function addOuter(s: ArrayLike<number>, w: number, mean: Float64Array, correlation: Float64Array): void {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const si = s[i]!;
    if (si === 0) continue;
    mean[i]! += w * si;
    const wi = w * si;
    for (let j = 0; j < n; j++) correlation[i * n + j]! += wi * s[j]!;
  }
}

function logSumExp(xs: Float64Array): number {
  let max = -Infinity;
  for (const x of xs) if (x > max) max = x;
  let s = 0;
  for (const x of xs) s += Math.exp(x - max);
  return max + Math.log(s);
}
