import type { Backend } from './backend.js';
import { InvalidValueError } from './errors.js';
import type { PrecisionChoice } from './matrix.js';

/** Options every backend factory understands. */
export interface BackendOptions {
  /** A backend that cannot give the precision asked for throws a clear error; none silently gives another. */
  precision?: PrecisionChoice;
}

/** How a backend package announces itself. */
export interface BackendEntry {
  /** e.g. "cpu", "gpu.js:webasm". */
  name: string;
  /** Higher wins in `auto` among those available. */
  priority: number;
  /** Whether it can run on this machine (e.g. a GPU is present); cheap, no side effects. */
  available(): boolean;
  create(options?: BackendOptions): Backend;
}

const entries = new Map<string, BackendEntry>();

/** Adds a backend (a backend package calls this when imported). */
export function registerBackend(entry: BackendEntry): void {
  entries.set(entry.name, entry);
}

/** The registered backends, best first (what a component set's built-in backends start from). */
export function registeredBackends(): BackendEntry[] {
  return [...entries.values()].sort((a, b) => b.priority - a.priority);
}

/** Names of the registered backends, best first. */
export function listBackends(): string[] {
  return [...entries.values()].sort((a, b) => b.priority - a.priority).map((e) => e.name);
}

/**
 * Creates a backend by name; "auto" picks the available one with the highest priority.
 * Unknown names give an error listing what is registered.
 */
export function createBackend(name = 'auto', options?: BackendOptions): Backend {
  if (name === 'auto') {
    const best = [...entries.values()].filter((e) => e.available()).sort((a, b) => b.priority - a.priority)[0];
    if (!best) throw new InvalidValueError('no backend is registered: import @boltzmann/backend-cpu or another backend package');
    return best.create(options);
  }
  const entry = entries.get(name);
  if (!entry) throw new InvalidValueError(`unknown backend "${name}"; registered: ${listBackends().join(', ') || 'none'}`);
  if (!entry.available()) throw new InvalidValueError(`backend "${name}" is not available on this machine`);
  return entry.create(options);
}
