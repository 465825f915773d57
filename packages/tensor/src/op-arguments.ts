import { InvalidValueError, ShapeError } from './errors.js';
import type { Tensor } from './backend.js';

/**
 * Argument checks that every backend's ops make, in one wording, so a user gets the same error
 * from each backend. `op` names the op ("axpby"), `what` the argument ("out").
 */

/** Refuses `x` unless it is `rows` x `cols`. */
export function checkOpShape(op: string, what: string, x: { rows: number; cols: number }, rows: number, cols: number): void {
  if (x.rows !== rows || x.cols !== cols) throw new ShapeError(`${op}: ${what} must be ${rows}x${cols}, got ${x.rows}x${x.cols}`);
}

/** Refuses a scalar argument that is not a finite number. */
export function checkOpFinite(op: string, what: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidValueError(`${op}: ${what} must be a finite number, got ${v}`);
}

/** The number of groups of `groupSize` columns in `a`; refuses a size that does not divide its columns. */
export function opGroupCount(op: string, a: { cols: number }, groupSize: number): number {
  if (!Number.isInteger(groupSize) || groupSize <= 0 || a.cols % groupSize !== 0) {
    throw new ShapeError(`${op}: group size ${groupSize} does not divide ${a.cols} columns`);
  }
  return a.cols / groupSize;
}

/** A tensor that knows the backend instance that made it (`maker`) and the name of that backend (`owner`). */
export interface OwnedTensor extends Tensor {
  readonly owner: string;
  readonly maker: object;
  readonly disposed: boolean;
}

/**
 * `x` as a tensor of class `kind` made by the backend instance `maker` (named `name`); refuses a
 * tensor of another backend, or of another instance of the same name (their layouts or
 * precisions may differ). With `live`, also refuses any tensor once that backend is destroyed,
 * and a disposed tensor.
 */
export function checkOpOwner<T extends OwnedTensor>(
  op: string,
  what: string,
  x: Tensor,
  kind: abstract new (...args: never[]) => T,
  maker: object & { readonly name: string },
  live?: { destroyed: boolean },
): T {
  if (live?.destroyed === true) throw new InvalidValueError(`${op}: backend "${maker.name}" was destroyed`);
  if (!(x instanceof kind) || x.maker !== maker) {
    const whose = x instanceof kind && x.owner === maker.name ? 'another backend instance of the same name' : `backend "${x.owner}"`;
    throw new InvalidValueError(`${op}: ${what} is not a tensor of backend "${maker.name}" (it belongs to ${whose})`);
  }
  if (live !== undefined && x.disposed) throw new InvalidValueError(`${op}: ${what} (${x.rows}x${x.cols}) was disposed`);
  return x;
}
