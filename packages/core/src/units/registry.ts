import { Registry } from '../registry.js';
import { BernoulliLayer } from './bernoulli.js';
import { GaussianLayer } from './gaussian.js';
import { MultinomialLayer } from './multinomial.js';
import { ReLULayer } from './relu.js';
import { UnsampledLayer } from './unsampled.js';
import type { UnitFactory } from './unit-layer.js';

/**
 * Unit types by name. `load()` and the DI container build layers through it; a new unit type
 * registers here (one line) or from a plugin: `unitTypes.register('mytype', factory)`.
 */
export const unitTypes = new Registry<UnitFactory>('unit type')
  .register(BernoulliLayer.type, (backend, spec) => new BernoulliLayer(backend, spec))
  .register(GaussianLayer.type, (backend, spec) => new GaussianLayer(backend, spec))
  .register(MultinomialLayer.type, (backend, spec) => new MultinomialLayer(backend, spec))
  .register('softmax', (backend, spec) => new MultinomialLayer(backend, spec))
  .register(ReLULayer.type, (backend, spec) => new ReLULayer(backend, spec))
  .register(UnsampledLayer.type, (backend, spec) => new UnsampledLayer(backend, spec));
