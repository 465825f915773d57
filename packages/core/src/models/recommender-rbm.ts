import { CounterRng, InvalidValueError, Matrix, ShapeError, type Backend, type Tensor } from '@boltzmann/tensor';
import type { Connection } from '../connections/connection.js';
import { DenseConnection } from '../connections/dense.js';
import { itemMeanPredictions, ratingRmse } from '../metrics/rating-error.js';
import { RngStreams } from '../rng-streams.js';
import { checkModelFitOptions, modelTrainerOptions, type ModelFitOptions } from './model-fit-options.js';
import type { TrainingRows } from '../training/training-loop.js';
import { Trainer } from '../training/trainer.js';
import { BernoulliLayer } from '../units/bernoulli.js';
import { MultinomialLayer } from '../units/multinomial.js';
import type { UnitLayer } from '../units/unit-layer.js';
import { checkInteger, checkNumber } from '../validation.js';
import { EnergyModel, type ModelOptions } from './energy-model.js';
import { groupRatingsByUser, type Ratings, type RatingsByUser } from './ratings.js';

/** Options of `RecommenderRBM.create`. */
export interface RecommenderRBMOptions {
  /** Number of items (movies). */
  items: number;
  /** The rating values, e.g. [1, 2, 3, 4, 5]; one softmax unit per level and item. */
  levels: readonly number[];
  /** Hidden (Bernoulli) units; default 100. */
  hidden?: number;
  /** Standard deviation of the N(0, std) initial weights; default 0.01. */
  weightStd?: number;
  /** Seed of the weight initialisation; default 0. */
  seed?: number;
}

/** Options of `RecommenderRBM.fit`. */
export interface RecommenderFitOptions extends ModelFitOptions {
  /** L2 weight decay on the weights; default 0.001. */
  weightDecay?: number;
  /** Users per step (the gradients are means over them); default 20. */
  batchSize?: number;
  /** Held-out ratings scored (RMSE) after every epoch, predicted from the training ratings. */
  validation?: Ratings;
  onEpoch?: (report: RecommenderEpoch) => void | boolean | Promise<void | boolean>;
}

/** What one epoch of `fit` did. */
export interface RecommenderEpoch {
  epoch: number;
  /** RMSE on `validation`, when given. */
  validationRmse?: number;
  seconds: number;
}

/**
 * The collaborative-filtering RBM of Salakhutdinov, Mnih & Hinton (2007). Every user is an RBM
 * over the items *that user rated*: one K-way softmax unit per rated item (K rating levels),
 * F binary hidden units, and weights W (items*K x F) and biases shared by all users. An item the
 * user did not rate is simply absent from the energy,
 *
 *   E(V, h) = -sum_(rated i) sum_k V_ik b_ik - c.h - sum_(rated i) sum_k V_ik W_ik . h,
 *
 * which in the full items*K layer means all-zero groups for missing items and a per-user mask
 * on the reconstruction (the model samples or averages only the rated items' softmaxes). Trained
 * by CD-k over minibatches of users; a missing rating is predicted as its expected value
 * sum_k level_k p(v_ik = 1 | p(h | V)), from the user's known ratings.
 *
 * As a model graph: layers "visible" (multinomial, groupSize K) and "hidden" (Bernoulli), one
 * dense connection. `saveModel` writes the rating levels as `model.levels` and `loadModel` sets
 * them back (checked: K finite numbers, strictly increasing); a file without the key loads on
 * levels 1..K.
 */
export class RecommenderRBM extends EnergyModel {
  override get kind(): string {
    return 'recommender-rbm';
  }

  /** The rating values, ascending. */
  levels: readonly number[];
  readonly itemCount: number;
  /** K. */
  readonly levelCount: number;

  constructor(backend: Backend, layers: readonly UnitLayer[], connections: readonly Connection[], options: ModelOptions & { levels?: readonly number[] } = {}) {
    super(backend, layers, connections, options);
    const [visible, hidden] = layers;
    const groupSize = (visible?.spec().groupSize as number | undefined) ?? 0;
    if (layers.length !== 2 || visible!.type !== MultinomialLayer.type || hidden!.type !== BernoulliLayer.type || connections.length !== 1 || groupSize < 2 || (visible!.spec().samples ?? 1) !== 1) {
      throw new InvalidValueError('a recommender RBM has a multinomial visible layer (one one-hot group per item), a bernoulli hidden layer and one dense connection');
    }
    this.levelCount = groupSize;
    this.itemCount = visible!.size / groupSize;
    this.levels = checkLevels(options.levels ?? Array.from({ length: groupSize }, (_, k) => k + 1), groupSize);
  }

