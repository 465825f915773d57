import '@boltzmann/backend-cpu'; // registers "cpu"
import { createBackend, listBackends } from '@boltzmann/tensor';
import { importShared } from '../shared-import.js';
import type { BackendBinding } from '../tokens.js';

/** Bindings that wrap an entry of the tensor backend registry (never registered back into it). */
const registryBindings = new WeakSet<BackendBinding>();

/** A binding that creates the registered backend `name` through `createBackend`. */
export function registryBackendBinding(name: string): BackendBinding {
  const binding: BackendBinding = { name, factory: (options) => createBackend(name, options) };
  registryBindings.add(binding);
  return binding;
}

/** Whether `binding` came from the tensor backend registry (so it is there already). */
export function isRegistryBackend(binding: BackendBinding): boolean {
  return registryBindings.has(binding);
}

/** Why an optional backend package could not be imported, by package name. */
export const backendLoadFailures = new Map<string, string>();

/**
 * Imports the optional backend packages, which register themselves when imported (the CPU
 * one is imported statically): the gpu.js one when `optional` is set and it loads (a failure is recorded, not thrown, so
 * a machine without its native pieces still runs on the CPU).
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

/** Bindings for every backend in the tensor registry, plus "auto" (the best available one). */
export function registeredBackendBindings(): BackendBinding[] {
  return ['auto', ...listBackends()].map(registryBackendBinding);
}
