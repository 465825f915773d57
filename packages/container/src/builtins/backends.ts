import '@boltzmann/backend-cpu'; // registers "cpu" with @boltzmann/tensor: a built-in backend
import { importShared } from '../shared-import.js';

/** Why an optional backend package could not be imported, by package name. */
export const backendLoadFailures = new Map<string, string>();

/**
 * Imports the optional backend packages, which register themselves with @boltzmann/tensor as
 * built-in backends when imported (the CPU one is imported statically): the gpu.js one when
 * `optional` is set and it loads (a failure is recorded, not thrown, so a machine without its
 * native pieces still runs on the CPU).
 */
export async function importBackendPackages(optional: boolean): Promise<void> {
  if (!optional) return;
  const name = '@boltzmann/backend-gpu';
  try {
    await importShared(name);
    backendLoadFailures.delete(name);
  } catch (error) {
    backendLoadFailures.set(name, (error as Error).message.split('\n')[0]!);
  }
}
