/**
 * How the repository's tests run the `boltzmann` command as a child process: from its sources
 * (tsx, the packages by their `@boltzmann/source` condition), so a test never runs a stale
 * dist/. The installed command (bin/boltzmann.mjs -> dist) is checked by packaging.test.ts.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Node's options that load TypeScript sources and resolve the packages to src/. */
export const SOURCE_NODE_OPTIONS = ['--conditions=@boltzmann/source', '--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];

/** The CLI's entry file in the sources. */
export const CLI_MAIN = join(root, 'packages/cli/src/main.ts');

/** Node's arguments that run the command: `spawn(process.execPath, [...CLI_FROM_SOURCE, ...args])`. */
export const CLI_FROM_SOURCE = [...SOURCE_NODE_OPTIONS, CLI_MAIN];

/** The environment for such a child: tsx reads the repository's tsconfig (decorators). */
export function sourceEnv(): NodeJS.ProcessEnv {
  return { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') };
}
