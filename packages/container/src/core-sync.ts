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
  sampler: samplerTypes,
  optimizer: optimizerTypes,
  regularizer: regularizerTypes,
  schedule: scheduleTypes,
};

/** Takes back what `registerInCore` added to core's registries. */
export type CoreRegistration = () => void;

/**
 * What containers did to one name of a core registry: the factory it had before the first
 * container touched it (undefined: none) and each live container's factory, latest last (the
 * latest is the registered one).
 */
interface NameState {
  readonly original: unknown;
  readonly users: { readonly owner: object; readonly factory: unknown }[];
}

const states = new Map<Registry<unknown>, Map<string, NameState>>();

function release(registry: Registry<unknown>, byName: Map<string, NameState>, name: string, owner: object): void {
  const state = byName.get(name);
  if (state === undefined) return;
  const i = state.users.findIndex((u) => u.owner === owner);
  if (i >= 0) state.users.splice(i, 1);
  const last = state.users[state.users.length - 1];
  if (last !== undefined) {
    if (!registry.has(name) || registry.get(name) !== last.factory) registry.register(name, last.factory);
    return;
  }
  byName.delete(name);
  if (state.original !== undefined) registry.register(name, state.original);
  else registry.unregister(name);
}

/**
 * Registers what the container binds into core's registries and the tensor backend registry,
 * so `loadModel` / `buildModel` / `Trainer` (which look names up there) can rebuild a model
 * whose layers come from a plugin. Entries already there with the same factory are left alone.
 * Returns a function that releases them: a name goes back to the factory of the latest live
 * container that registered it, or, when none is left, to the factory it replaced, or is
 * removed (backends stay registered).
 */
export function registerInCore(catalog: ComponentCatalog): CoreRegistration {
  const undo: (() => void)[] = [];
  const owner = {};
  for (const [kind, registry] of Object.entries(coreRegistries) as [ComponentKind, Registry<unknown>][]) {
    let byName = states.get(registry);
    if (byName === undefined) states.set(registry, (byName = new Map()));
    const names = byName;
    for (const name of catalog.names(kind)) {
      const factory = catalog.factory(kind, name);
      let state = names.get(name);
      if (state === undefined) {
        if (registry.has(name) && registry.get(name) === factory) continue; // core's own (a built-in)
        state = { original: registry.has(name) ? registry.get(name) : undefined, users: [] };
        names.set(name, state);
      }
      state.users.push({ owner, factory });
      if (!registry.has(name) || registry.get(name) !== factory) registry.register(name, factory);
      undo.push(() => release(registry, names, name, owner));
    }
  }
  for (const b of catalog.all('backend')) {
    if (isRegistryBackend(b)) continue;
    if (b.name === 'auto') throw new InvalidValueError('a plugin cannot bind a backend named "auto": that name picks the best available backend');
    registerBackend({ name: b.name, priority: b.priority ?? 0, available: () => b.available?.() ?? true, create: b.factory });
  }
  return () => {
    for (const f of undo.reverse()) f();
    undo.length = 0;
  };
}
