import type { EnergyModel } from '../models/energy-model.js';
import { Registry } from '../registry.js';
import { ContrastiveDivergence, type ContrastiveDivergenceOptions } from './contrastive-divergence.js';
import type { Estimator, EstimatorSpec } from './estimator.js';
import { WakeDream, type WakeDreamOptions } from '../learning/wake-dream.js';
import { MeanFieldPCD, type MeanFieldPCDOptions } from './mean-field-pcd.js';
import { ScaledFieldCD, type ScaledFieldCDOptions } from './scaled-field-cd.js';

/** Builds an estimator for a model from its spec. */
export type EstimatorFactory = (model: EnergyModel, spec: EstimatorSpec) => Estimator;

/**
 * Estimators by name: "cd" (CD-k), "pcd" (persistent CD-k), "wake-dream" (general Boltzmann
 * machines), "mean-field-pcd" (DBMs) and "scaled-field-cd" (greedy DBM pretraining).
 */
export const estimatorTypes = new Registry<EstimatorFactory>('estimator')
  .register('cd', (model, spec) => new ContrastiveDivergence(model, { ...(spec as ContrastiveDivergenceOptions), persistent: false }))
  .register('pcd', (model, spec) => new ContrastiveDivergence(model, { ...(spec as ContrastiveDivergenceOptions), persistent: true }))
  .register('wake-dream', (model, spec) => new WakeDream(model, spec as WakeDreamOptions))
  .register(MeanFieldPCD.type, (model, spec) => new MeanFieldPCD(model, spec as MeanFieldPCDOptions))
  .register(ScaledFieldCD.type, (model, spec) => new ScaledFieldCD(model, spec as ScaledFieldCDOptions));
