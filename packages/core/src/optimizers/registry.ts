import type { EnergyModel } from '../models/energy-model.js';
import { Registry } from '../registry.js';
import { Adam, type AdamOptions } from './adam.js';
import type { Optimizer, OptimizerSpec } from './optimizer.js';
import { SGD, type SGDOptions } from './sgd.js';
import { checkSpec } from '../validation.js';

/** Builds an optimizer for a model's parameters from its spec. */
export type OptimizerFactory = (model: EnergyModel, spec: OptimizerSpec) => Optimizer;

/** The built-in optimizers by name (a fresh registry): "sgd" (momentum, optional Nesterov), "adam" (bias-corrected). */
export const builtinOptimizers = (): Registry<OptimizerFactory> => new Registry<OptimizerFactory>('optimizer')
  .register(SGD.type, (model, spec) => new SGD(model.backend, model.parameters, { nesterov: checkSpec<SGDOptions>('optimizer', spec, ['nesterov']).nesterov }))
  .register(Adam.type, (model, spec) => new Adam(model.backend, model.parameters, checkSpec<AdamOptions>('optimizer', spec, ['beta1', 'beta2', 'epsilon'])));
