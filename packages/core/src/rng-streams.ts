/**
 * Stream ids of the counter-based RNG, one per consumer, so that e.g. adding a metric that
 * draws random numbers never changes the training trajectory of the same seed.
 */
export const RngStreams = {
  /** Weight initialisation. */
  init: 1,
  /** Gibbs sampling during training. */
  gibbs: 2,
  /** Minibatch order. */
  shuffle: 3,
  /** Randomness inside per-epoch monitoring (reconstruction samples). */
  monitor: 4,
  /** `model.sample()` when no seed is given. */
  sample: 5,
} as const;
