import { type CounterRng, InvalidValueError, assertDimension } from '@boltzmann/tensor';
import type { RatingsTable } from '../ratings.js';

/** Options of {@link plantedTastes}. */
export interface PlantedTastesOptions {
  users: number;
  items: number;
  /** Number of taste groups; every user belongs to one. */
  tastes: number;
  /** Probability that a user rated a given item; in (0, 1]. */
  density: number;
  /** The rating values, ascending; default [1, 2, 3, 4, 5]. */
  levels?: readonly number[];
  /** Probability that a rating is the group's planted one; otherwise a neighbouring level. Default 0.8. */
  fidelity?: number;
  rng: CounterRng;
}

/** Planted ratings with the structure that generated them. */
export interface PlantedTastesSample extends RatingsTable {
  /** The taste group of each user. */
  taste: Uint32Array;
  /** The planted level index of taste t for item i, at t * items + i. */
  planted: Uint32Array;
}

/**
 * Synthetic ratings with planted tastes, for recommender tests: each taste group gives every
 * item a planted level (uniform over the levels, so items' mean ratings carry little of it), each
 * user belongs to one group, rates each item with probability `density`, and gives the planted
 * level with probability `fidelity`, else a neighbouring level (one step up or down, at random,
 * the only neighbour at an end). A model that finds the groups predicts far better than each
 * item's mean rating. Random ops, in order: planted levels, groups, which items, noise.
 */
export function plantedTastes(options: PlantedTastesOptions): PlantedTastesSample {
  const { users, items, tastes, density, rng } = options;
  assertDimension('users', users);
  assertDimension('items', items);
  assertDimension('tastes', tastes);
  if (!(density > 0 && density <= 1)) throw new InvalidValueError(`density must be in (0, 1], got ${density}`);
  const fidelity = options.fidelity ?? 0.8;
  if (!(fidelity >= 0 && fidelity <= 1)) throw new InvalidValueError(`fidelity must be in [0, 1], got ${fidelity}`);
  const levels = [...(options.levels ?? [1, 2, 3, 4, 5])];
  if (levels.length < 2) throw new InvalidValueError('planted tastes need at least two rating levels');
  for (let j = 1; j < levels.length; j++) if (!(levels[j]! > levels[j - 1]!)) throw new InvalidValueError(`rating levels must be ascending and distinct, got ${levels.join(', ')}`);
  const k = levels.length;
  const planted = Uint32Array.from(rng.uniforms(new Float64Array(tastes * items)), (u) => Math.min(k - 1, Math.floor(u * k)));
  const taste = Uint32Array.from(rng.uniforms(new Float64Array(users)), (u) => Math.min(tastes - 1, Math.floor(u * tastes)));
  const rated = rng.uniforms(new Float64Array(users * items));
  const noise = rng.uniforms(new Float64Array(2 * users * items));
  const us: number[] = [];
  const is: number[] = [];
  const rs: number[] = [];
  for (let u = 0; u < users; u++) {
    for (let i = 0; i < items; i++) {
      if (rated[u * items + i]! >= density) continue;
      let level = planted[taste[u]! * items + i]!;
      if (noise[2 * (u * items + i)]! >= fidelity) {
        const up = noise[2 * (u * items + i) + 1]! < 0.5;
        level = level === 0 ? 1 : level === k - 1 ? k - 2 : level + (up ? 1 : -1);
      }
      us.push(u);
      is.push(i);
      rs.push(levels[level]!);
    }
  }
  return {
    users: Uint32Array.from(us),
    items: Uint32Array.from(is),
    ratings: Float64Array.from(rs),
    userIds: Array.from({ length: users }, (_, u) => String(u)),
    itemIds: Array.from({ length: items }, (_, i) => String(i)),
    userCount: users,
    itemCount: items,
    levels,
    taste,
    planted,
  };
}
