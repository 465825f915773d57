import type { EstimatorSpec } from '../estimators/estimator.js';
import type { TrainerOptions } from '../training/trainer.js';
import { checkInteger, checkNumber } from '../validation.js';

/**
 * Options shared by the convenience `fit` of models that prepare their own training rows
 * (`ConditionalRBM`, `RecommenderRBM`): the settings of the Trainer that `fit` builds (CD-k,
 * momentum SGD, shuffled minibatches), which then trains through the one training loop. Each
 * model documents its own defaults of `weightDecay` and `batchSize`.
 */
export interface ModelFitOptions {
  epochs: number;
  /** Default 0.05. */
  learningRate?: number;
  /** Default 0.9 (0.5 in the first epoch). */
  momentum?: number;
  /** L2 decay of the weights. */
  weightDecay?: number;
  /** Examples per step. */
  batchSize?: number;
  /** Gibbs steps of CD-k; default 1. */
  k?: number;
  /** Seed of the example order and the Gibbs sampling; default 0. */
  seed?: number;
}

/** {@link ModelFitOptions} checked, every default filled in. */
export type ModelFitSettings = Readonly<Required<ModelFitOptions>>;

/** Checks `options` field by field (in the order above), with the model's own defaults of the weight decay and the batch size. */
export function checkModelFitOptions(options: ModelFitOptions, defaults: { weightDecay: number; batchSize: number }): ModelFitSettings {
  return {
    epochs: checkInteger('epochs', options.epochs, 0),
    learningRate: checkNumber('learningRate', options.learningRate ?? 0.05, 0),
    momentum: checkNumber('momentum', options.momentum ?? 0.9, 0, 1),
    weightDecay: checkNumber('weightDecay', options.weightDecay ?? defaults.weightDecay, 0),
    batchSize: checkInteger('batchSize', options.batchSize ?? defaults.batchSize),
    k: checkInteger('k', options.k ?? 1),
    seed: checkInteger('seed', options.seed ?? 0, 0, 0xffffffff),
  };
}

/**
 * The core Trainer's options for these settings: SGD with momentum (at most 0.5 in the first
 * epoch, then `momentum`), L2 decay of the weights, `batchSize` rows per step, CD-k (or the
 * estimator given), seeded Gibbs and shuffle streams; the visible bias left to the model.
 */
export function modelTrainerOptions(settings: ModelFitSettings, estimator: EstimatorSpec = { type: 'cd', k: settings.k }): TrainerOptions {
  return {
    learningRate: settings.learningRate,
    momentum: { type: 'linear', from: Math.min(settings.momentum, 0.5), to: settings.momentum, start: 0, end: 1, unit: 'epoch' },
    weightDecay: settings.weightDecay,
    batchSize: settings.batchSize,
    estimator,
    seed: settings.seed,
    initVisibleBiasFromData: false,
  };
}
