import type { EnergyModel } from '../models/energy-model.js';
import { Registry } from '../registry.js';
import { ContrastiveDivergence, type ContrastiveDivergenceOptions } from './contrastive-divergence.js';
import type { Estimator, EstimatorSpec } from './estimator.js';
import { WakeDream, type WakeDreamOptions } from '../learning/wake-dream.js';

/** Builds an estimator for a model from its spec. */
export type EstimatorFactory = (model: EnergyModel, spec: EstimatorSpec) => Estimator;

/** Estimators by name: "cd" (CD-k), "pcd" (persistent CD-k) and "wake-dream" (general Boltzmann machines). */
export const estimatorTypes = new Registry<EstimatorFactory>('estimator')
  .register('cd', (model, spec) => new ContrastiveDivergence(model, { ...(spec as ContrastiveDivergenceOptions), persistent: false }))
  .register('pcd', (model, spec) => new ContrastiveDivergence(model, { ...(spec as ContrastiveDivergenceOptions), persistent: true }))
  .register('wake-dream', (model, spec) => new WakeDream(model, spec as WakeDreamOptions));
