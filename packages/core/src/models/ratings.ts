import { CounterRng, InvalidValueError, ShapeError } from '@boltzmann/tensor';
import { checkInteger, checkNumber } from '../validation.js';

/**
 * Ratings in coordinate form: rating r is `ratings[r]`, given by user `users[r]` (0-based) to
 * item `items[r]` (0-based). @boltzmann/data's `readRatings` and `plantedTastes` return this
 * shape.
 */
export interface Ratings {
  users: ArrayLike<number>;
  items: ArrayLike<number>;
  ratings: ArrayLike<number>;
}

/** Ratings grouped per user (compressed rows): user u's ratings are entries start[u]..start[u+1]-1. */
export interface RatingsByUser {
  userCount: number;
  itemCount: number;
  /** userCount + 1 offsets. */
  start: Uint32Array;
  items: Uint32Array;
  /** Index of each rating in the ascending `levels`. */
  levels: Uint16Array;
}

/**
 * Validates ratings and groups them per user: equal lengths, integer user and item indices
 * (below `userCount` / `itemCount` when given), every rating one of `levels`, no user rating
 * the same item twice. Each problem is an InvalidValueError naming the entry.
 */
export function groupRatingsByUser(ratings: Ratings, levels: readonly number[], counts: { userCount?: number; itemCount?: number } = {}): RatingsByUser {
  const n = ratings.ratings.length;
  if (ratings.users.length !== n || ratings.items.length !== n) {
    throw new ShapeError(`ratings need as many users and items as ratings, got ${ratings.users.length} users, ${ratings.items.length} items, ${n} ratings`);
  }
  const levelIndex = new Map(levels.map((l, k) => [l, k]));
  let maxUser = -1;
  let maxItem = -1;
  for (let r = 0; r < n; r++) {
    const u = ratings.users[r]!;
    const i = ratings.items[r]!;
    if (!Number.isInteger(u) || u < 0) throw new InvalidValueError(`rating ${r}: user ${u} is not a 0-based index`);
    if (!Number.isInteger(i) || i < 0) throw new InvalidValueError(`rating ${r}: item ${i} is not a 0-based index`);
    if (!levelIndex.has(ratings.ratings[r]!)) {
      throw new InvalidValueError(`rating ${r} (user ${u}, item ${i}) is ${ratings.ratings[r]}, not one of the levels ${levels.join(', ')}`);
    }
    maxUser = Math.max(maxUser, u);
    maxItem = Math.max(maxItem, i);
  }
  const userCount = counts.userCount ?? maxUser + 1;
  const itemCount = counts.itemCount ?? maxItem + 1;
  if (maxUser >= userCount) throw new InvalidValueError(`user ${maxUser} is outside the ${userCount} users`);
  if (maxItem >= itemCount) throw new InvalidValueError(`item ${maxItem} is outside the ${itemCount} items of the model`);
  const start = new Uint32Array(userCount + 1);
  for (let r = 0; r < n; r++) start[ratings.users[r]! + 1]! += 1;
  for (let u = 0; u < userCount; u++) start[u + 1]! += start[u]!;
  const fill = start.slice(0, userCount);
  const items = new Uint32Array(n);
  const lv = new Uint16Array(n);
  for (let r = 0; r < n; r++) {
    const at = fill[ratings.users[r]!]!++;
    items[at] = ratings.items[r]!;
    lv[at] = levelIndex.get(ratings.ratings[r]!)!;
  }
  const seen = new Int32Array(itemCount).fill(-1);
  for (let u = 0; u < userCount; u++) {
    for (let e = start[u]!; e < start[u + 1]!; e++) {
      if (seen[items[e]!] === u) throw new InvalidValueError(`user ${u} rates item ${items[e]} twice`);
      seen[items[e]!] = u;
    }
  }
  return { userCount, itemCount, start, items, levels: lv };
}

/** Options of {@link holdOutRatings}. */
export interface HoldOutOptions {
  /** Fraction of each user's ratings held out, rounded down; users keep at least one rating. Default 0.2. */
  fraction?: number;
  seed?: number;
}

/**
 * Splits ratings per user into known (train) and held-out (test) ones: each user's ratings are
 * shuffled (seeded) and floor(fraction * count) of them held out, never all of them, so every
 * held-out rating has a user with known ratings to predict it from.
 */
export function holdOutRatings(ratings: Ratings, options: HoldOutOptions = {}): { train: Ratings; test: Ratings } {
  const fraction = checkNumber('fraction', options.fraction ?? 0.2, 0, 1);
  const rng = new CounterRng(checkInteger('seed', options.seed ?? 0, 0, 0xffffffff));
  const byUser = new Map<number, number[]>();
  for (let r = 0; r < ratings.ratings.length; r++) {
    const u = ratings.users[r]!;
    let list = byUser.get(u);
    if (list === undefined) byUser.set(u, (list = []));
    list.push(r);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (const list of byUser.values()) {
    const order = rng.permutation(list.length);
    const held = Math.min(list.length - 1, Math.floor(fraction * list.length));
    order.forEach((k, j) => (j < held ? test : train).push(list[k]!));
  }
  const pick = (rows: number[]): Ratings => ({
    users: Uint32Array.from(rows, (r) => ratings.users[r]!),
    items: Uint32Array.from(rows, (r) => ratings.items[r]!),
    ratings: Float64Array.from(rows, (r) => ratings.ratings[r]!),
  });
  return { train: pick(train.sort((a, b) => a - b)), test: pick(test.sort((a, b) => a - b)) };
}
