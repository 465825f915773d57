import { type CounterRng, InvalidValueError, Matrix, type Precision, assertDimension } from '@boltzmann/tensor';

/** Options of {@link gaussianMixture}. */
export interface GaussianMixtureOptions {
  /** Number of mixture components. */
  components: number;
  /** Dimension of each point. */
  dim: number;
  /** Number of points. */
  count: number;
  rng: CounterRng;
  /** Standard deviation of the component means around the origin. Default 3. */
  separation?: number;
  /** Standard deviation of each coordinate within a component (isotropic). Default 1. */
  std?: number;
  /** Mixture weights (non-negative, normalised here). Default: equal. */
  weights?: ArrayLike<number>;
  /** Element precision of `data` and `means`. Default 'float32'. */
  precision?: Precision;
}

/** A sample from a planted Gaussian mixture, with the truth that generated it. */
export interface GaussianMixtureSample {
  /** One point a row (count x dim). */
  data: Matrix;
  /** The component each point came from. */
  labels: Uint32Array;
  /** The true component means (components x dim). */
  means: Matrix;
  /** The within-component standard deviation. */
  std: number;
  /** The normalised mixture weights. */
  weights: Float64Array;
}

/**
 * Draws points from a mixture of isotropic Gaussians with planted means: the means are drawn
 * from N(0, separation^2 I), each point picks a component by the weights and adds N(0, std^2 I).
 * The random ops are, in order: means, component choices, noise (one op each).
 */
export function gaussianMixture(options: GaussianMixtureOptions): GaussianMixtureSample {
  const { components, dim, count, rng } = options;
  assertDimension('gaussianMixture components', components);
  assertDimension('gaussianMixture dim', dim);
  assertDimension('gaussianMixture count', count);
  const separation = options.separation ?? 3;
  const std = options.std ?? 1;
  if (!(Number.isFinite(separation) && separation >= 0)) throw new InvalidValueError(`gaussianMixture: separation must be finite and >= 0, got ${separation}`);
  if (!(Number.isFinite(std) && std >= 0)) throw new InvalidValueError(`gaussianMixture: std must be finite and >= 0, got ${std}`);
  const weights = normaliseWeights(options.weights, components, 'gaussianMixture');
  const precision = options.precision ?? 'float32';

  const meanValues = rng.normals(new Float64Array(components * dim), 0, separation);
  const means = Matrix.zeros(components, dim, precision);
  means.data.set(meanValues);

  const labels = chooseCategories(rng.uniforms(new Float64Array(count)), weights);
  const noise = rng.normals(new Float64Array(count * dim), 0, std);
  const data = Matrix.zeros(count, dim, precision);
  for (let i = 0; i < count; i++) {
    const k = labels[i]!;
    for (let j = 0; j < dim; j++) data.data[i * dim + j] = meanValues[k * dim + j]! + noise[i * dim + j]!;
  }
  return { data, labels, means, std, weights };
}

/** Checks and normalises mixture weights; undefined means equal weights. */
export function normaliseWeights(weights: ArrayLike<number> | undefined, k: number, who: string): Float64Array {
  if (weights === undefined) return new Float64Array(k).fill(1 / k);
  if (weights.length !== k) throw new InvalidValueError(`${who}: ${k} components need ${k} weights, got ${weights.length}`);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const w = weights[i]!;
    if (!(Number.isFinite(w) && w >= 0)) throw new InvalidValueError(`${who}: weight ${i} must be finite and >= 0, got ${w}`);
    sum += w;
  }
  if (!(sum > 0)) throw new InvalidValueError(`${who}: the weights sum to 0`);
  return Float64Array.from({ length: k }, (_, i) => weights[i]! / sum);
}

/** Inverse-CDF draws: a category for each uniform, by the given probabilities (which sum to 1). */
export function chooseCategories(uniforms: ArrayLike<number>, probabilities: ArrayLike<number>): Uint32Array {
  return Uint32Array.from({ length: uniforms.length }, (_, i) => chooseCategory(uniforms[i]!, probabilities));
}

/** Inverse-CDF draw: the category a uniform in [0, 1) falls in, by probabilities that sum to 1. */
export function chooseCategory(u: number, probabilities: ArrayLike<number>): number {
  const last = probabilities.length - 1;
  let k = 0;
  // The last category takes whatever rounding leaves, so a draw never falls off the end.
  while (k < last && u >= probabilities[k]!) u -= probabilities[k++]!;
  // Rounding can carry u past the last category with weight; never return one of weight 0.
  while (k > 0 && probabilities[k] === 0) k--;
  return k;
}
