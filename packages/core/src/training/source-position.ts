import { InvalidValueError } from '@boltzmann/tensor';

/** A value JSON can hold (what a source position is made of). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * Where a run stands in a data source that lives outside the process (a message broker): which
 * messages the model has trained on. Core keeps it opaque: the trainer carries it
 * (`Trainer.sourcePosition`), a checkpoint saves it beside the epoch and step counters, and a
 * resumed trainer hands it back to the source, which alone reads it (a Redis stream's last
 * trained entry id, a JetStream consumer's sequence number). `type` names the kind of source
 * that wrote it, so a run is never resumed from another kind.
 */
export interface SourcePosition {
  readonly type: string;
  readonly [key: string]: JsonValue;
}

/** Largest source position a checkpoint holds, in bytes of JSON (a position is a few ids, not data). */
export const MAX_SOURCE_POSITION_BYTES = 64 * 1024;

/**
 * Checks that `x` is a source position (an object with a non-empty string `type`, holding only
 * JSON values: no NaN/Infinity, undefined, functions or cycles, at most
 * {@link MAX_SOURCE_POSITION_BYTES} as JSON) and returns a deep copy of it. `what` names it in
 * the error ("the source position in model.json").
 */
export function checkSourcePosition(x: unknown, what: string): SourcePosition {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new InvalidValueError(`${what} must be an object { "type": ..., ... }, got ${describe(x)}`);
  const type = (x as { type?: unknown }).type;
  if (typeof type !== 'string' || type === '') throw new InvalidValueError(`${what} must have a non-empty string "type", got ${describe(type)}`);
  const copy = copyJson(x, what, 0) as SourcePosition;
  const bytes = JSON.stringify(copy).length;
  if (bytes > MAX_SOURCE_POSITION_BYTES) throw new InvalidValueError(`${what} is ${bytes} bytes of JSON; a source position holds at most ${MAX_SOURCE_POSITION_BYTES}`);
  return copy;
}

/** Depth beyond which a position is refused (a position is a few flat fields). */
const MAX_DEPTH = 16;

function copyJson(x: unknown, what: string, depth: number): JsonValue {
  if (depth > MAX_DEPTH) throw new InvalidValueError(`${what} is nested more than ${MAX_DEPTH} levels deep`);
  if (x === null || typeof x === 'boolean' || typeof x === 'string') return x;
  if (typeof x === 'number') {
    if (!Number.isFinite(x)) throw new InvalidValueError(`${what} holds the number ${x}, which JSON cannot hold`);
    return x;
  }
  if (Array.isArray(x)) return x.map((v) => copyJson(v, what, depth + 1));
  if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(x)) out[k] = copyJson(v, what, depth + 1);
    return out;
  }
  throw new InvalidValueError(`${what} holds ${describe(x)}, which is not a JSON value`);
}

function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (typeof x === 'function') return 'a function';
  if (typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) !== Object.prototype) return `an instance of ${x.constructor?.name ?? 'a class'}`;
  try {
    const s = JSON.stringify(x) ?? String(x);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return 'a value that is not JSON';
  }
}
