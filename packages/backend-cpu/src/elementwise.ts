/**
 * Element-wise kernels over typed arrays. Each op gets its own loop (a switch outside the
 * loop, not a function call per element) so V8 compiles a tight loop per op. Outputs may be
 * the inputs (in-place ops are allowed by the Backend contract): every loop reads element i
 * before it writes element i and touches nothing else.
 */
import { InvalidValueError, type BinaryOp, type FloatArray, type UnaryOp } from '@boltzmann/tensor';

/**
 * dst = op(src + bias), bias (length `cols`) added to every row when given: with a bias this
 * is the fused epilogue of `linear`, without it plain `unary`. `src` may be `dst`.
 */
export function applyUnary(op: UnaryOp, src: FloatArray, dst: FloatArray, cols: number, bias?: FloatArray): void {
  const n = src.length;
  const width = cols;
  if (bias !== undefined && op !== 'identity' && dst instanceof Float32Array) {
    // float32: the input src + bias rounded to float32 first (storing it in dst rounds it), as the
    // native kernel does and as `linear` without an activation stores it, so linear with any
    // activation fused gives the same bits as linear then unary. (identity's own loop stores the
    // sum in dst, which rounds it the same way.)
    for (let o = 0; o < n; o += width) for (let j = 0; j < width; j++) dst[o + j] = src[o + j] + bias[j];
    applyUnary(op, dst, dst, width);
    return;
  }
  const b = bias ?? negativeZeroRow(width);
  switch (op) {
    case 'identity':
      if (bias === undefined) {
        if (src !== dst) dst.set(src);
        return;
      }
      for (let o = 0; o < n; o += width) for (let j = 0; j < width; j++) dst[o + j] = src[o + j] + b[j];
      return;
    case 'sigmoid':
      for (let o = 0; o < n; o += width) for (let j = 0; j < width; j++) dst[o + j] = 1 / (1 + Math.exp(-(src[o + j] + b[j])));
      return;
    case 'softplus':
      // log(1 + e^x) without overflow: x + log1p(e^-x) for x > 0.
      for (let o = 0; o < n; o += width) {
        for (let j = 0; j < width; j++) {
          const x = src[o + j] + b[j];
          dst[o + j] = x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
        }
      }
      return;
    case 'relu':
      for (let o = 0; o < n; o += width) {
        for (let j = 0; j < width; j++) {
          const x = src[o + j] + b[j];
          dst[o + j] = x > 0 ? x : 0;
        }
      }
      return;
    case 'exp':
      for (let o = 0; o < n; o += width) for (let j = 0; j < width; j++) dst[o + j] = Math.exp(src[o + j] + b[j]);
      return;
    case 'log':
      for (let o = 0; o < n; o += width) for (let j = 0; j < width; j++) dst[o + j] = Math.log(src[o + j] + b[j]);
      return;
    case 'tanh':
      for (let o = 0; o < n; o += width) for (let j = 0; j < width; j++) dst[o + j] = Math.tanh(src[o + j] + b[j]);
      return;
    case 'neg':
      for (let o = 0; o < n; o += width) for (let j = 0; j < width; j++) dst[o + j] = -(src[o + j] + b[j]);
      return;
    case 'square':
      for (let o = 0; o < n; o += width) {
        for (let j = 0; j < width; j++) {
          const x = src[o + j] + b[j];
          dst[o + j] = x * x;
        }
      }
      return;
    case 'sqrt':
      for (let o = 0; o < n; o += width) for (let j = 0; j < width; j++) dst[o + j] = Math.sqrt(src[o + j] + b[j]);
      return;
    case 'abs':
      for (let o = 0; o < n; o += width) for (let j = 0; j < width; j++) dst[o + j] = Math.abs(src[o + j] + b[j]);
      return;
    case 'sign':
      for (let o = 0; o < n; o += width) {
        for (let j = 0; j < width; j++) {
          const x = src[o + j] + b[j];
          dst[o + j] = x > 0 ? 1 : x < 0 ? -1 : 0;
        }
      }
      return;
    case 'reciprocal':
      for (let o = 0; o < n; o += width) for (let j = 0; j < width; j++) dst[o + j] = 1 / (src[o + j] + b[j]);
      return;
    default:
      throw new InvalidValueError(`unknown unary op "${String(op)}"`);
  }
}

let negativeZeros = new Float64Array(0);

/**
 * A shared row standing in for "no bias", so one loop serves both cases. It holds -0, not 0:
 * x + (-0) is exactly x for every x, -0 included (x + 0 would turn -0 into +0, and 1 / x
 * would then give +Infinity where the reference gives -Infinity).
 */
function negativeZeroRow(length: number): Float64Array {
  if (negativeZeros.length < length) negativeZeros = new Float64Array(length).fill(-0);
  return negativeZeros;
}

/** dst = op(a, b) element by element; `dst` may be `a` or `b`. */
export function applyBinary(op: BinaryOp, a: FloatArray, b: FloatArray, dst: FloatArray): void {
  const n = a.length;
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) dst[i] = a[i] + b[i];
      return;
    case 'sub':
      for (let i = 0; i < n; i++) dst[i] = a[i] - b[i];
      return;
    case 'mul':
      for (let i = 0; i < n; i++) dst[i] = a[i] * b[i];
      return;
    case 'div':
      for (let i = 0; i < n; i++) dst[i] = a[i] / b[i];
      return;
    case 'max':
      // Math.max, not a comparison: NaN must come through.
      for (let i = 0; i < n; i++) dst[i] = Math.max(a[i], b[i]);
      return;
    case 'min':
      for (let i = 0; i < n; i++) dst[i] = Math.min(a[i], b[i]);
      return;
    default:
      throw new InvalidValueError(`unknown binary op "${String(op)}"`);
  }
}

/** dst = alpha * x + beta * y. */
export function axpby(alpha: number, x: FloatArray, beta: number, y: FloatArray, dst: FloatArray): void {
  const n = x.length;
  for (let i = 0; i < n; i++) dst[i] = alpha * x[i] + beta * y[i];
}

/** dst = scale * a + shift. */
export function affine(a: FloatArray, scale: number, shift: number, dst: FloatArray): void {
  const n = a.length;
  for (let i = 0; i < n; i++) dst[i] = scale * a[i] + shift;
}

/** dst[r, j] = a[r, j] * row[j]. */
export function mulRow(a: FloatArray, row: FloatArray, cols: number, dst: FloatArray): void {
  const n = a.length;
  for (let o = 0; o < n; o += cols) for (let j = 0; j < cols; j++) dst[o + j] = a[o + j] * row[j];
}

/** dst[r, j] = a[r, j] * col[r]. */
export function mulCol(a: FloatArray, col: FloatArray, cols: number, dst: FloatArray): void {
  const n = a.length;
  for (let o = 0, r = 0; o < n; o += cols, r++) {
    const s = col[r];
    for (let j = 0; j < cols; j++) dst[o + j] = a[o + j] * s;
  }
}
