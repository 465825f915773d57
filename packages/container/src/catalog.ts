import 'reflect-metadata';
import { Registry } from '@boltzmann/core';
import { InvalidValueError } from '@boltzmann/tensor';
import { injectable, multiInject, optional } from 'inversify';
import {
  COMPONENT_KINDS,
  KIND_LABELS,
  Tokens,
  type BackendBinding,
  type BindingOf,
  type ComponentKind,
  type ConnectionBinding,
  type DataSourceBinding,
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

/**
 * Everything bound in a container, by kind and name: the built-ins first, then each plugin in
 * load order, so a later binding of a name replaces an earlier one (a plugin may override a
 * built-in on purpose). Unknown names give an error listing what is registered.
 */
@injectable()
export class ComponentCatalog {
  private readonly registries: { [K in ComponentKind]: Registry<FactoryOf<K>> };
  private readonly bindings: { [K in ComponentKind]: Map<string, BindingOf[K]> };

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
    const lists: { [K in ComponentKind]: readonly BindingOf[K][] } = {
      unitType: unitTypes,
      connection: connections,
      modelKind: modelKinds,
      estimator: estimators,
      sampler: samplers,
      optimizer: optimizers,
      regularizer: regularizers,
      schedule: schedules,
      metric: metrics,
      backend: backends,
      dataSource: dataSources,
    };
    const registries = {} as { [K in ComponentKind]: Registry<FactoryOf<K>> };
    const bindings = {} as { [K in ComponentKind]: Map<string, BindingOf[K]> };
    for (const kind of COMPONENT_KINDS) {
      const { registry, byName } = collect(kind, lists[kind]);
      (registries as Record<ComponentKind, unknown>)[kind] = registry;
      (bindings as Record<ComponentKind, unknown>)[kind] = byName;
    }
    this.registries = registries;
    this.bindings = bindings;
  }

  /** Whether a component of this kind and name is bound. */
  has(kind: ComponentKind, name: string): boolean {
    return this.registries[kind].has(name);
  }

  /** The factory bound for `name`; an unknown name gives an error listing the registered ones. */
  factory<K extends ComponentKind>(kind: K, name: string): FactoryOf<K> {
    return this.registries[kind].get(name);
  }

  /** The whole binding for `name` (for backends: with priority and availability). */
  binding<K extends ComponentKind>(kind: K, name: string): BindingOf[K] {
    this.registries[kind].get(name); // throws the listing error for unknown names
    return this.bindings[kind].get(name)!;
  }

  /** Registered names of one kind, sorted. */
  names(kind: ComponentKind): string[] {
    return this.registries[kind].names();
  }

  /** Every bound binding of one kind, in name order. */
  all<K extends ComponentKind>(kind: K): BindingOf[K][] {
    return this.names(kind).map((n) => this.bindings[kind].get(n)!);
  }
}

function collect<K extends ComponentKind>(kind: K, list: readonly BindingOf[K][]): { registry: Registry<FactoryOf<K>>; byName: Map<string, BindingOf[K]> } {
  const registry = new Registry<FactoryOf<K>>(KIND_LABELS[kind]);
  const byName = new Map<string, BindingOf[K]>();
  list.forEach((b, i) => {
    if (typeof b !== 'object' || b === null || typeof b.name !== 'string' || b.name === '' || typeof b.factory !== 'function') {
      throw new InvalidValueError(
        `binding #${i} of ${KIND_LABELS[kind]}s must be an object { name: non-empty string, factory: function }, got ${describe(b)}`,
      );
    }
    registry.register(b.name, b.factory as FactoryOf<K>);
    byName.set(b.name, b);
  });
  return { registry, byName };
}

function describe(x: unknown): string {
  if (x === null || typeof x !== 'object') return String(x);
  const o = x as { name?: unknown; factory?: unknown };
  return `{ name: ${JSON.stringify(o.name)}, factory: ${typeof o.factory} }`;
}
