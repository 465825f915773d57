import { InvalidValueError, ShapeError } from '@boltzmann/tensor';
import type { Ratings } from '../models/ratings.js';

/** Root mean squared error between predicted and actual ratings. */
export function ratingRmse(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  if (predicted.length !== actual.length) throw new ShapeError(`RMSE needs as many predictions as ratings, got ${predicted.length} and ${actual.length}`);
  if (actual.length === 0) throw new InvalidValueError('RMSE of no ratings');
  let s = 0;
  for (let r = 0; r < actual.length; r++) {
    const d = predicted[r]! - actual[r]!;
    if (!Number.isFinite(d)) throw new InvalidValueError(`prediction ${r} is ${predicted[r]}`);
    s += d * d;
  }
  return Math.sqrt(s / actual.length);
}

/**
 * The item-mean baseline: predicts each queried (user, item) by the mean of the item's known
 * ratings, or by the mean of all known ratings for an item nobody rated. A recommender has to
 * beat it to have learned anything about users.
 */
export function itemMeanPredictions(known: Ratings, queries: Pick<Ratings, 'items'>): Float64Array {
  const sum = new Map<number, number>();
  const count = new Map<number, number>();
  let total = 0;
  for (let r = 0; r < known.ratings.length; r++) {
    const i = known.items[r]!;
    sum.set(i, (sum.get(i) ?? 0) + known.ratings[r]!);
    count.set(i, (count.get(i) ?? 0) + 1);
    total += known.ratings[r]!;
  }
  if (known.ratings.length === 0) throw new InvalidValueError('the item-mean baseline needs known ratings');
  const global = total / known.ratings.length;
  return Float64Array.from({ length: queries.items.length }, (_, q) => {
    const i = queries.items[q]!;
    const c = count.get(i);
    return c === undefined ? global : sum.get(i)! / c;
  });
}
