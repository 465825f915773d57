/**
 * Independent float64 references for DBM and AIS tests, written from the definitions with plain
 * loops (no library code): log Z and log p(v) of a Bernoulli DBM with two hidden layers by
 * enumerating the first hidden layer (v and h2 summed out in closed form), log Z of a wide RBM
 * by enumerating its hidden side in two halves, and seeded random parameters.
 */
import { CounterRng, Matrix } from '@boltzmann/tensor';

/** A Bernoulli DBM v - h1 - h2 in plain arrays: W1[i][j], W2[j][k], biases b (v), c1 (h1), c2 (h2). */
export interface HostDBM {
  W1: number[][];
  W2: number[][];
  b: number[];
  c1: number[];
  c2: number[];
}

const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

export function logSumExp(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i]! > m) m = xs[i]!;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.exp(xs[i]! - m);
  return m + Math.log(s);
}

/** Seeded N(0, scale) parameters. */
export function randomHostDBM(nv: number, n1: number, n2: number, seed: number, scale: number): HostDBM {
  const rng = new CounterRng(seed, 41);
  const normals = (n: number) => Array.from(rng.normals(new Float64Array(n), 0, scale));
  const rows = (r: number, c: number) => Array.from({ length: r }, () => normals(c));
  return { W1: rows(nv, n1), W2: rows(n1, n2), b: normals(nv), c1: normals(n1), c2: normals(n2) };
}

/** The parameters under a DBM's qualified names ("visible.bias", "hidden1-hidden2.weights"...). */
export function dbmParams(p: HostDBM): Record<string, Matrix> {
  const m = (rows: number[][]) => new Matrix(rows.length, rows[0]!.length, Float64Array.from(rows.flat()));
  return {
    'visible.bias': m([p.b]),
    'hidden1.bias': m([p.c1]),
    'hidden2.bias': m([p.c2]),
    'visible-hidden1.weights': m(p.W1),
    'hidden1-hidden2.weights': m(p.W2),
  };
}

/** For every state of h1: its log weight with h2 summed out, plus the part that depends on v (for log p(v)). */
function forEachH1(p: HostDBM, fn: (h1: number[], base: number) => void): void {
  const n1 = p.c1.length;
  for (let s = 0; s < 2 ** n1; s++) {
    const h1 = Array.from({ length: n1 }, (_, j) => (s >> j) & 1);
    let base = 0;
    for (let j = 0; j < n1; j++) base += p.c1[j]! * h1[j]!;
    for (let k = 0; k < p.c2.length; k++) {
      let a = p.c2[k]!;
      for (let j = 0; j < n1; j++) a += h1[j]! * p.W2[j]![k]!;
      base += softplus(a);
    }
    fn(h1, base);
  }
}

/** log Z = log sum_{v, h1, h2} exp(-E), with v and h2 summed out for each h1. */
export function dbmLogZ(p: HostDBM): number {
  const terms: number[] = [];
  forEachH1(p, (h1, base) => {
    let t = base;
    for (let i = 0; i < p.b.length; i++) {
      let a = p.b[i]!;
      for (let j = 0; j < h1.length; j++) a += p.W1[i]![j]! * h1[j]!;
      t += softplus(a);
    }
    terms.push(t);
  });
  return logSumExp(terms);
}

/** log p(v) for each row of `data` (0/1 or probabilities), given log Z. */
export function dbmLogLikelihoodRows(p: HostDBM, data: Matrix, logZ: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < data.rows; r++) {
    const v = data.row(r);
    const terms: number[] = [];
    forEachH1(p, (h1, base) => {
      let t = base;
      for (let i = 0; i < p.b.length; i++) {
        let a = p.b[i]!;
        for (let j = 0; j < h1.length; j++) a += p.W1[i]![j]! * h1[j]!;
        t += v[i]! * a;
      }
      terms.push(t);
    });
    out.push(logSumExp(terms) - logZ);
  }
  return out;
}

/**
 * log Z of a Bernoulli RBM with many visible units and up to ~22 hidden ones:
 * log Z = logsumexp_h [c.h + sum_i log(1 + exp(b_i + W_i h))], h enumerated as two halves
 * (h_a, h_b) so that exp(b_i + W_i h) = exp(b_i + W_i,a h_a) exp(W_i,b h_b) are products of
 * precomputed exponentials; the products over i are taken 16 at a time before one log
 * (exact unless a term overflows, which is checked).
 */
export function wideRbmLogZ(W: Matrix, b: ArrayLike<number>, c: ArrayLike<number>): number {
  const nv = W.rows;
  const nh = W.cols;
  const halfA = Math.floor(nh / 2);
  const halfB = nh - halfA;
  const side = (offset: number, size: number, withBias: boolean) => {
    const count = 2 ** size;
    const exps = new Float64Array(count * nv);
    const hiddenBias = new Float64Array(count);
    for (let s = 0; s < count; s++) {
      for (let i = 0; i < nv; i++) {
        let a = withBias ? b[i]! : 0;
        for (let j = 0; j < size; j++) if ((s >> j) & 1) a += W.data[i * nh + offset + j]!;
        exps[s * nv + i] = Math.exp(a);
      }
      for (let j = 0; j < size; j++) if ((s >> j) & 1) hiddenBias[s]! += c[offset + j]!;
    }
    return { count, exps, hiddenBias };
  };
  const A = side(0, halfA, true);
  const B = side(halfA, halfB, false);
  const terms = new Float64Array(A.count * B.count);
  for (let p = 0; p < A.count; p++) {
    for (let q = 0; q < B.count; q++) {
      let sum = 0;
      let prod = 1;
      const pa = p * nv;
      const qb = q * nv;
      for (let i = 0; i < nv; i++) {
        prod *= 1 + A.exps[pa + i]! * B.exps[qb + i]!;
        if ((i & 15) === 15) {
          sum += Math.log(prod);
          prod = 1;
        }
      }
      sum += Math.log(prod);
      if (!Number.isFinite(sum)) throw new Error('wideRbmLogZ: a product overflowed; use smaller weights');
      terms[p * B.count + q] = sum + A.hiddenBias[p]! + B.hiddenBias[q]!;
    }
  }
  return logSumExp(terms);
}
