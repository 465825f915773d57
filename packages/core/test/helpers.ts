/**
 * Independent float64 references for the core tests: brute-force enumeration of a Bernoulli
 * RBM's energy, free energy, partition function and exact log-likelihood gradient, written
 * from the definitions with plain loops (no library code), plus small data sets.
 */
import { CounterRng, Matrix } from '@boltzmann/tensor';

/** Plain float64 RBM parameters: W[i][j] (visible i, hidden j), b visible bias, c hidden bias. */
export interface HostRBM {
  W: number[][];
  b: number[];
  c: number[];
}

export function randomHostRBM(nv: number, nh: number, seed: number, scale = 1): HostRBM {
  const rng = new CounterRng(seed, 99);
  const u = (n: number) => Array.from(rng.uniforms(new Float64Array(n)), (x) => (x * 2 - 1) * scale);
  return { W: Array.from({ length: nv }, () => u(nh)), b: u(nv), c: u(nh) };
}

/** Nested arrays as a float64 matrix, without a float32 detour. */
export function matrix64(rows: number[][]): Matrix {
  return new Matrix(rows.length, rows[0]!.length, Float64Array.from(rows.flat()));
}

export function toParams(p: HostRBM): Record<string, Matrix> {
  return {
    'visible.bias': matrix64([p.b]),
    'hidden.bias': matrix64([p.c]),
    'visible-hidden.weights': matrix64(p.W),
  };
}

export async function fromParams(params: Record<string, Matrix>): Promise<HostRBM> {
  return {
    W: params['visible-hidden.weights']!.toArray(),
    b: Array.from(params['visible.bias']!.data),
    c: Array.from(params['hidden.bias']!.data),
  };
}

/** All binary vectors of length n, index bit j = unit j. */
export function binaryStates(n: number): number[][] {
  return Array.from({ length: 2 ** n }, (_, s) => Array.from({ length: n }, (_, j) => Math.floor(s / 2 ** j) % 2));
}

export function energy(p: HostRBM, v: ArrayLike<number>, h: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < p.b.length; i++) e -= p.b[i]! * v[i]!;
  for (let j = 0; j < p.c.length; j++) e -= p.c[j]! * h[j]!;
  for (let i = 0; i < p.b.length; i++) for (let j = 0; j < p.c.length; j++) e -= v[i]! * p.W[i]![j]! * h[j]!;
  return e;
}

export function logSumExp(xs: number[]): number {
  const m = xs.reduce((a, x) => (x > a ? x : a), -Infinity);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

/** F(v) = -log sum_h exp(-E(v, h)) by enumerating h. */
export function bruteFreeEnergy(p: HostRBM, v: ArrayLike<number>): number {
  return -logSumExp(binaryStates(p.c.length).map((h) => -energy(p, v, h)));
}

/** log Z by enumerating every (v, h). */
export function bruteLogZ(p: HostRBM): number {
  const hs = binaryStates(p.c.length);
  return logSumExp(binaryStates(p.b.length).flatMap((v) => hs.map((h) => -energy(p, v, h))));
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** E[h_j | v] */
export function hiddenProbs(p: HostRBM, v: ArrayLike<number>): number[] {
  return p.c.map((cj, j) => sigmoid(cj + p.b.reduce((s, _, i) => s + v[i]! * p.W[i]![j]!, 0)));
}

/**
 * Gradient of the mean log-likelihood of `data` (ascent direction), exactly:
 * <x>_data - <x>_model with the model expectation over every visible state, h summed out.
 */
export function exactLLGradient(p: HostRBM, data: number[][]): HostRBM {
  const nv = p.b.length;
  const nh = p.c.length;
  const zero = (): HostRBM => ({ W: Array.from({ length: nv }, () => new Array(nh).fill(0)), b: new Array(nv).fill(0), c: new Array(nh).fill(0) });
  const stats = (rows: number[][], weights: number[]): HostRBM => {
    const g = zero();
    rows.forEach((v, r) => {
      const q = hiddenProbs(p, v);
      const w = weights[r]!;
      for (let i = 0; i < nv; i++) {
        g.b[i]! += w * v[i]!;
        for (let j = 0; j < nh; j++) g.W[i]![j]! += w * v[i]! * q[j]!;
      }
      for (let j = 0; j < nh; j++) g.c[j]! += w * q[j]!;
    });
    return g;
  };
  const pos = stats(data, data.map(() => 1 / data.length));
  const vs = binaryStates(nv);
  const logp = vs.map((v) => -bruteFreeEnergy(p, v));
  const lz = logSumExp(logp);
  const neg = stats(vs, logp.map((x) => Math.exp(x - lz)));
  return {
    W: pos.W.map((row, i) => row.map((x, j) => x - neg.W[i]![j]!)),
    b: pos.b.map((x, i) => x - neg.b[i]!),
    c: pos.c.map((x, j) => x - neg.c[j]!),
  };
}

export function flatten(p: HostRBM): number[] {
  return [...p.W.flat(), ...p.b, ...p.c];
}

export function cosine(a: number[], b: number[]): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! ** 2; bb += b[i]! ** 2; }
  return ab / Math.sqrt(aa * bb);
}

/** Bars and stripes on an n x n grid: 2^(n+1) - 2 distinct binary images, float64. */
export function barsAndStripes(n: number): Matrix {
  const rows: number[][] = [];
  for (let mask = 0; mask < 2 ** n; mask++) {
    const bars: number[] = [];
    const stripes: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { bars.push((mask >> j) & 1); stripes.push((mask >> i) & 1); }
    rows.push(bars);
    if (mask !== 0 && mask !== 2 ** n - 1) rows.push(stripes);
  }
  return Matrix.fromRows(rows).toFloat64();
}

/** `m` stacked `times` times. */
export function repeatRows(m: Matrix, times: number): Matrix {
  const out = Matrix.zeros(m.rows * times, m.cols, 'float64');
  for (let t = 0; t < times; t++) out.data.set(m.data, t * m.data.length);
  return out;
}

/** Random binary data (rows x cols) with unit j on with probability ~ (j+1)/(cols+1). */
export function randomBinary(rows: number, cols: number, seed: number): Matrix {
  const u = new CounterRng(seed, 7).uniforms(new Float64Array(rows * cols));
  const m = Matrix.zeros(rows, cols, 'float64');
  for (let i = 0; i < u.length; i++) m.data[i] = u[i]! < ((i % cols) + 1) / (cols + 1) ? 1 : 0;
  return m;
}
