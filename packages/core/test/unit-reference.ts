/**
 * Independent float64 references for the unit types, written from their definitions with plain
 * loops (no library code): each unit type's energy, interaction, states and the log of its sum
 * or integral over states, by enumeration or by numeric quadrature. An RBM over any pair of
 * them, its energy, free energy and log Z by brute force.
 */
import { CounterRng, Matrix } from '@boltzmann/tensor';

/** A layer's type and options, as RBM.create takes them. */
export type UnitSpecLike = {
  type: 'bernoulli' | 'gaussian' | 'multinomial' | 'relu';
  size: number;
  variance?: 'unit' | 'learned';
  groupSize?: number;
  samples?: number;
};

/** Plain parameters of one layer: bias, and log sigma for learned-variance Gaussians. */
export interface HostLayer {
  spec: UnitSpecLike;
  bias: number[];
  logSigma?: number[];
}

/** Plain RBM over any pair of unit types; W[i][j]: visible i, hidden j. */
export interface HostPairRBM {
  visible: HostLayer;
  hidden: HostLayer;
  W: number[][];
}

export function logSumExp(xs: readonly number[]): number {
  const m = xs.reduce((a, x) => (x > a ? x : a), -Infinity);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** Simpson's rule on [a, b] with n (even) intervals. */
export function simpson(f: (x: number) => number, a: number, b: number, n = 4000): number {
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

/** The stepped-sigmoid log-partition of one ReLU unit, integral_{-inf}^x softplus(u) du, by quadrature. */
export function steppedSigmoidLogPartition(x: number): number {
  const lower = Math.min(x, 0) - 40; // softplus(u) < 5e-18 below: the tail is negligible
  return simpson(softplus, lower, x, 20000);
}

/** The exact log-partition of a ReLU unit's infinitely many binary copies: sum_k softplus(x - k + 1/2). */
export function binomialCopiesLogPartition(x: number): number {
  let s = 0;
  for (let k = 1; k < Math.max(200, x + 200); k++) s += softplus(x - k + 0.5);
  return s;
}

function sigmaOf(layer: HostLayer, i: number): number {
  return layer.logSigma ? Math.exp(layer.logSigma[i]!) : 1;
}

/** E_l(x): the layer's own energy terms. */
export function layerEnergy(layer: HostLayer, x: readonly number[]): number {
  let e = 0;
  if (layer.spec.type === 'gaussian') {
    for (let i = 0; i < x.length; i++) e += (x[i]! - layer.bias[i]!) ** 2 / (2 * sigmaOf(layer, i) ** 2);
  } else {
    for (let i = 0; i < x.length; i++) e -= layer.bias[i]! * x[i]!;
  }
  return e;
}

/** What the layer couples through W: x / sigma for Gaussians, x otherwise. */
export function interaction(layer: HostLayer, x: readonly number[]): number[] {
  return layer.spec.type === 'gaussian' ? x.map((xi, i) => xi / sigmaOf(layer, i)) : [...x];
}

/** Every state of a discrete layer (Bernoulli: binary vectors; multinomial: each ordered sequence of draws as counts). */
export function discreteStates(layer: HostLayer): number[][] {
  const { type, size } = layer.spec;
  if (type === 'bernoulli') return Array.from({ length: 2 ** size }, (_, s) => Array.from({ length: size }, (_, j) => Math.floor(s / 2 ** j) % 2));
  if (type === 'multinomial') {
    const k = layer.spec.groupSize ?? size;
    const n = layer.spec.samples ?? 1;
    const draws = (size / k) * n; // one category per draw, groups in order
    const out: number[][] = [];
    for (let s = 0; s < k ** draws; s++) {
      const x = new Array<number>(size).fill(0);
      let rest = s;
      for (let d = 0; d < draws; d++) {
        const group = Math.floor(d / n);
        x[group * k + (rest % k)]! += 1;
        rest = Math.floor(rest / k);
      }
      out.push(x);
    }
    return out;
  }
  throw new Error(`${type} units have no finite state list`);
}

/** How a Gaussian layer is summed out: Simpson quadrature per unit, or the closed form. */
export type GaussianIntegral = 'quadrature' | 'analytic';

/**
 * log sum_x exp(-E_l(x) + interaction(x) . field): by enumeration for discrete layers, by
 * 1-D quadrature per unit for Gaussians (the energy factorises over units), and for ReLU the
 * stepped-sigmoid log-partition (by quadrature) of bias + field, per unit.
 */
export function logPartitionOf(layer: HostLayer, field: readonly number[], gaussian: GaussianIntegral = 'quadrature'): number {
  const { type, size } = layer.spec;
  if (type === 'gaussian' && gaussian === 'analytic') {
    // integral exp(-(x - b)^2 / 2s^2 + x f / s) dx = s sqrt(2 pi) exp(b f / s + f^2 / 2)
    let total = 0;
    for (let i = 0; i < size; i++) {
      const s = sigmaOf(layer, i);
      total += (layer.bias[i]! * field[i]!) / s + field[i]! ** 2 / 2 + Math.log(s * Math.sqrt(2 * Math.PI));
    }
    return total;
  }
  if (type === 'gaussian') {
    let total = 0;
    for (let i = 0; i < size; i++) {
      const s = sigmaOf(layer, i);
      const b = layer.bias[i]!;
      const exponent = (x: number) => -((x - b) ** 2) / (2 * s * s) + (x / s) * field[i]!;
      const mode = b + s * field[i]!;
      const peak = exponent(mode);
      total += peak + Math.log(simpson((x) => Math.exp(exponent(x) - peak), mode - 14 * s, mode + 14 * s, 4000));
    }
    return total;
  }
  if (type === 'relu') {
    let total = 0;
    for (let i = 0; i < size; i++) total += steppedSigmoidLogPartition(layer.bias[i]! + field[i]!);
    return total;
  }
  return logSumExp(discreteStates(layer).map((x) => -layerEnergy(layer, x) + dot(interaction(layer, x), field)));
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Field the visible layer sends to the hidden one: interaction(v) W. */
export function fieldToHidden(p: HostPairRBM, v: readonly number[]): number[] {
  const iv = interaction(p.visible, v);
  return p.hidden.bias.map((_, j) => iv.reduce((s, x, i) => s + x * p.W[i]![j]!, 0));
}

/** Field the hidden layer sends to the visible one: W interaction(h). */
export function fieldToVisible(p: HostPairRBM, h: readonly number[]): number[] {
  const ih = interaction(p.hidden, h);
  return p.W.map((row) => dot(row, ih));
}

/** E(v, h) = E_v(v) + E_h(h) - interaction(v) W interaction(h). */
export function pairEnergy(p: HostPairRBM, v: readonly number[], h: readonly number[]): number {
  return layerEnergy(p.visible, v) + layerEnergy(p.hidden, h) - dot(fieldToHidden(p, v), interaction(p.hidden, h));
}

/** F(v) = -log sum_h exp(-E(v, h)). */
export function pairFreeEnergy(p: HostPairRBM, v: readonly number[], gaussian: GaussianIntegral = 'quadrature'): number {
  return layerEnergy(p.visible, v) - logPartitionOf(p.hidden, fieldToHidden(p, v), gaussian);
}

/** log Z: enumerate the discrete side, sum or integrate the other. */
export function pairLogZ(p: HostPairRBM, gaussian: GaussianIntegral = 'quadrature'): number {
  const discrete = (l: HostLayer) => l.spec.type === 'bernoulli' || l.spec.type === 'multinomial';
  if (discrete(p.hidden)) return logSumExp(discreteStates(p.hidden).map((h) => -layerEnergy(p.hidden, h) + logPartitionOf(p.visible, fieldToVisible(p, h), gaussian)));
  return logSumExp(discreteStates(p.visible).map((v) => -pairFreeEnergy(p, v, gaussian)));
}

/** Mean exact log-likelihood of `data` (rows of visible states): -F(v) - log Z. */
export function pairLogLikelihood(p: HostPairRBM, data: readonly (readonly number[])[], gaussian: GaussianIntegral = 'analytic'): number {
  const logZ = pairLogZ(p, gaussian);
  return data.reduce((s, v) => s - pairFreeEnergy(p, v, gaussian) - logZ, 0) / data.length;
}

/** Every parameter of a pair as [qualified name, the array holding it] (the model's parameter order). */
export function pairParameterArrays(p: HostPairRBM): [string, number[]][] {
  const out: [string, number[]][] = [];
  for (const [name, layer] of [['visible', p.visible], ['hidden', p.hidden]] as const) {
    out.push([`${name}.bias`, layer.bias]);
    if (layer.logSigma) out.push([`${name}.logSigma`, layer.logSigma]);
  }
  p.W.forEach((row, i) => out.push([`visible-hidden.weights#${i}`, row]));
  return out;
}

/**
 * The gradient of the mean log-likelihood (ascent direction) by central differences of the
 * brute-force `pairLogLikelihood`, by qualified parameter name (weights row-major).
 */
export function pairLogLikelihoodGradient(p: HostPairRBM, data: readonly (readonly number[])[], eps = 1e-5): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [key, values] of pairParameterArrays(p)) {
    const name = key.split('#')[0]!;
    out[name] ??= [];
    for (let i = 0; i < values.length; i++) {
      const keep = values[i]!;
      values[i] = keep + eps;
      const up = pairLogLikelihood(p, data);
      values[i] = keep - eps;
      const down = pairLogLikelihood(p, data);
      values[i] = keep;
      out[name]!.push((up - down) / (2 * eps));
    }
  }
  return out;
}

/** Random parameters for a pair, uniform in [-scale, scale] (log sigma in [-0.4, 0.4]). */
export function randomPair(visible: UnitSpecLike, hidden: UnitSpecLike, seed: number, scale = 1): HostPairRBM {
  const rng = new CounterRng(seed, 77);
  const u = (n: number, s = scale) => Array.from(rng.uniforms(new Float64Array(n)), (x) => (2 * x - 1) * s);
  const layer = (spec: UnitSpecLike): HostLayer => ({ spec, bias: u(spec.size), ...(spec.variance === 'learned' ? { logSigma: u(spec.size, 0.4) } : {}) });
  const v = layer(visible);
  const h = layer(hidden);
  return { visible: v, hidden: h, W: Array.from({ length: visible.size }, () => u(hidden.size)) };
}

/** Host parameters as the model's qualified parameter matrices (float64). */
export function pairParams(p: HostPairRBM): Record<string, Matrix> {
  const row = (xs: number[]) => new Matrix(1, xs.length, Float64Array.from(xs));
  const out: Record<string, Matrix> = {
    'visible.bias': row(p.visible.bias),
    'hidden.bias': row(p.hidden.bias),
    'visible-hidden.weights': new Matrix(p.W.length, p.W[0]!.length, Float64Array.from(p.W.flat())),
  };
  if (p.visible.logSigma) out['visible.logSigma'] = row(p.visible.logSigma);
  if (p.hidden.logSigma) out['hidden.logSigma'] = row(p.hidden.logSigma);
  return out;
}

/** `count` valid random states of a layer (Bernoulli 0/1, Gaussian normals, one-hot or count groups, ReLU >= 0). */
export function randomStates(spec: UnitSpecLike, count: number, seed: number): number[][] {
  const rng = new CounterRng(seed, 78);
  const rows: number[][] = [];
  for (let r = 0; r < count; r++) {
    const u = Array.from(rng.uniforms(new Float64Array(spec.size * 4)));
    if (spec.type === 'bernoulli') rows.push(u.slice(0, spec.size).map((x) => (x < 0.5 ? 1 : 0)));
    else if (spec.type === 'gaussian') rows.push(Array.from(rng.normals(new Float64Array(spec.size), 0, 1.5)));
    else if (spec.type === 'relu') rows.push(u.slice(0, spec.size).map((x) => (x < 0.3 ? 0 : 3 * x)));
    else {
      const k = spec.groupSize ?? spec.size;
      const n = spec.samples ?? 1;
      const x = new Array<number>(spec.size).fill(0);
      for (let g = 0; g < spec.size / k; g++) for (let d = 0; d < n; d++) x[g * k + Math.floor(u[g * n + d]! * k)]! += 1;
      rows.push(x);
    }
  }
  return rows;
}
