import { CpuBackend } from '@boltzmann/backend-cpu';
import { RecommenderRBM, compareWithItemMeans, holdOutRatings, type Ratings } from '@boltzmann/core';
import { plantedTastes, readRatings } from '@boltzmann/data';
import { CounterRng } from '@boltzmann/tensor';

/** Options of one run; the defaults are those of `main.ts` on synthetic data. */
export interface RecommenderOptions {
  /** A MovieLens-style ratings file (user item rating [timestamp]; tab, '::', ',' or spaces); default: planted synthetic tastes. */
  file?: string;
  /** Rating levels of the file; default 1..5 (ml-latest: 0.5..5 in halves). */
  levels?: number[];
  /** Synthetic data: users, items, taste groups and the probability that a user rated an item. */
  users?: number;
  items?: number;
  tastes?: number;
  density?: number;
  hidden?: number;
  epochs?: number;
  learningRate?: number;
  /** Fraction of each user's ratings held out for the RMSE; default 0.2. */
  heldOut?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** RMSE of the RBM and of the item-mean baseline on the held-out ratings. */
export interface RecommenderResult {
  rbm: number;
  itemMean: number;
  ratings: number;
  heldOut: number;
  users: number;
  items: number;
}

/** Trains a recommender RBM on the known ratings and scores both predictors on the held-out ones. */
export async function runRecommender(options: RecommenderOptions = {}): Promise<RecommenderResult> {
  const log = options.log ?? console.log;
  const seed = options.seed ?? 1;
  let data: Ratings & { userCount: number; itemCount: number; levels: number[] };
  if (options.file !== undefined) {
    data = readRatings(options.file, { levels: options.levels }); // FormatError with the line number on bad lines
    log(`${options.file}: ${data.ratings.length} ratings by ${data.userCount} users of ${data.itemCount} items, levels ${data.levels.join(', ')}`);
  } else {
    data = plantedTastes({
      users: options.users ?? 1000,
      items: options.items ?? 100,
      tastes: options.tastes ?? 6,
      density: options.density ?? 0.25,
      levels: options.levels,
      rng: new CounterRng(seed),
    });
    log(`planted tastes: ${data.ratings.length} ratings by ${data.userCount} users of ${data.itemCount} items (80% of ratings on the planted level, the rest one off)`);
  }
  const { train, test } = holdOutRatings(data, { fraction: options.heldOut ?? 0.2, seed });
  const backend = new CpuBackend({ precision: 'float32' });
  const rbm = RecommenderRBM.create(backend, { items: data.itemCount, levels: data.levels, hidden: options.hidden ?? 50, seed });
  await rbm.fit(train, {
    epochs: options.epochs ?? 30,
    learningRate: options.learningRate ?? 0.05,
    seed,
    validation: test,
    onEpoch: (r) => log(`epoch ${r.epoch}: held-out RMSE ${r.validationRmse!.toFixed(4)} (${r.seconds.toFixed(1)} s)`),
  });
  const result = await compareWithItemMeans(rbm, train, test);
  log(`held-out RMSE: RBM ${result.rbm.toFixed(4)}, item-mean baseline ${result.itemMean.toFixed(4)} (${test.ratings.length} ratings)`);
  rbm.dispose();
  return { ...result, ratings: data.ratings.length, heldOut: test.ratings.length, users: data.userCount, items: data.itemCount };
}
