import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * `require` when this file runs as CommonJS (test runners such as mocha with tsx compile
 * TypeScript to CommonJS), undefined when it runs as an ES module (the CLI).
 */
const commonJsRequire: NodeJS.Require | undefined = typeof require === 'function' ? require : undefined;

/**
 * Imports a package (by name) or a file (by absolute path) in the module system this package
 * itself was loaded in. A dynamic `import()` from CommonJS-compiled code would load a second,
 * ES-module copy of @boltzmann/core and @boltzmann/tensor: a plugin's layers would then build
 * other `Matrix` classes and fill other registries than the framework's.
 */
export async function importShared(specifier: string): Promise<Record<string, unknown>> {
  if (commonJsRequire !== undefined) {
    try {
      return commonJsRequire(specifier) as Record<string, unknown>;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // An ES-only module (top-level await...): fall back to import().
      if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw error;
    }
  }
  return (await import(isAbsolute(specifier) ? pathToFileURL(specifier).href : specifier)) as Record<string, unknown>;
}
