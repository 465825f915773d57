import { InvalidValueError, registeredBackends, type Backend, type BackendEntry, type BackendOptions } from '@boltzmann/tensor';
import { builtinConnectionTypes, type ConnectionFactory } from './connections/registry.js';
import { builtinEstimators, type EstimatorFactory } from './estimators/registry.js';
import { builtinMetrics, type MetricFactory } from './metrics/registry.js';
import type { EnergyModel } from './models/energy-model.js';
import { builtinModelKinds, type ModelFactory } from './models/registry.js';
import { builtinOptimizers, type OptimizerFactory } from './optimizers/registry.js';
import { Registry } from './registry.js';
import { builtinRegularizers, type RegularizerFactory } from './regularizers/registry.js';
import { builtinSamplers } from './samplers/registry.js';
import type { SamplerFactory } from './samplers/sampler.js';
import { builtinSchedules, type ScheduleFactory } from './schedules/registry.js';
import { builtinUnitTypes } from './units/registry.js';
import type { UnitFactory } from './units/unit-layer.js';

/**
 * One set of components: a registry per kind, by the names specs and model files use. Core's
 * functions that build from names (`buildModel`, `loadModel`, `Trainer`, `toSchedule`...) take
 * a set explicitly and default to the built-ins; the container assembles one from inversify
 * modules (the built-ins' and each plugin's). Adding a component = one file + one
 * registration in a set:
 *
 * ```ts
 * const components = builtinComponents();
 * components.unitTypes.register('spin', (backend, spec) => new SpinLayer(backend, spec));
 * const model = buildModel(backend, spec, { components });   // loadModel(file, backend, { components }) likewise
 * ```
 */
export interface Components {
  readonly unitTypes: Registry<UnitFactory>;
  readonly connections: Registry<ConnectionFactory>;
  readonly modelKinds: Registry<ModelFactory>;
  readonly samplers: Registry<SamplerFactory>;
  readonly estimators: Registry<EstimatorFactory>;
  readonly optimizers: Registry<OptimizerFactory>;
  readonly regularizers: Registry<RegularizerFactory>;
  readonly schedules: Registry<ScheduleFactory>;
  readonly metrics: Registry<MetricFactory>;
  /** Backends by name, plus "auto": the available one of highest priority (`withAutoBackend`). */
  readonly backends: Registry<BackendEntry>;
}

/**
 * A new set holding the built-in components, each registry its own (register into it freely).
 * Its backends are those registered with @boltzmann/tensor when it is made (a backend package
 * registers itself when imported), plus "auto".
 */
export function builtinComponents(): Components {
  const backends = new Registry<BackendEntry>('backend');
  for (const entry of registeredBackends()) backends.register(entry.name, entry);
  return {
    unitTypes: builtinUnitTypes(),
    connections: builtinConnectionTypes(),
    modelKinds: builtinModelKinds(),
    samplers: builtinSamplers(),
    estimators: builtinEstimators(),
    optimizers: builtinOptimizers(),
    regularizers: builtinRegularizers(),
    schedules: builtinSchedules(),
    metrics: builtinMetrics(),
    backends: withAutoBackend(backends),
  };
}

let shared: Components | undefined;

/**
 * The set core's functions use when given none: the built-ins, read-only (a registration into
 * it throws; make your own set with `builtinComponents()`). Made on first use.
 */
export function defaultComponents(): Components {
  if (shared === undefined) {
    const set = builtinComponents();
    for (const registry of Object.values(set) as Registry<unknown>[]) registry.freeze();
    shared = set;
  }
  return shared;
}

/** The set `model` was built from (default the built-ins). */
export function componentsOf(model: EnergyModel): Components {
  return model.components ?? defaultComponents();
}

/**
 * Registers "auto" in `backends`: at creation it picks the available entry of highest
 * priority in that registry (so backends registered later count too). Returns the registry.
 */
export function withAutoBackend(backends: Registry<BackendEntry>): Registry<BackendEntry> {
  return backends.register('auto', {
    name: 'auto',
    priority: -Infinity,
    available: () => true,
    create: (options) => {
      const best = backends
        .names()
        .filter((n) => n !== 'auto')
        .map((n) => backends.get(n))
        .filter((e) => e.available())
        .sort((a, b) => b.priority - a.priority)[0];
      if (best === undefined) throw new InvalidValueError('no backend is registered: import @boltzmann/backend-cpu or another backend package');
      return best.create(options);
    },
  });
}

/**
 * Creates the backend `name` of a set; one that is not available on this machine is refused
 * with the reason. Unknown names list the registered ones.
 */
export function createBackendFrom(components: Components, name: string, options?: BackendOptions): Backend {
  const entry = components.backends.get(name);
  if (!entry.available()) throw new InvalidValueError(`backend "${name}" is not available on this machine`);
  return entry.create(options);
}
