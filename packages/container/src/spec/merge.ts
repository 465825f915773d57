import { InvalidValueError } from '@boltzmann/tensor';
import type { RunSpec } from './types.js';

/** A JSON object (not an array, not null). */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * `override` (a parsed spec file, possibly partial) laid over `base` (usually `defaultSpec()`):
 * objects merge key by key, arrays and scalars replace, and an object whose "type" differs
 * from the base's replaces it whole (so `{ "type": "pcd" }` does not inherit CD's options).
 * `"backend": "name"` is shorthand for `{ "name": "name" }`. Returns a new object; the
 * result is checked by `validateSpec`, not here.
 */
export function mergeSpec(base: RunSpec, override: unknown): unknown {
  if (override === undefined) return structuredClone(base);
  if (!isPlainObject(override)) throw new InvalidValueError(`a run spec must be a JSON object, got ${Array.isArray(override) ? 'an array' : JSON.stringify(override)}`);
  const o = { ...override };
  if (typeof o['backend'] === 'string') o['backend'] = { name: o['backend'] };
  return mergeValue(structuredClone(base), o);
}

function mergeValue(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(override)) return structuredClone(override);
  if (typeof override['type'] === 'string' && override['type'] !== base['type']) return structuredClone(override);
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = mergeValue(base[key], value);
  return out;
}
