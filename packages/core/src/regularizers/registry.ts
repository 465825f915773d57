import type { ParameterRole } from '../parameter.js';
import { Registry } from '../registry.js';
import { L2WeightDecay } from './l2.js';
import type { Regularizer, RegularizerSpec } from './regularizer.js';

/** Builds a regularizer from its spec. */
export type RegularizerFactory = (spec: RegularizerSpec) => Regularizer;

/** Regularizers by name: "l2". */
export const regularizerTypes = new Registry<RegularizerFactory>('regularizer').register(
  L2WeightDecay.type,
  (spec) => new L2WeightDecay(spec['coefficient'] as number, (spec['roles'] as ParameterRole[] | undefined) ?? ['weights']),
);
