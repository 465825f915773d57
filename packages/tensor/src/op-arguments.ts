import { InvalidValueError, ShapeError } from './errors.js';
import type { MatmulOptions, Tensor } from './backend.js';

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

/** A product's options resolved, with its sizes: op(a) is m x k, op(b) k x n. */
export interface MatmulShape {
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  alpha: number;
  beta: number;
}

/** Checks a `matmul`'s arguments (finite alpha and beta, inner dimensions, out's shape) and resolves its options. */
export function checkMatmul(a: Tensor, b: Tensor, out: Tensor, options: MatmulOptions): MatmulShape {
  const { transposeA = false, transposeB = false, alpha = 1, beta = 0 } = options;
  checkOpFinite('matmul', 'alpha', alpha);
  checkOpFinite('matmul', 'beta', beta);
  const m = transposeA ? a.cols : a.rows;
  const k = transposeA ? a.rows : a.cols;
  const kb = transposeB ? b.cols : b.rows;
  const n = transposeB ? b.rows : b.cols;
  if (k !== kb) throw new ShapeError(`matmul: inner dimensions ${k} and ${kb} differ (a is ${a.rows}x${a.cols}${transposeA ? ' transposed' : ''}, b is ${b.rows}x${b.cols}${transposeB ? ' transposed' : ''})`);
  checkOpShape('matmul', 'out', out, m, n);
  return { m, k, n, transposeA, transposeB, alpha, beta };
}
