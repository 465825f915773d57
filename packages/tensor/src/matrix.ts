import { InvalidValueError, ShapeError } from './errors.js';

/** Host-side element storage: float32 by default, float64 where a model asks for it. */
export type FloatArray = Float32Array | Float64Array;

/**
 * Precision of a backend: the element type of its tensors, float32 or float64; or
 * "bfloat16-mixed": float32 tensors, parameters and element-wise work, with matrix products
 * that round their operands to bfloat16 (nearest even) and accumulate in float32. Host
 * matrices of a bfloat16-mixed backend are float32.
 */
export type Precision = 'float32' | 'float64' | 'bfloat16-mixed';

/**
 * What a user may ask a backend for: a precision, or "best-available" for bfloat16-mixed
 * where the backend has a fast mixed-precision kernel here and float32 elsewhere (the
 * backend's `precision` then says which one it got).
 */
export type PrecisionChoice = Precision | 'best-available';

/** Every value of `PrecisionChoice`, for validating user input. */
export const PRECISION_CHOICES: readonly PrecisionChoice[] = ['float32', 'float64', 'bfloat16-mixed', 'best-available'];

/**
 * A dense row-major matrix in host memory. Rows are examples, columns are units.
 * This is what users hand in and what `Backend.read` hands back.
 */
export class Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: FloatArray;

  constructor(rows: number, cols: number, data?: FloatArray) {
    assertDimension('rows', rows);
    assertDimension('cols', cols);
    const size = rows * cols;
    if (data !== undefined && data.length !== size) {
      throw new ShapeError(`Matrix ${rows}x${cols} needs ${size} elements, got ${data.length}`);
    }
    this.rows = rows;
    this.cols = cols;
    this.data = data ?? new Float32Array(size);
  }

  /** A rows x cols matrix of zeros in the given precision (float32 for bfloat16-mixed). */
  static zeros(rows: number, cols: number, precision: Precision = 'float32'): Matrix {
    return new Matrix(rows, cols, precision === 'float64' ? new Float64Array(rows * cols) : new Float32Array(rows * cols));
  }

  /** Copies nested arrays (one inner array a row) into a float32 matrix. */
  static fromRows(rows: ReadonlyArray<ArrayLike<number>>): Matrix {
    if (rows.length === 0) throw new ShapeError('Matrix.fromRows needs at least one row');
    const cols = rows[0]!.length;
    const m = new Matrix(rows.length, cols);
    rows.forEach((row, r) => {
      if (row.length !== cols) throw new ShapeError(`Matrix.fromRows: row ${r} has ${row.length} values, row 0 has ${cols}`);
      for (let c = 0; c < cols; c++) m.data[r * cols + c] = row[c]!;
    });
    return m;
  }

  get size(): number {
    return this.rows * this.cols;
  }

  get(r: number, c: number): number {
    return this.data[r * this.cols + c]!;
  }

  set(r: number, c: number, value: number): void {
    this.data[r * this.cols + c] = value;
  }

  /** A view of one row (no copy). */
  row(r: number): FloatArray {
    return this.data.subarray(r * this.cols, (r + 1) * this.cols);
  }

  /** A copy of rows [start, end). */
  sliceRows(start: number, end: number): Matrix {
    if (start < 0 || end > this.rows || start >= end) {
      throw new ShapeError(`sliceRows(${start}, ${end}) is outside a matrix of ${this.rows} rows`);
    }
    return new Matrix(end - start, this.cols, this.data.slice(start * this.cols, end * this.cols));
  }

  /** A copy holding the given rows in the given order. */
  gatherRows(indices: ArrayLike<number>): Matrix {
    const out = new Matrix(indices.length, this.cols, new (this.data.constructor as Float32ArrayConstructor)(indices.length * this.cols));
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i]!;
      if (!(r >= 0 && r < this.rows)) throw new ShapeError(`gatherRows: row ${r} is outside a matrix of ${this.rows} rows`);
      out.data.set(this.row(r), i * this.cols);
    }
    return out;
  }

  transpose(): Matrix {
    const out = new Matrix(this.cols, this.rows, new (this.data.constructor as Float32ArrayConstructor)(this.size));
    for (let r = 0; r < this.rows; r++) for (let c = 0; c < this.cols; c++) out.data[c * this.rows + r] = this.data[r * this.cols + c]!;
    return out;
  }

  clone(): Matrix {
    return new Matrix(this.rows, this.cols, this.data.slice());
  }

  toFloat64(): Matrix {
    return new Matrix(this.rows, this.cols, Float64Array.from(this.data));
  }

  toFloat32(): Matrix {
    return new Matrix(this.rows, this.cols, Float32Array.from(this.data));
  }

  /** Nested arrays, one inner array a row (for printing and JSON). */
  toArray(): number[][] {
    return Array.from({ length: this.rows }, (_, r) => Array.from(this.row(r)));
  }
}

/** Throws unless `n` is a positive integer (a matrix dimension, a layer size...). */
export function assertDimension(name: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0) {
    throw new InvalidValueError(`${name} must be a positive integer, got ${n}`);
  }
}

/** Throws unless `m` is rows x cols; `what` names the operand in the message. */
export function assertShape(what: string, m: { rows: number; cols: number }, rows: number | undefined, cols: number | undefined): void {
  if ((rows !== undefined && m.rows !== rows) || (cols !== undefined && m.cols !== cols)) {
    throw new ShapeError(`${what} must be ${rows ?? '?'}x${cols ?? '?'}, got ${m.rows}x${m.cols}`);
  }
}

/** Throws on the first NaN or Inf, naming the operand and the (row, col) where it sits. */
export function assertFinite(what: string, m: Matrix): void {
  const d = m.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      throw new InvalidValueError(`${what} has ${d[i]} at row ${Math.floor(i / m.cols)}, col ${i % m.cols}`);
    }
  }
}

/** Throws on the first value outside [lo, hi], naming the operand and the (row, col). */
export function assertRange(what: string, m: Matrix, lo: number, hi: number): void {
  const d = m.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!(v >= lo && v <= hi)) {
      throw new InvalidValueError(`${what} must lie in [${lo}, ${hi}], got ${v} at row ${Math.floor(i / m.cols)}, col ${i % m.cols}`);
    }
  }
}
