import { InvalidValueError, Matrix, ShapeError, assertFinite } from '@boltzmann/tensor';

/**
 * Checks host data handed to a public entry: a Matrix, `cols` columns (when given), at least
 * one row, no NaN/Inf. `what` names the argument in the message ("training data").
 */
export function checkMatrix(what: string, m: unknown, cols?: number): asserts m is Matrix {
  if (!(m instanceof Matrix)) throw new InvalidValueError(`${what} must be a Matrix, got ${describe(m)}`);
  if (cols !== undefined && m.cols !== cols) {
    throw new ShapeError(`${what} has ${m.cols} columns but the layer has ${cols} units`);
  }
  assertFinite(what, m);
}

/** Throws unless `x` is a finite number in [lo, hi] (options such as a learning rate). */
export function checkNumber(what: string, x: unknown, lo = -Infinity, hi = Infinity): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < lo || x > hi) {
    throw new InvalidValueError(`${what} must be a finite number in [${lo}, ${hi}], got ${String(x)}`);
  }
  return x;
}

/** Throws unless `x` is an integer in [lo, hi] (batch sizes, step counts). */
export function checkInteger(what: string, x: unknown, lo = 1, hi = Number.MAX_SAFE_INTEGER): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < lo || x > hi) {
    throw new InvalidValueError(`${what} must be an integer in [${lo}, ${hi}], got ${String(x)}`);
  }
  return x;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'an object';
  return typeof x;
}