  /** A new recommender with N(0, weightStd) weights and zero biases (set from the data at the first fit). */
  static create(backend: Backend, options: RecommenderRBMOptions): RecommenderRBM {
    const items = checkInteger('items', options.items);
    const k = options.levels?.length ?? 0;
    const levels = checkLevels(options.levels, k);
    const hiddenSize = checkInteger('hidden units', options.hidden ?? 100);
    const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff);
    const visible = new MultinomialLayer(backend, { type: MultinomialLayer.type, name: 'visible', size: items * k, groupSize: k });
    const hidden = new BernoulliLayer(backend, { name: 'hidden', size: hiddenSize });
    const init = { std: checkNumber('weightStd', options.weightStd ?? 0.01, 0), rng: new CounterRng(seed, RngStreams.init) };
    const connection = new DenseConnection(backend, 'visible-hidden', visible, hidden, init);
    return new RecommenderRBM(backend, [visible, hidden], [connection], { seed, levels });
  }

  /** Sets the rating values (K finite numbers, strictly increasing); a model file saves them. */
  withLevels(levels: readonly number[]): this {
    this.levels = checkLevels(levels, this.levelCount);
    return this;
  }

  get visible(): UnitLayer {
    return this.layers[0]!;
  }

  get hidden(): UnitLayer {
    return this.layers[1]!;
  }

  /**
   * The training rows of known ratings (users and items 0-based, items below `itemCount`,
   * ratings among `levels`): one row per user with at least one rating, the one-hot groups of
   * the items he rated, and a mask that is 1 on those groups and 0 on the groups of the items
   * he did not rate. A core `Trainer` given these rows (CD) trains the recommender's objective:
   * each user is an RBM over his rated items only (see `StepContext.visibleMask`).
   */
  trainingRows(ratings: Ratings): TrainingRows {
    return this.rowsOf(groupRatingsByUser(ratings, this.levels, { itemCount: this.itemCount }));
  }

  /**
   * The rows of a data set are users' one-hot ratings (items * K columns): a group of K zeros
   * is an item the user did not rate, masked out of training (see `trainingRows`).
   */
  override rowsForTraining(data: Matrix): TrainingRows {
    const k = this.levelCount;
    if (data.cols !== this.itemCount * k) throw new ShapeError(`the ratings rows have ${data.cols} columns; the recommender's ${this.itemCount} items of ${k} levels need ${this.itemCount * k}`);
    const mask = Matrix.zeros(data.rows, data.cols, this.backend.precision);
    for (let g = 0; g < data.data.length; g += k) {
      let rated = false;
      for (let j = 0; j < k; j++) if (data.data[g + j] !== 0) rated = true;
      if (rated) mask.data.fill(1, g, g + k);
    }
    return { visible: data, mask };
  }

  /**
   * Trains on the known ratings (see `trainingRows`) with a core `Trainer`: CD-k over shuffled
   * minibatches of users, each user's missing ratings masked out of both phases. Before the
   * first step, when the visible biases are still zero, sets b_ik = log((n_ik + 1) / (n_i + K))
   * from the counts of each level per item.
   * A parameter that turns NaN or Inf in an epoch stops it with a DivergenceError naming the
   * epoch and the parameter, the values of the last good epoch end put back.
   */
  async fit(ratings: Ratings, options: RecommenderFitOptions): Promise<RecommenderEpoch[]> {
    const data = groupRatingsByUser(ratings, this.levels, { itemCount: this.itemCount });
    const settings = checkModelFitOptions(options, { weightDecay: 0.001, batchSize: 20 });
    const validation = options.validation;
    if (validation) groupRatingsByUser(validation, this.levels, { itemCount: this.itemCount });
    if ((await this.backend.reduce('sumAbs', this.visible.parameters[0]!.tensor)) === 0) this.initializeBiases(data);
    const trainer = new Trainer(this, modelTrainerOptions(settings, { type: 'cd', k: settings.k, meanLayers: [] }));
    const reports: RecommenderEpoch[] = [];
    try {
      await trainer.fit(this.rowsOf(data), {
        epochs: settings.epochs,
        monitor: { freeEnergy: false, pseudoLikelihood: false },
        onEpoch: async (epochReport) => {
          const started = performance.now();
          const report: RecommenderEpoch = { epoch: epochReport.epoch, seconds: 0 };
          if (validation) report.validationRmse = ratingRmse(await this.predict(ratings, validation), validation.ratings);
          report.seconds = epochReport.seconds + (performance.now() - started) / 1000;
          reports.push(report);
          return options.onEpoch?.(report);
        },
      });
    } finally {
      trainer.dispose();
    }
    return reports;
  }

  /**
   * Expected ratings sum_k level_k p(v_ik = 1 | p(h | V_u)) for each queried (user, item), each
   * user's V_u being his `known` ratings (users without any get the biases' prediction).
   */
  async predict(known: Ratings, queries: Pick<Ratings, 'users' | 'items'>): Promise<Float64Array> {
    const userCount = Math.max(maxOf(known.users), maxOf(queries.users)) + 1;
    const data = groupRatingsByUser(known, this.levels, { itemCount: this.itemCount, userCount });
    if (queries.users.length !== queries.items.length) throw new ShapeError(`queries need as many users as items, got ${queries.users.length} and ${queries.items.length}`);
    const byUser = new Map<number, number[]>();
    for (let q = 0; q < queries.items.length; q++) {
      const u = queries.users[q]!;
      const i = queries.items[q]!;
      if (!Number.isInteger(u) || u < 0) throw new InvalidValueError(`query ${q}: user ${u} is not a 0-based index`);
      if (!Number.isInteger(i) || i < 0 || i >= this.itemCount) throw new InvalidValueError(`query ${q}: item ${i} is outside the ${this.itemCount} items`);
      let list = byUser.get(u);
      if (list === undefined) byUser.set(u, (list = []));
      list.push(q);
    }
    const out = new Float64Array(queries.items.length);
    const users = [...byUser.keys()];
    const chunk = 64;
    for (let s = 0; s < users.length; s += chunk) {
      const batch = users.slice(s, s + chunk);
      const probs = await this.ratingProbabilities(data, batch);
      const width = this.itemCount * this.levelCount;
      batch.forEach((u, r) => {
        for (const q of byUser.get(u)!) {
          const base = r * width + queries.items[q]! * this.levelCount;
          let x = 0;
          for (let k = 0; k < this.levelCount; k++) x += this.levels[k]! * probs.data[base + k]!;
          out[q] = x;
        }
      });
    }
    return out;
  }

  /** Expected rating of every item for one user given his known (item, rating) pairs. */
  async predictUser(items: ArrayLike<number>, ratings: ArrayLike<number>): Promise<Float64Array> {
    const known = { users: new Uint32Array(items.length), items, ratings };
    const all = Uint32Array.from({ length: this.itemCount }, (_, i) => i);
    return this.predict(known, { users: new Uint32Array(this.itemCount), items: all });
  }

  /** p(v_ik = 1 | p(h | V_u)) for the given users: users x items*K, host copy. */
  private async ratingProbabilities(data: RatingsByUser, users: readonly number[]): Promise<Matrix> {
    const rows = users.length;
    const v = this.writeBatch(data, users);
    const ws = this.workspace;
    const hMean = ws.get('recommender:predict-hidden', rows, this.hidden.size);
    this.computeInput(1, [v, undefined], hMean);
    this.hidden.mean(hMean, hMean);
    const vIn = ws.get('recommender:predict-visible', rows, this.visible.size);
    const probs = ws.get('recommender:predict-probabilities', rows, this.visible.size);
    this.computeInput(0, [undefined, hMean], vIn);
    this.visible.mean(vIn, probs);
    return this.backend.read(probs);
  }

  /** One row per user with ratings: his one-hot ratings and the mask of his rated items' groups. */
  private rowsOf(data: RatingsByUser): TrainingRows {
    const users: number[] = [];
    for (let u = 0; u < data.userCount; u++) if (data.start[u + 1]! > data.start[u]!) users.push(u);
    const width = this.itemCount * this.levelCount;
    const visible = Matrix.zeros(users.length, width, this.backend.precision);
    const mask = Matrix.zeros(users.length, width, this.backend.precision);
    users.forEach((u, r) => {
      for (let e = data.start[u]!; e < data.start[u + 1]!; e++) {
        const base = r * width + data.items[e]! * this.levelCount;
        visible.data[base + data.levels[e]!] = 1;
        mask.data.fill(1, base, base + this.levelCount);
      }
    });
    return { visible, mask };
  }

  /** Uploads the one-hot ratings of `users`. */
  private writeBatch(data: RatingsByUser, users: readonly number[]): Tensor {
    const rows = users.length;
    const width = this.itemCount * this.levelCount;
    const v = Matrix.zeros(rows, width, this.backend.precision);
    users.forEach((u, r) => {
      for (let e = data.start[u]!; e < data.start[u + 1]!; e++) v.data[r * width + data.items[e]! * this.levelCount + data.levels[e]!] = 1;
    });
    const vt = this.workspace.get('recommender:batch', rows, width);
    this.backend.write(vt, v);
    return vt;
  }

  /** b_ik = log((n_ik + 1) / (n_i + K)): each item's smoothed rating frequencies. */
  private initializeBiases(data: RatingsByUser): void {
    const kk = this.levelCount;
    const counts = new Float64Array(this.itemCount * kk);
    for (let e = 0; e < data.items.length; e++) counts[data.items[e]! * kk + data.levels[e]!]! += 1;
    const b = Matrix.zeros(1, this.itemCount * kk, this.backend.precision);
    for (let i = 0; i < this.itemCount; i++) {
      let n = 0;
      for (let k = 0; k < kk; k++) n += counts[i * kk + k]!;
      for (let k = 0; k < kk; k++) b.data[i * kk + k] = Math.log((counts[i * kk + k]! + 1) / (n + kk));
    }
    this.backend.write(this.visible.parameters[0]!.tensor, b);
  }
}

