import type { EnergyModel } from '../models/energy-model.js';
import { Registry } from '../registry.js';
import { ContrastiveDivergence, type ContrastiveDivergenceOptions } from './contrastive-divergence.js';
import type { Estimator, EstimatorSpec } from './estimator.js';

/** Builds an estimator for a model from its spec. */
export type EstimatorFactory = (model: EnergyModel, spec: EstimatorSpec) => Estimator;

/** Estimators by name: "cd" (CD-k) and "pcd" (persistent CD-k). */
export const estimatorTypes = new Registry<EstimatorFactory>('estimator')
  .register('cd', (model, spec) => new ContrastiveDivergence(model, { ...(spec as ContrastiveDivergenceOptions), persistent: false }))
  .register('pcd', (model, spec) => new ContrastiveDivergence(model, { ...(spec as ContrastiveDivergenceOptions), persistent: true }));
