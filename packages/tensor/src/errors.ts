/**
 * Errors thrown by every boltzmann.ts package. Each names the problem so a user can act on it.
 */

/** Base class: lets callers catch anything the framework throws on purpose. */
export class BoltzmannError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Operands whose shapes do not fit together (e.g. data with 783 columns for 784 visible units). */
export class ShapeError extends BoltzmannError {}

/** A value that is not allowed: NaN/Inf, out of a unit's range, a non-positive size... */
export class InvalidValueError extends BoltzmannError {}

/** Training produced NaN/Inf; the message names where, and the last good state is kept. */
export class DivergenceError extends BoltzmannError {}

/** A file that is missing, truncated or corrupt; the message names the file and, where known, the byte offset. */
export class FormatError extends BoltzmannError {}