/** The item-mean baseline and the model's RMSE on held-out ratings, side by side. */
export async function compareWithItemMeans(model: RecommenderRBM, known: Ratings, heldOut: Ratings): Promise<{ rbm: number; itemMean: number }> {
  const rbm = ratingRmse(await model.predict(known, heldOut), heldOut.ratings);
  const itemMean = ratingRmse(itemMeanPredictions(known, heldOut), heldOut.ratings);
  return { rbm, itemMean };
}

/**
 * Throws unless `levels` is an array of K = `k` (>= 2) finite numbers, strictly increasing: one
 * rating value per softmax unit of an item. `what` names them in the message ('"model.levels"
 * in model file "x"'). Returns a copy.
 */
export function checkLevels(levels: unknown, k: number, what = 'the rating levels'): number[] {
  const show = (x: unknown) => (typeof x === 'number' ? String(x) : (JSON.stringify(x) ?? String(x)));
  if (!Array.isArray(levels)) throw new InvalidValueError(`${what} must be an array of numbers, got ${show(levels)}`);
  if (levels.length < 2) throw new InvalidValueError(`${what}: a recommender needs at least two rating levels, got ${show(levels)}`);
  if (levels.length !== k) throw new ShapeError(`${what} holds ${levels.length} levels, but the visible layer has groups of ${k} (groupSize): one level per softmax unit of an item`);
  for (let j = 0; j < levels.length; j++) {
    const x: unknown = levels[j];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new InvalidValueError(`${what}: level ${j} is ${show(x)}, not a finite number`);
    if (j > 0 && !(x > levels[j - 1])) {
      throw new InvalidValueError(`${what} must be strictly increasing: level ${j} (${x}) is not above level ${j - 1} (${levels[j - 1]}) (rating levels are ascending and distinct)`);
    }
  }
  return [...(levels as number[])];
}

function maxOf(xs: ArrayLike<number>): number {
  let m = -1;
  for (let j = 0; j < xs.length; j++) if (xs[j]! > m) m = xs[j]!;
  return m;
}
