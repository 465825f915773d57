import { builtinComponents, type Registry } from '@boltzmann/core';
import { ContainerModule } from 'inversify';
import { Tokens, type Named } from '../tokens.js';
import { builtinDataSources } from './data-sources.js';

/** Calls `use` with each entry of `registry` as a binding. */
function each<F>(registry: Registry<F>, use: (binding: Named<F>) => void): void {
  for (const name of registry.names()) use({ name, factory: registry.get(name) });
}

/**
 * Binds the built-in components under the kind tokens, as a plugin binds its own: core's
 * built-in set (`builtinComponents()`: unit types, connections, model kinds, estimators,
 * samplers, optimizers, regularizers, schedules, metrics, and the backends the imported
 * backend packages registered; "auto" is left out, as each container makes its own over its
 * set) and the data sources of @boltzmann/data.
 */
export function builtinModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    const c = builtinComponents();
    each(c.unitTypes, (b) => bind(Tokens.unitType).toConstantValue(b));
    each(c.connections, (b) => bind(Tokens.connection).toConstantValue(b));
    each(c.modelKinds, (b) => bind(Tokens.modelKind).toConstantValue(b));
    each(c.estimators, (b) => bind(Tokens.estimator).toConstantValue(b));
    each(c.samplers, (b) => bind(Tokens.sampler).toConstantValue(b));
    each(c.optimizers, (b) => bind(Tokens.optimizer).toConstantValue(b));
    each(c.regularizers, (b) => bind(Tokens.regularizer).toConstantValue(b));
    each(c.schedules, (b) => bind(Tokens.schedule).toConstantValue(b));
    each(c.metrics, (b) => bind(Tokens.metric).toConstantValue(b));
    for (const name of c.backends.names().filter((n) => n !== 'auto')) {
      const entry = c.backends.get(name);
      bind(Tokens.backend).toConstantValue({ name, factory: entry.create, priority: entry.priority, available: () => entry.available() });
    }
    for (const b of builtinDataSources) bind(Tokens.dataSource).toConstantValue(b);
  });
}
