/**
 * Independent float64 references for general Boltzmann machines, written from the definitions
 * with plain loops over every state (no library code): E(s) = -sum_{i<j} M_ij s_i s_j - b.s,
 * p(s) = exp(-E(s)/T) / Z, marginals, moments, and the exact log-likelihood of visible data.
 */
import { CounterRng, Matrix } from '@boltzmann/tensor';

export interface HostBM {
  /** Symmetric, zero diagonal. */
  M: number[][];
  b: number[];
}

/** A random symmetric zero-diagonal machine with entries uniform in [-scale, scale]. */
export function randomBM(n: number, seed: number, scale = 1): HostBM {
  const u = new CounterRng(seed, 77).uniforms(new Float64Array(n * n + n));
  const M = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) M[i]![j] = M[j]![i] = (u[i * n + j]! * 2 - 1) * scale;
  return { M, b: Array.from({ length: n }, (_, i) => (u[n * n + i]! * 2 - 1) * scale) };
}

/** State `k` of n units: bit j = unit j high. */
export function stateOf(k: number, n: number, low = 0): number[] {
  return Array.from({ length: n }, (_, j) => (Math.floor(k / 2 ** j) % 2 === 1 ? 1 : low));
}

export function energyOf(p: HostBM, s: readonly number[]): number {
  let e = 0;
  for (let i = 0; i < s.length; i++) {
    e -= p.b[i]! * s[i]!;
    for (let j = i + 1; j < s.length; j++) e -= p.M[i]![j]! * s[i]! * s[j]!;
  }
  return e;
}

/** p over all 2^n states at temperature T. */
export function bruteDistribution(p: HostBM, temperature = 1, low = 0): number[] {
  const n = p.b.length;
  const w = Array.from({ length: 2 ** n }, (_, k) => Math.exp(-energyOf(p, stateOf(k, n, low)) / temperature));
  const z = w.reduce((a, x) => a + x, 0);
  return w.map((x) => x / z);
}

/** log p(v) for a visible vector (the first v.length units), hidden summed out. */
export function bruteLogProbVisible(p: HostBM, v: readonly number[]): number {
  const n = p.b.length;
  let z = 0;
  let zv = 0;
  for (let k = 0; k < 2 ** n; k++) {
    const s = stateOf(k, n);
    const w = Math.exp(-energyOf(p, s));
    z += w;
    if (v.every((x, i) => s[i] === x)) zv += w;
  }
  return Math.log(zv / z);
}

/** Mean log p(v) over rows. */
export function bruteLogLikelihood(p: HostBM, data: Matrix): number {
  let s = 0;
  for (let r = 0; r < data.rows; r++) s += bruteLogProbVisible(p, Array.from(data.row(r)));
  return s / data.rows;
}

/** `count` rows drawn exactly from a distribution over 2^n states (inverse CDF, seeded). */
export function drawRows(dist: readonly number[], n: number, count: number, seed: number, low = 0): Matrix {
  const u = new CounterRng(seed, 78).uniforms(new Float64Array(count));
  const m = Matrix.zeros(count, n, 'float64');
  for (let r = 0; r < count; r++) {
    let k = 0;
    let c = dist[0]!;
    while (u[r]! >= c && k < dist.length - 1) c += dist[++k]!;
    m.data.set(stateOf(k, n, low), r * n);
  }
  return m;
}
