import { FreeEnergyMetric, MeanActivationMetric, PseudoLikelihoodMetric, ReconstructionErrorMetric } from '@boltzmann/core';
import type { MetricBinding } from '../tokens.js';

/**
 * The metrics core provides, by the names used in `EpochReport` and metrics.json:
 * reconstructionError, freeEnergy, pseudoLogLikelihood, meanHiddenActivation (option
 * "layer": the hidden layer's name).
 */
export const builtinMetrics: readonly MetricBinding[] = [
  { name: 'reconstructionError', factory: (model, o) => new ReconstructionErrorMetric(model, { seed: o.seed }) },
  { name: 'freeEnergy', factory: (model) => new FreeEnergyMetric(model) },
  { name: 'pseudoLogLikelihood', factory: (model, o) => new PseudoLikelihoodMetric(model, { seed: o.seed }) },
  {
    name: 'meanHiddenActivation',
    factory: (model, o) => new MeanActivationMetric(model, typeof o['layer'] === 'string' ? { layer: o['layer'] } : {}),
  },
];
