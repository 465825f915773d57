import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { BoltzmannError } from '@boltzmann/tensor';
import type { ContainerModule } from 'inversify';
import { importShared } from './shared-import.js';

/**
 * The export every plugin module must have: an inversify `ContainerModule` that binds the
 * plugin's components under `Tokens` (see SPEC.md, "Plugins").
 */
export const PLUGIN_EXPORT = 'containerModule';

/** A plugin that could not be found, imported, or does not export a ContainerModule. */
export class PluginError extends BoltzmannError {}

/** A plugin module, loaded. */
export interface LoadedPlugin {
  /** What was asked for: a package name or a path. */
  readonly specifier: string;
  /** The file that was imported. */
  readonly file: string;
  readonly module: ContainerModule;
}

/** Whether `specifier` names a file or directory rather than a package. */
export function isPathSpecifier(specifier: string): boolean {
  return specifier.startsWith('.') || isAbsolute(specifier) || /^[A-Za-z]:[\\/]/.test(specifier);
}

/**
 * Loads a plugin by package name ("@scope/boltzmann-plugin-x", resolved from `baseDir` as
 * Node resolves imports) or by path (relative to `baseDir`): a module file, or a package
 * directory whose package.json "exports" / "main" (else src/index.ts, index.ts, index.js)
 * names the entry. The entry must export `containerModule`.
 */
export async function loadPlugin(specifier: string, baseDir: string = process.cwd()): Promise<LoadedPlugin> {
  if (typeof specifier !== 'string' || specifier.trim() === '') throw new PluginError('a plugin specifier must be a non-empty package name or path');
  const file = isPathSpecifier(specifier) ? entryOfPath(resolve(baseDir, specifier), specifier) : resolvePackage(specifier, baseDir);
  let exports: Record<string, unknown>;
  try {
    exports = await importShared(file);
  } catch (error) {
    throw new PluginError(`plugin "${specifier}" (${file}) failed to load: ${(error as Error).message}`);
  }
  const module = exports[PLUGIN_EXPORT];
  if (!isContainerModule(module)) {
    const names = Object.keys(exports).join(', ') || 'nothing';
    throw new PluginError(
      `plugin "${specifier}" (${file}) must export "${PLUGIN_EXPORT}", an inversify ContainerModule; ` +
        (module === undefined ? `it exports: ${names}` : `its "${PLUGIN_EXPORT}" is ${typeof module}`),
    );
  }
  return { specifier, file, module };
}

/** Duck-typed: a plugin may resolve its own copy of inversify, whose class is another object. */
function isContainerModule(x: unknown): x is ContainerModule {
  return typeof x === 'object' && x !== null && typeof (x as ContainerModule).load === 'function' && typeof (x as ContainerModule).id === 'number';
}

function entryOfPath(path: string, specifier: string): string {
  if (!existsSync(path)) throw new PluginError(`plugin "${specifier}" not found: ${path} does not exist`);
  if (!statSync(path).isDirectory()) return path;
  const pkgFile = join(path, 'package.json');
  if (existsSync(pkgFile)) {
    let pkg: { exports?: unknown; main?: unknown };
    try {
      pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports?: unknown; main?: unknown };
    } catch (error) {
      throw new PluginError(`plugin "${specifier}": ${pkgFile} is not valid JSON: ${(error as Error).message}`);
    }
    const entry = exportsEntry(pkg.exports) ?? (typeof pkg.main === 'string' ? pkg.main : undefined);
    if (entry !== undefined) {
      const file = resolve(path, entry);
      if (!existsSync(file)) throw new PluginError(`plugin "${specifier}": its package.json names ${entry}, but ${file} does not exist`);
      return file;
    }
  }
  for (const candidate of ['src/index.ts', 'index.ts', 'index.js', 'index.mjs']) {
    const file = join(path, candidate);
    if (existsSync(file)) return file;
  }
  throw new PluginError(`plugin "${specifier}": directory ${path} has no entry (no package.json "exports"/"main", no src/index.ts, index.ts or index.js)`);
}

/**
 * The "." entry of a package.json "exports" field: a string, or conditions (nested ones too,
 * e.g. `{ "import": { "types": ..., "default": ... } }`) of which import, node or default is taken.
 */
function exportsEntry(exports: unknown): string | undefined {
  if (typeof exports !== 'object' || exports === null) return conditionTarget(exports);
  return conditionTarget((exports as Record<string, unknown>)['.'] ?? exports);
}

function conditionTarget(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (typeof target !== 'object' || target === null) return undefined;
  for (const condition of ['import', 'node', 'default']) {
    const entry = conditionTarget((target as Record<string, unknown>)[condition]);
    if (entry !== undefined) return entry;
  }
  return undefined;
}

function resolvePackage(name: string, baseDir: string): string {
  // Walk up from baseDir like Node does, then read the package's entry ourselves: its
  // "exports" may offer only an "import" condition, which require.resolve does not see.
  for (let dir = resolve(baseDir); ; dir = dirname(dir)) {
    const pkg = join(dir, 'node_modules', name);
    if (existsSync(join(pkg, 'package.json'))) return entryOfPath(pkg, name);
    if (dirname(dir) === dir) break;
  }
  try {
    // Installed beside the framework rather than in the user's project, or a subpath.
    return createRequire(import.meta.url).resolve(name);
  } catch {
    throw new PluginError(`plugin "${name}" not found: no package of that name is installed (looked from ${resolve(baseDir)}); to load a file or directory, start the path with ./ or /`);
  }
}
