import { type CounterRng, InvalidValueError, Matrix, assertDimension } from '@boltzmann/tensor';
import { chooseCategories, chooseCategory, normaliseWeights } from './gaussian-mixture.js';

/** Options of {@link plantedOneHot}. */
export interface PlantedOneHotOptions {
  /** Number of one-hot groups (softmax / multinomial units) per example. */
  groups: number;
  /** Number of categories in each group. */
  categories: number;
  /** Number of hidden prototypes (the planted clusters). */
  prototypes: number;
  /** Number of examples. */
  count: number;
  rng: CounterRng;
  /**
   * Probability of each prototype's favoured category in every group; the other categories
   * share the rest equally. In [1/categories, 1]. Default 0.8 (1 when categories = 1).
   */
  purity?: number;
  /** Prototype weights (non-negative, normalised here). Default: equal. */
  weights?: ArrayLike<number>;
}

/** A sample of planted one-hot data with the structure that generated it. */
export interface PlantedOneHotSample {
  /** count x (groups*categories) of 0/1: in every row each block of `categories` columns holds exactly one 1. */
  data: Matrix;
  /** The prototype each example came from. */
  labels: Uint32Array;
  /** The true category probabilities: prototypes x (groups*categories), each block sums to 1. */
  probabilities: Matrix;
  /** The favoured category of prototype p in group g, at p*groups + g. */
  favored: Uint32Array;
}

/**
 * Multinomial data with planted structure, for softmax units: each prototype favours one
 * category per group (chosen at random); an example picks a prototype and then, in each
 * group independently, a category from that prototype's distribution, written one-hot.
 * Random ops, in order: favoured categories, prototype choices, category choices.
 */
export function plantedOneHot(options: PlantedOneHotOptions): PlantedOneHotSample {
  const { groups, categories, prototypes, count, rng } = options;
  assertDimension('plantedOneHot groups', groups);
  assertDimension('plantedOneHot categories', categories);
  assertDimension('plantedOneHot prototypes', prototypes);
  assertDimension('plantedOneHot count', count);
  const purity = options.purity ?? (categories === 1 ? 1 : 0.8);
  if (!(purity >= 1 / categories && purity <= 1)) {
    throw new InvalidValueError(`plantedOneHot: purity must lie in [1/${categories}, 1], got ${purity}`);
  }
  const weights = normaliseWeights(options.weights, prototypes, 'plantedOneHot');
  const width = groups * categories;

  const favored = Uint32Array.from(rng.uniforms(new Float64Array(prototypes * groups)), (u) => Math.floor(u * categories));
  const other = categories === 1 ? 0 : (1 - purity) / (categories - 1);
  const probabilities = Matrix.zeros(prototypes, width, 'float64');
  for (let p = 0; p < prototypes; p++) {
    for (let g = 0; g < groups; g++) {
      for (let c = 0; c < categories; c++) {
        probabilities.data[p * width + g * categories + c] = c === favored[p * groups + g] ? purity : other;
      }
    }
  }

  const labels = chooseCategories(rng.uniforms(new Float64Array(count)), weights);
  const draws = rng.uniforms(new Float64Array(count * groups));
  const data = new Matrix(count, width);
  for (let i = 0; i < count; i++) {
    const p = labels[i]!;
    for (let g = 0; g < groups; g++) {
      const block = probabilities.data.subarray(p * width + g * categories, p * width + (g + 1) * categories);
      const c = chooseCategory(draws[i * groups + g]!, block);
      data.data[i * width + g * categories + c] = 1;
    }
  }
  return { data, labels, probabilities, favored };
}
