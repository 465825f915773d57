/**
 * Argument checks shared by the float32-only fast kernels (native and WebAssembly): they hand
 * raw memory to code that trusts its sizes, so everything is checked here first.
 */
import { InvalidValueError, ShapeError, type FloatArray } from '@boltzmann/tensor';
import type { GemmArgs } from './gemm.js';

function checkDimension(kernel: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${kernel}: ${what} must be a non-negative integer, got ${v}`);
}

/** Whether two typed arrays share any byte of memory. */
function overlaps(x: FloatArray, y: FloatArray): boolean {
  if (x.buffer !== y.buffer) return false;
  return x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}

/**
 * Throws a ShapeError / InvalidValueError naming the problem unless `args` describe a valid
 * float32 product: integer sizes, arrays long enough for them, finite alpha and beta, and a
 * C that shares no memory with A or B.
 */
export function checkFloat32GemmArgs(kernel: string, args: GemmArgs): asserts args is GemmArgs<Float32Array> {
  const { m, n, k, a, b, c, alpha, beta } = args;
  checkDimension(kernel, 'm', m);
  checkDimension(kernel, 'n', n);
  checkDimension(kernel, 'k', k);
  if (!(a instanceof Float32Array) || !(b instanceof Float32Array) || !(c instanceof Float32Array)) {
    throw new InvalidValueError(`${kernel}: handles Float32Array operands only (got ${a.constructor.name}, ${b.constructor.name}, ${c.constructor.name})`);
  }
  if (a.length < m * k) throw new ShapeError(`${kernel}: A holds ${a.length} elements, op(A) ${m}x${k} needs ${m * k}`);
  if (b.length < k * n) throw new ShapeError(`${kernel}: B holds ${b.length} elements, op(B) ${k}x${n} needs ${k * n}`);
  if (c.length < m * n) throw new ShapeError(`${kernel}: C holds ${c.length} elements, ${m}x${n} needs ${m * n}`);
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) throw new InvalidValueError(`${kernel}: alpha and beta must be finite, got ${alpha} and ${beta}`);
  if (m * n > 0 && (overlaps(c, a) || overlaps(c, b))) throw new InvalidValueError(`${kernel}: C must not share memory with A or B`);
}

/** Refuses a sigmoid epilogue on a kernel without one (`Gemm.fusesSigmoid` unset), which would otherwise leave C without it. */
export function refuseSigmoidEpilogue(kernel: string, args: GemmArgs): void {
  if (args.sigmoid !== undefined) throw new InvalidValueError(`${kernel}: has no sigmoid epilogue (fusesSigmoid is not set); apply the sigmoid after the product`);
}
