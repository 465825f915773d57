import 'reflect-metadata';
import { Container, type ContainerModule } from 'inversify';
import { backendLoadFailures, importBackendPackages } from './builtins/backends.js';
import { builtinModule } from './builtins/module.js';
import { ComponentCatalog } from './catalog.js';
import { registerInCore, type CoreRegistration } from './core-sync.js';
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
 * loaded, the catalog of what is bound, and the plugins that were loaded.
 */
export class BoltzmannContainer {
  constructor(
    readonly inversify: Container,
    readonly catalog: ComponentCatalog,
    readonly plugins: readonly LoadedPlugin[],
    private readonly unregister: CoreRegistration = () => {},
  ) {}

  /**
   * Takes the container's registrations back out of core's registries (the factories it
   * replaced are put back; names it added are removed).
   * For tests and long-lived processes that build containers with different plugins.
   */
  dispose(): void {
    this.unregister();
  }

  /** Backend packages that failed to import (package name -> first line of the error). */
  get backendLoadFailures(): ReadonlyMap<string, string> {
    return backendLoadFailures;
  }
}

/**
 * Builds a container: imports the backend packages, binds the built-ins (core's registries,
 * the registered backends, core's metrics, the data sources of @boltzmann/data), then loads
 * each plugin's ContainerModule in order (a later binding of a name wins), and registers
 * everything bound into core's plain registries so `loadModel` can rebuild plugin layers.
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
  const catalog = container.get(ComponentCatalog);
  const unregister = registerInCore(catalog);
  return new BoltzmannContainer(container, catalog, plugins, unregister);
}
