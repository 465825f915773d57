import type { EnergyModel } from '../models/energy-model.js';
import { Registry } from '../registry.js';
import { Adam, type AdamOptions } from './adam.js';
import type { Optimizer, OptimizerSpec } from './optimizer.js';
import { SGD, type SGDOptions } from './sgd.js';
import { checkOptionKeys } from '../validation.js';

/** Builds an optimizer for a model's parameters from its spec. */
export type OptimizerFactory = (model: EnergyModel, spec: OptimizerSpec) => Optimizer;

/** `spec`, once every key is "type" or one of `options` (a misspelt option is an error, not ignored). */
function checked<T>(spec: OptimizerSpec, options: readonly string[]): T {
  checkOptionKeys(`optimizer "${spec.type}"`, spec, options);
  return spec as T;
}

/** Optimizers by name: "sgd" (momentum, optional Nesterov), "adam" (bias-corrected). */
export const optimizerTypes = new Registry<OptimizerFactory>('optimizer')
  .register(SGD.type, (model, spec) => new SGD(model.backend, model.parameters, { nesterov: checked<SGDOptions>(spec, ['nesterov']).nesterov }))
  .register(Adam.type, (model, spec) => new Adam(model.backend, model.parameters, checked<AdamOptions>(spec, ['beta1', 'beta2', 'epsilon'])));
