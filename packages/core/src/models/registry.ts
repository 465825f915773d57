import { CounterRng, InvalidValueError, type Backend } from '@boltzmann/tensor';
import type { Connection } from '../connections/connection.js';
import { connectionTypes } from '../connections/registry.js';
import { Registry } from '../registry.js';
import { RngStreams } from '../rng-streams.js';
import { unitTypes } from '../units/registry.js';
import type { UnitLayer } from '../units/unit-layer.js';
import { EnergyModel, type ModelSpec } from './energy-model.js';
import { RBM } from './rbm.js';
import { BoltzmannMachine } from './boltzmann-machine.js';
import { RecommenderRBM } from './recommender-rbm.js';
import { ConditionalRBM } from './conditional-rbm.js';
import { DBM } from './dbm.js';

/** Wraps built layers and connections into the model class of one kind. */
export type ModelFactory = (backend: Backend, layers: UnitLayer[], connections: Connection[], options: { seed?: number }) => EnergyModel;

/** Model classes by `ModelSpec.kind`. */
export const modelKinds = new Registry<ModelFactory>('model kind')
  .register('graph', (backend, layers, connections, options) => new EnergyModel(backend, layers, connections, options))
  .register('rbm', (backend, layers, connections, options) => {
    if (layers.length !== 2 || connections.length !== 1) {
      throw new InvalidValueError(`an RBM has 2 layers and 1 connection, the spec has ${layers.length} and ${connections.length}`);
    }
    return new RBM(backend, layers[0]!, layers[1]!, connections[0]!, options);
  })
  .register('boltzmann-machine', (backend, layers, connections, options) => new BoltzmannMachine(backend, layers, connections, options))
  .register('recommender-rbm', (backend, layers, connections, options) => new RecommenderRBM(backend, layers, connections, options))
  .register('conditional-rbm', (backend, layers, connections, options) => new ConditionalRBM(backend, layers, connections, options))
  .register('dbm', (backend, layers, connections, options) => new DBM(backend, layers, connections, options));

/**
 * Builds a model from its JSON spec through the unit, connection and model registries.
 * Weights start N(0, weightStd) from `seed` (0 gives zeros: `load()` overwrites them anyway).
 */
export function buildModel(backend: Backend, spec: ModelSpec, options: { seed?: number; weightStd?: number } = {}): EnergyModel {
  if (!spec || !Array.isArray(spec.layers) || !Array.isArray(spec.connections)) {
    throw new InvalidValueError('a model spec needs "layers" and "connections" arrays');
  }
  const layers = spec.layers.map((s) => unitTypes.get(s.type)(backend, s));
  const byName = new Map(layers.map((l) => [l.name, l]));
  const rng = new CounterRng(options.seed ?? 0, RngStreams.init);
  const connections = spec.connections.map((s) => {
    const from = byName.get(s.from);
    const to = byName.get(s.to);
    if (!from || !to) throw new InvalidValueError(`connection "${s.name}" joins unknown layer "${from ? s.to : s.from}"`);
    return connectionTypes.get(s.type)(backend, s, from, to, { std: options.weightStd ?? 0, rng });
  });
  return modelKinds.get(spec.kind)(backend, layers, connections, { seed: options.seed ?? 0 });
}
