import { InvalidValueError, ShapeError } from './errors.js';

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
