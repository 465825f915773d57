import type { EnergyModel } from '../models/energy-model.js';
import { Registry } from '../registry.js';
import { ContrastiveDivergence, type ContrastiveDivergenceOptions } from './contrastive-divergence.js';
import type { Estimator, EstimatorSpec } from './estimator.js';
import { WakeDream, type WakeDreamOptions } from '../learning/wake-dream.js';
import { MeanFieldPCD, type MeanFieldPCDOptions } from './mean-field-pcd.js';
import { ParallelTempering, type ParallelTemperingOptions } from './parallel-tempering.js';
import { ScaledFieldCD, type ScaledFieldCDOptions } from './scaled-field-cd.js';
import { checkSpec } from '../validation.js';

/** Builds an estimator for a model from its spec. */
export type EstimatorFactory = (model: EnergyModel, spec: EstimatorSpec) => Estimator;

/** The option keys of each estimator's spec (besides "type"); any other key is refused. */
const OPTIONS = {
  cd: ['k', 'chains', 'meanLayers', 'statistics'],
  'wake-dream': ['expectations', 'chains', 'sweeps', 'clampedSweeps', 'maxUnits'],
  [MeanFieldPCD.type]: ['k', 'chains', 'init', 'maxIterations', 'tolerance'],
  [ScaledFieldCD.type]: ['k', 'upScale', 'downScale'],
  [ParallelTempering.type]: ['k', 'chains', 'betas', 'temperatures', 'spacing', 'minBeta'],
} as const;

/**
 * The built-in estimators by name (a fresh registry; see `builtinComponents`): "cd" (CD-k), "pcd" (persistent CD-k), "wake-dream" (general Boltzmann
 * machines), "mean-field-pcd" (DBMs), "scaled-field-cd" (greedy DBM pretraining) and "pt"
 * (parallel tempering; also registered as "parallel-tempering", its spec saying "pt").
 */
export const builtinEstimators = (): Registry<EstimatorFactory> => new Registry<EstimatorFactory>('estimator')
  .register('cd', (model, spec) => new ContrastiveDivergence(model, { ...checkSpec<ContrastiveDivergenceOptions>('estimator', spec, OPTIONS.cd), persistent: false }))
  .register('pcd', (model, spec) => new ContrastiveDivergence(model, { ...checkSpec<ContrastiveDivergenceOptions>('estimator', spec, OPTIONS.cd), persistent: true }))
  .register('wake-dream', (model, spec) => new WakeDream(model, checkSpec<WakeDreamOptions>('estimator', spec, OPTIONS['wake-dream'])))
  .register(MeanFieldPCD.type, (model, spec) => new MeanFieldPCD(model, checkSpec<MeanFieldPCDOptions>('estimator', spec, OPTIONS[MeanFieldPCD.type])))
  .register(ScaledFieldCD.type, (model, spec) => new ScaledFieldCD(model, checkSpec<ScaledFieldCDOptions>('estimator', spec, OPTIONS[ScaledFieldCD.type])))
  .register(ParallelTempering.type, (model, spec) => new ParallelTempering(model, checkSpec<ParallelTemperingOptions>('estimator', spec, OPTIONS[ParallelTempering.type])))
  .register('parallel-tempering', (model, spec) => new ParallelTempering(model, checkSpec<ParallelTemperingOptions>('estimator', spec, OPTIONS[ParallelTempering.type])));
