import 'reflect-metadata';
import type { Components } from '@boltzmann/core';
import { Container, type ContainerModule } from 'inversify';
import { backendLoadFailures, importBackendPackages } from './builtins/backends.js';
import { builtinModule } from './builtins/module.js';
import { ComponentCatalog } from './catalog.js';
import { loadPlugin, type LoadedPlugin } from './plugin-loader.js';

/** Options of `createContainer`. */
export interface CreateContainerOptions {
  /** Plugins to load, by package name or path (see `loadPlugin`). */
  plugins?: readonly string[];
  /** Where relative plugin paths start; default the working directory. */
  baseDir?: string;
  /** Further modules (already imported), loaded after the plugins. */
  modules?: readonly ContainerModule[];
  /** Import @boltzmann/backend-gpu too (if it loads); default true. The CPU backend is always there. */
  optionalBackends?: boolean;
}

/**
 * The framework's DI container: the inversify container with the built-ins and the plugins
 * loaded, the component set it resolved (`catalog`, `components`), and the plugins that were
 * loaded. It changes nothing outside itself: containers with different plugins live side by
 * side, and one is dropped by forgetting it.
 */
export class BoltzmannContainer {
  constructor(
    readonly inversify: Container,
    readonly catalog: ComponentCatalog,
    readonly plugins: readonly LoadedPlugin[],
  ) {}

  /** The component set to hand to core's functions (`buildModel`, `loadModel`, `Trainer`...). */
  get components(): Components {
    return this.catalog.components;
  }

  /** Backend packages that failed to import (package name -> first line of the error). */
  get backendLoadFailures(): ReadonlyMap<string, string> {
    return backendLoadFailures;
  }
}

/**
 * Builds a container: imports the backend packages, loads the built-ins' ContainerModule
 * (core's built-in set and the data sources of @boltzmann/data), then each plugin's in order (a
 * later binding of a name wins) and `options.modules`, and resolves the component set from
 * what is bound under the kind tokens.
 */
export async function createContainer(options: CreateContainerOptions = {}): Promise<BoltzmannContainer> {
  await importBackendPackages(options.optionalBackends ?? true);
  const baseDir = options.baseDir ?? process.cwd();
  const plugins: LoadedPlugin[] = [];
  const seen = new Set<string>();
  for (const specifier of options.plugins ?? []) {
    const plugin = await loadPlugin(specifier, baseDir);
    if (seen.has(plugin.file)) continue; // the same plugin named twice (by name and by path)
    seen.add(plugin.file);
    plugins.push(plugin);
  }
  const container = new Container({ defaultScope: 'Singleton' });
  await container.loadAsync(builtinModule(), ...plugins.map((p) => p.module), ...(options.modules ?? []));
  container.bind(ComponentCatalog).toSelf();
  return new BoltzmannContainer(container, container.get(ComponentCatalog), plugins);
}
