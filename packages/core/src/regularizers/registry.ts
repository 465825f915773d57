import type { ParameterRole } from '../parameter.js';
import { Registry } from '../registry.js';
import { Dropout, type DropoutOptions } from './dropout.js';
import { L1WeightDecay } from './l1.js';
import { L2WeightDecay } from './l2.js';
import { MaxNorm } from './max-norm.js';
import type { Regularizer, RegularizerSpec } from './regularizer.js';
import { checkSpec } from '../validation.js';
import { SparsityTarget, type SparsityOptions } from './sparsity.js';

/** Builds a regularizer from its spec. */
export type RegularizerFactory = (spec: RegularizerSpec) => Regularizer;

/** The built-in regularizers by name (a fresh registry): "l2", "l1", "max-norm", "dropout", "sparsity". */
export const builtinRegularizers = (): Registry<RegularizerFactory> => new Registry<RegularizerFactory>('regularizer')
  .register(L2WeightDecay.type, (spec) => new L2WeightDecay(checkSpec<RegularizerSpec>('regularizer', spec, ['coefficient', 'roles'])['coefficient'] as number, (spec['roles'] as ParameterRole[] | undefined) ?? ['weights']))
  .register(L1WeightDecay.type, (spec) => new L1WeightDecay(checkSpec<RegularizerSpec>('regularizer', spec, ['coefficient', 'roles'])['coefficient'] as number, (spec['roles'] as ParameterRole[] | undefined) ?? ['weights']))
  .register(MaxNorm.type, (spec) => new MaxNorm(checkSpec<RegularizerSpec>('regularizer', spec, ['maxNorm'])['maxNorm'] as number))
  .register(Dropout.type, (spec) => new Dropout(checkSpec<DropoutOptions>('regularizer', spec, ['visible', 'hidden'])))
  .register(SparsityTarget.type, (spec) => new SparsityTarget(checkSpec<SparsityOptions>('regularizer', spec, ['target', 'cost', 'damping', 'layer', 'weights'])));
