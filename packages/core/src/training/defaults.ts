import { LinearRamp } from '../schedules/linear-ramp.js';

/**
 * Defaults that learn on MNIST-like data (binary or [0, 1] images, a few hundred hidden units),
 * after Hinton's "practical guide" and the PyTorch CD-1 recipe of bench/reference_torch.py: CD-1 with the
 * visible probabilities in the chain, lr 0.05 on batch-mean gradients, batch 100, momentum
 * 0.5 in the first epoch then 0.9, L2 weight decay 1e-4 on the weights, weights N(0, 0.01),
 * visible bias = logit of the data means, hidden bias 0. An estimator may bring its own
 * momentum (`Estimator.defaultMomentum`): PCD's is 0, since with this ramp PCD-1 collapses the
 * hidden units on Fashion-MNIST (bench/README.md, "PCD's default").
 */
export const TRAINING_DEFAULTS = {
  learningRate: 0.05,
  batchSize: 100,
  momentum: { from: 0.5, to: 0.9, start: 0, end: 1 },
  weightDecay: 1e-4,
  k: 1,
  /** The slow blow-up rule: a reconstruction error this many times its first epoch's is a divergence. */
  divergenceFactor: 100,
  /** Rows of the training subset and of the held-out set scored at each epoch end. */
  monitorRows: 1000,
} as const;

/** The default momentum schedule: 0.5 in epoch 0, then 0.9 (bench/README.md: rbm-quality, why). */
export function defaultMomentum(): LinearRamp {
  return new LinearRamp({ ...TRAINING_DEFAULTS.momentum, unit: 'epoch' });
}
