import {
  connectionTypes,
  estimatorTypes,
  modelKinds,
  optimizerTypes,
  regularizerTypes,
  scheduleTypes,
  unitTypes,
  type Registry,
} from '@boltzmann/core';
import { InvalidValueError, registerBackend } from '@boltzmann/tensor';
import { isRegistryBackend } from './builtins/backends.js';
import type { ComponentCatalog } from './catalog.js';
import type { ComponentKind } from './tokens.js';

/** Core's plain registry for each kind that has one (metrics and data sources live only in the container). */
const coreRegistries: Partial<Record<ComponentKind, Registry<unknown>>> = {
  unitType: unitTypes,
  connection: connectionTypes,
  modelKind: modelKinds,
  estimator: estimatorTypes,
  optimizer: optimizerTypes,
  regularizer: regularizerTypes,
  schedule: scheduleTypes,
};

/**
 * Registers what the container binds into core's registries and the tensor backend registry,
 * so `loadModel` / `buildModel` / `Trainer` (which look names up there) can rebuild a model
 * whose layers come from a plugin. Entries already there with the same factory are left alone.
 */
export function registerInCore(catalog: ComponentCatalog): void {
  for (const [kind, registry] of Object.entries(coreRegistries) as [ComponentKind, Registry<unknown>][]) {
    for (const name of catalog.names(kind)) {
      const factory = catalog.factory(kind, name);
      if (!registry.has(name) || registry.get(name) !== factory) registry.register(name, factory);
    }
  }
  for (const b of catalog.all('backend')) {
    if (isRegistryBackend(b)) continue;
    if (b.name === 'auto') throw new InvalidValueError('a plugin cannot bind a backend named "auto": that name picks the best available backend');
    registerBackend({ name: b.name, priority: b.priority ?? 0, available: () => b.available?.() ?? true, create: b.factory });
  }
}
