import { Registry } from '../registry.js';
import { BernoulliLayer } from './bernoulli.js';
import { GaussianLayer } from './gaussian.js';
import { MultinomialLayer } from './multinomial.js';
import { ReLULayer } from './relu.js';
import { UnsampledLayer } from './unsampled.js';
import type { UnitFactory } from './unit-layer.js';

/**
 * The built-in unit types by name (a fresh registry; see `builtinComponents`). A new built-in
 * unit type registers here (one line); a plugin's registers into its own component set.
 */
export const builtinUnitTypes = (): Registry<UnitFactory> => new Registry<UnitFactory>('unit type')
  .register(BernoulliLayer.type, (backend, spec) => new BernoulliLayer(backend, spec))
  .register(GaussianLayer.type, (backend, spec) => new GaussianLayer(backend, spec))
  .register(MultinomialLayer.type, (backend, spec) => new MultinomialLayer(backend, spec))
  .register('softmax', (backend, spec) => new MultinomialLayer(backend, spec))
  .register(ReLULayer.type, (backend, spec) => new ReLULayer(backend, spec))
  .register(UnsampledLayer.type, (backend, spec) => new UnsampledLayer(backend, spec));
