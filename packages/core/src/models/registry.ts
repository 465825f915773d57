import { CounterRng, InvalidValueError, type Backend } from '@boltzmann/tensor';
import type { Connection } from '../connections/connection.js';
import { defaultComponents, type Components } from '../components.js';
import { Registry } from '../registry.js';
import { RngStreams } from '../rng-streams.js';
import type { UnitLayer } from '../units/unit-layer.js';
import { EnergyModel, type ModelOptions, type ModelSpec } from './energy-model.js';
import { RBM } from './rbm.js';
import { BoltzmannMachine } from './boltzmann-machine.js';
import { RecommenderRBM } from './recommender-rbm.js';
import { ConditionalRBM } from './conditional-rbm.js';
import { DBM } from './dbm.js';

/** Wraps built layers and connections into the model class of one kind. */
export type ModelFactory = (backend: Backend, layers: UnitLayer[], connections: Connection[], options: ModelOptions) => EnergyModel;

/** The built-in model classes by `ModelSpec.kind` (a fresh registry; see `builtinComponents`). */
export const builtinModelKinds = (): Registry<ModelFactory> => new Registry<ModelFactory>('model kind')
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

/** Options of `buildModel`. */
export interface BuildModelOptions {
  /** Seeds the initial weights and the model's sampling stream; default 0. */
  seed?: number;
  /** Standard deviation of the initial weights; default 0 (zeros: `loadModel` overwrites them anyway). */
  weightStd?: number;
  /** Where the unit, connection and model types are looked up; default the built-ins. The model keeps it. */
  components?: Components;
  /**
   * Called with the index of the layer or connection being built (`"layers", i` or
   * `"connections", i`) or `"kind"` when its factory throws, to rename the error (the container
   * turns it into a SpecError at that field); default: the error passes through.
   */
  onError?: (error: unknown, where: BuildStep) => unknown;
}

/** Which part of a model spec `buildModel` was building. */
export type BuildStep = { readonly part: 'layers' | 'connections'; readonly index: number } | { readonly part: 'kind' };

/**
 * Builds a model from its JSON spec through the unit, connection and model registries of
 * `options.components`. Weights start N(0, weightStd) from `seed`. What was built before a
 * failure is disposed.
 */
export function buildModel(backend: Backend, spec: ModelSpec, options: BuildModelOptions = {}): EnergyModel {
  if (!spec || !Array.isArray(spec.layers) || !Array.isArray(spec.connections)) {
    throw new InvalidValueError('a model spec needs "layers" and "connections" arrays');
  }
  const components = options.components ?? defaultComponents();
  const step = <T>(where: BuildStep, make: () => T): T => {
    try {
      return make();
    } catch (error) {
      throw options.onError ? options.onError(error, where) : error;
    }
  };
  const layers: UnitLayer[] = [];
  const connections: Connection[] = [];
  try {
    spec.layers.forEach((s, index) => layers.push(step({ part: 'layers', index }, () => components.unitTypes.get(s.type)(backend, s))));
    const byName = new Map(layers.map((l) => [l.name, l]));
    const rng = new CounterRng(options.seed ?? 0, RngStreams.init);
    spec.connections.forEach((s, index) =>
      connections.push(
        step({ part: 'connections', index }, () => {
          const from = byName.get(s.from);
          const to = byName.get(s.to);
          if (!from || !to) throw new InvalidValueError(`connection "${s.name}" joins unknown layer "${from ? s.to : s.from}"`);
          return components.connections.get(s.type)(backend, s, from, to, { std: options.weightStd ?? 0, rng });
        }),
      ),
    );
    return step({ part: 'kind' }, () => components.modelKinds.get(spec.kind)(backend, layers, connections, { seed: options.seed ?? 0, components }));
  } catch (error) {
    for (const c of connections) c.dispose();
    for (const l of layers) l.dispose();
    throw error;
  }
}
