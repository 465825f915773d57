import 'reflect-metadata';
import { Registry, createBackendFrom, withAutoBackend, type Components } from '@boltzmann/core';
import { InvalidValueError, type BackendEntry } from '@boltzmann/tensor';
import { injectable, multiInject, optional } from 'inversify';
import {
  KIND_LABELS,
  Tokens,
  type BackendBinding,
  type BindingOf,
  type ComponentKind,
  type ConnectionBinding,
  type DataSourceBinding,
  type DataSourceFactory,
  type EstimatorBinding,
  type FactoryOf,
  type MetricBinding,
  type ModelKindBinding,
  type OptimizerBinding,
  type RegularizerBinding,
  type SamplerBinding,
  type ScheduleBinding,
  type UnitTypeBinding,
} from './tokens.js';

/** The kinds that are registries of core's `Components`, and the key of each there. */
const COMPONENTS_KEY = {
  unitType: 'unitTypes',
  connection: 'connections',
  modelKind: 'modelKinds',
  estimator: 'estimators',
  sampler: 'samplers',
  optimizer: 'optimizers',
  regularizer: 'regularizers',
  schedule: 'schedules',
  metric: 'metrics',
  backend: 'backends',
} as const satisfies Record<Exclude<ComponentKind, 'dataSource'>, keyof Components>;

/**
 * The component set of a container, resolved by inversify from everything bound under the
 * kind tokens: the built-ins first, then each plugin in load order, so a later binding of a
 * name replaces an earlier one (a plugin may override a built-in on purpose). `components` is
 * core's `Components` value, passed to core's functions (`buildModel`, `loadModel`, `Trainer`);
 * data sources, which core does not know, sit beside it. Unknown names give an error listing
 * what is registered.
 */
@injectable()
export class ComponentCatalog {
  /** The set core's functions take. */
  readonly components: Components;
  /** The data sources of run specs (`data.source.type`). */
  readonly dataSources: Registry<DataSourceFactory>;

  constructor(
    @multiInject(Tokens.unitType) @optional() unitTypes: UnitTypeBinding[] = [],
    @multiInject(Tokens.connection) @optional() connections: ConnectionBinding[] = [],
    @multiInject(Tokens.modelKind) @optional() modelKinds: ModelKindBinding[] = [],
    @multiInject(Tokens.estimator) @optional() estimators: EstimatorBinding[] = [],
    @multiInject(Tokens.sampler) @optional() samplers: SamplerBinding[] = [],
    @multiInject(Tokens.optimizer) @optional() optimizers: OptimizerBinding[] = [],
    @multiInject(Tokens.regularizer) @optional() regularizers: RegularizerBinding[] = [],
    @multiInject(Tokens.schedule) @optional() schedules: ScheduleBinding[] = [],
    @multiInject(Tokens.metric) @optional() metrics: MetricBinding[] = [],
    @multiInject(Tokens.backend) @optional() backends: BackendBinding[] = [],
    @multiInject(Tokens.dataSource) @optional() dataSources: DataSourceBinding[] = [],
  ) {
    this.components = {
      unitTypes: collect('unitType', unitTypes),
      connections: collect('connection', connections),
      modelKinds: collect('modelKind', modelKinds),
      estimators: collect('estimator', estimators),
      samplers: collect('sampler', samplers),
      optimizers: collect('optimizer', optimizers),
      regularizers: collect('regularizer', regularizers),
      schedules: collect('schedule', schedules),
      metrics: collect('metric', metrics),
      backends: withAutoBackend(backendRegistry(backends)),
    };
    this.dataSources = collect('dataSource', dataSources);
  }

  /** Whether a component of this kind and name is bound. */
  has(kind: ComponentKind, name: string): boolean {
    return this.registry(kind).has(name);
  }

  /** The factory bound for `name`; an unknown name gives an error listing the registered ones. */
  factory<K extends ComponentKind>(kind: K, name: string): FactoryOf<K> {
    if (kind === 'backend') {
      this.components.backends.get(name); // an unknown name fails here, listing the registered ones
      const create: FactoryOf<'backend'> = (options) => createBackendFrom(this.components, name, options);
      return create as FactoryOf<K>;
    }
    return this.registry(kind).get(name) as FactoryOf<K>;
  }

  /** Registered names of one kind, sorted. */
  names(kind: ComponentKind): string[] {
    return this.registry(kind).names();
  }

  private registry(kind: ComponentKind): Registry<unknown> {
    return kind === 'dataSource' ? this.dataSources : (this.components[COMPONENTS_KEY[kind]] as Registry<unknown>);
  }
}

/** A registry of the bindings of one kind, later bindings of a name winning; a malformed binding is an error naming it. */
function collect<K extends ComponentKind>(kind: K, list: readonly BindingOf[K][]): Registry<FactoryOf<K>> {
  const registry = new Registry<FactoryOf<K>>(KIND_LABELS[kind]);
  list.forEach((b, i) => {
    if (typeof b !== 'object' || b === null || typeof b.name !== 'string' || b.name === '' || typeof b.factory !== 'function') {
      throw new InvalidValueError(
        `binding #${i} of ${KIND_LABELS[kind]}s must be an object { name: non-empty string, factory: function }, got ${describe(b)}`,
      );
    }
    registry.register(b.name, b.factory as FactoryOf<K>);
  });
  return registry;
}

/** Backend bindings as core's backend entries ("auto" is the container's own, never bound). */
function backendRegistry(bindings: readonly BackendBinding[]): Registry<BackendEntry> {
  collect('backend', bindings); // checks each binding's shape
  const registry = new Registry<BackendEntry>(KIND_LABELS.backend);
  for (const b of bindings) {
    if (b.name === 'auto') throw new InvalidValueError('a plugin cannot bind a backend named "auto": that name picks the best available backend');
    registry.register(b.name, { name: b.name, priority: b.priority ?? 0, available: () => b.available?.() ?? true, create: b.factory });
  }
  return registry;
}

function describe(x: unknown): string {
  if (x === null || typeof x !== 'object') return String(x);
  const o = x as { name?: unknown; factory?: unknown };
  return `{ name: ${JSON.stringify(o.name)}, factory: ${typeof o.factory} }`;
}
