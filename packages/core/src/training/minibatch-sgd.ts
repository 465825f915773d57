import { CounterRng, rngState, type RngState } from '@boltzmann/tensor';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';
import { SGD } from '../optimizers/sgd.js';
import { L2WeightDecay } from '../regularizers/l2.js';
import { RngStreams } from '../rng-streams.js';
import { checkInteger, checkNumber } from '../validation.js';
import { DivergenceGuard } from './divergence-guard.js';

/**
 * Options shared by the `fit` of models that train themselves by CD-k and momentum SGD over
 * shuffled minibatches (`ConditionalRBM`, `RecommenderRBM`); each model documents its own
 * defaults of `weightDecay` and `batchSize`.
 */
export interface MinibatchSGDOptions {
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

/** {@link MinibatchSGDOptions} checked, every default filled in. */
export type MinibatchSGDSettings = Readonly<Required<MinibatchSGDOptions>>;

/** Checks `options` field by field (in the order above), with the model's own defaults of the weight decay and the batch size. */
export function checkMinibatchSGDOptions(options: MinibatchSGDOptions, defaults: { weightDecay: number; batchSize: number }): MinibatchSGDSettings {
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
 * Trains `model` for `settings.epochs` epochs over `examples` examples, each epoch in a new
 * order (the seed's shuffle stream) cut into minibatches of `settings.batchSize`. Per
 * minibatch `computeGradients(indices, grads, rng)` fills the gradients of the examples
 * `indices` (`rng`: the seed's Gibbs stream), L2 decay of the weights is added and SGD steps
 * with the learning rate and the momentum (at most 0.5 in the first epoch). At an epoch's end a
 * parameter or velocity holding NaN or Inf is a DivergenceError naming the epoch, the last good
 * values put back; then `endEpoch(epoch, started)` runs (epoch counted from 1; `started`:
 * `performance.now()` when the epoch began), and training stops if it returns false.
 */
export async function trainByMinibatchSGD(
  model: EnergyModel,
  settings: MinibatchSGDSettings,
  examples: number,
  computeGradients: (indices: Uint32Array, grads: GradientSet, rng: RngState) => void,
  endEpoch: (epoch: number, started: number) => void | boolean | Promise<void | boolean>,
): Promise<void> {
  const be = model.backend;
  const decay = new L2WeightDecay(settings.weightDecay);
  const shuffle = new CounterRng(settings.seed, RngStreams.shuffle);
  const rng = rngState(settings.seed, RngStreams.gibbs);
  const optimizer = new SGD(be, model.parameters);
  const grads = model.createGradients();
  // The last finite parameters and velocities: an epoch that turns one NaN/Inf is undone and reported.
  const guard = new DivergenceGuard(model, optimizer.state());
  guard.snapshot();
  try {
    for (let e = 0; e < settings.epochs; e++) {
      const started = performance.now();
      const order = shuffle.permutation(examples);
      const momentum = e === 0 ? Math.min(settings.momentum, 0.5) : settings.momentum;
      for (let s = 0; s < examples; s += settings.batchSize) {
        computeGradients(order.subarray(s, Math.min(examples, s + settings.batchSize)), grads, rng);
        decay.addGradient({ model, grads });
        optimizer.step(model.parameters, grads.tensors, { learningRate: settings.learningRate, momentum });
      }
      await guard.check(`in epoch ${e + 1}`, ' (try a smaller learning rate)');
      guard.snapshot();
      if ((await endEpoch(e + 1, started)) === false) break;
    }
  } finally {
    guard.dispose();
    optimizer.dispose();
    for (const g of grads.tensors) be.dispose(g);
  }
}
