import {
  connectionTypes,
  estimatorTypes,
  modelKinds,
  optimizerTypes,
  regularizerTypes,
  samplerTypes,
  scheduleTypes,
  unitTypes,
  type Registry,
} from '@boltzmann/core';
import { ContainerModule } from 'inversify';
import { Tokens, type Named } from '../tokens.js';
import { registeredBackendBindings } from './backends.js';
import { builtinDataSources } from './data-sources.js';
import { builtinMetrics } from './metrics.js';

function fromRegistry<F>(registry: Registry<F>): Named<F>[] {
  return registry.names().map((name) => ({ name, factory: registry.get(name) }));
}

/**
 * Binds the built-in components: whatever core's registries and the tensor backend registry
 * hold when the module is loaded (so code that registered into them directly is seen too),
 * core's metrics and the data sources of @boltzmann/data.
 */
export function builtinModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const b of fromRegistry(unitTypes)) bind(Tokens.unitType).toConstantValue(b);
    for (const b of fromRegistry(connectionTypes)) bind(Tokens.connection).toConstantValue(b);
    for (const b of fromRegistry(modelKinds)) bind(Tokens.modelKind).toConstantValue(b);
    for (const b of fromRegistry(estimatorTypes)) bind(Tokens.estimator).toConstantValue(b);
    for (const b of fromRegistry(samplerTypes)) bind(Tokens.sampler).toConstantValue(b);
    for (const b of fromRegistry(optimizerTypes)) bind(Tokens.optimizer).toConstantValue(b);
    for (const b of fromRegistry(regularizerTypes)) bind(Tokens.regularizer).toConstantValue(b);
    for (const b of fromRegistry(scheduleTypes)) bind(Tokens.schedule).toConstantValue(b);
    for (const b of builtinMetrics) bind(Tokens.metric).toConstantValue(b);
    for (const b of registeredBackendBindings()) bind(Tokens.backend).toConstantValue(b);
    for (const b of builtinDataSources) bind(Tokens.dataSource).toConstantValue(b);
  });
}
