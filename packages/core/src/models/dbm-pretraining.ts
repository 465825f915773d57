import { InvalidValueError, type Backend, type Matrix } from '@boltzmann/tensor';
import { ScaledFieldCD } from '../estimators/scaled-field-cd.js';
import { Trainer, type EpochReport, type FitOptions, type TrainerOptions } from '../training/trainer.js';
import { checkInteger } from '../validation.js';
import { DBM } from './dbm.js';
import { mapRows } from './host-data.js';
import { RBM, type LayerOptions } from './rbm.js';
import { computeScaledInput } from './scaled-input.js';

/** Options of {@link pretrainDBM}. */
export interface DBMPretrainingOptions {
  /** The DBM's layers from the visible one up (at least two): sizes or `{ type, size, ...options }`. */
  layers: readonly LayerOptions[];
  /** Epochs of each RBM: one number for all, or one per RBM. */
  epochs: number | readonly number[];
  /**
   * Trainer options of each RBM (one object for all, or one per RBM): learning rate, momentum,
   * batch size, weight decay, regularizers (max-norm, sparsity...), seed... The estimator is
   * always scaled-field CD (see `k`).
   */
  trainer?: Omit<TrainerOptions, 'estimator'> | readonly Omit<TrainerOptions, 'estimator'>[];
  /** Gibbs steps of each RBM's CD; default 1. */
  k?: number;
  /** Seed of the weight initialisation (RBM i uses seed + i); default 0. */
  seed?: number;
  /** Standard deviation of the initial weights; default 0.01. */
  weightStd?: number;
  /** What each RBM's `fit` monitors (see `FitOptions.monitor`). */
  monitor?: FitOptions['monitor'];
  /** Called after each epoch of RBM `rbm` (0-based); return false to end that RBM's training. */
  onEpoch?: (rbm: number, report: EpochReport) => void | boolean | Promise<void | boolean>;
}

/** What greedy pretraining gives back. */
export interface PretrainedDBM {
  /** The composed DBM (see `DBM.fromRBMs`). */
  dbm: DBM;
  /** The trained RBMs, bottom first (the caller may dispose them). */
  rbms: RBM[];
}

/**
 * Greedy layer-wise pretraining of a DBM (Salakhutdinov & Hinton 2009): one RBM per pair of
 * consecutive layers, each trained on the hidden means the one below gives its data. With two
 * or more hidden layers the first RBM is trained with doubled input (its hidden layer sees the
 * visible field twice: p(h1 | v) = f(2 v W + c)) and that doubled conditional makes the next
 * RBM's data; the last RBM with doubled hidden units (p(h_{L-1} | h_L) uses 2 W h); the middle
 * RBMs plainly, their weights halved when the RBMs are composed (`DBM.fromRBMs`).
 */
export async function pretrainDBM(backend: Backend, data: Matrix, options: DBMPretrainingOptions): Promise<PretrainedDBM> {
  const layers = options.layers;
  if (!Array.isArray(layers) || layers.length < 2) throw new InvalidValueError(`a DBM needs at least two layers (visible and one hidden), got ${Array.isArray(layers) ? layers.length : String(layers)}`);
  const count = layers.length - 1;
  const epochs = perRbm('epochs', options.epochs, count).map((e) => checkInteger('epochs', e, 0));
  const trainerOptions = perRbm('trainer', options.trainer ?? {}, count);
  const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff - count);
  const rbms: RBM[] = [];
  let input = data;
  try {
    for (let i = 0; i < count; i++) {
      const rbm = RBM.create(backend, { visible: layers[i]!, hidden: layers[i + 1]!, seed: seed + i, weightStd: options.weightStd });
      rbms.push(rbm);
      const upScale = count > 1 && i === 0 ? 2 : 1;
      const downScale = count > 1 && i === count - 1 ? 2 : 1;
      const trainer = new Trainer(rbm, { ...trainerOptions[i]!, estimator: new ScaledFieldCD(rbm, { k: options.k, upScale, downScale }) });
      try {
        await trainer.fit(input, {
          epochs: epochs[i]!,
          monitor: options.monitor,
          onEpoch: options.onEpoch ? (r) => options.onEpoch!(i, r) : undefined,
        });
      } finally {
        trainer.dispose();
      }
      if (i < count - 1) {
        // Hidden means of this RBM's (doubled) conditional: data for the next RBM's visible layer, the same unit type.
        input = await mapRows(rbm, input, rbm.hidden.size, (v, out) => {
          computeScaledInput(rbm, 1, [v, undefined], out, { scale: upScale });
          rbm.hidden.mean(out, out);
        });
      }
    }
    return { dbm: await DBM.fromRBMs(rbms, { seed }), rbms };
  } catch (error) {
    for (const r of rbms) r.dispose();
    throw error;
  }
}

/** One value for every RBM, or one per RBM (checked). */
function perRbm<T>(what: string, value: T | readonly T[], count: number): T[] {
  if (!Array.isArray(value)) return Array.from({ length: count }, () => value as T);
  if (value.length !== count) throw new InvalidValueError(`${what}: give one value for all ${count} RBMs or one per RBM, got ${value.length}`);
  return [...(value as readonly T[])];
}
