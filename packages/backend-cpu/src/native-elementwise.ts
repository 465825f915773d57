/**
 * Vectorized float32 element-wise kernels from the native addon, for the CPU backend's hot
 * non-product ops in a training step: the bias + sigmoid epilogue of `linear` (and `unary`
 * sigmoid), `axpby`, `sampleBernoulli` with a tensor of probabilities, `unary` square and the column sums of `sumColumns`. Once the products are native, these TypeScript loops are most of a
 * CD-1 step (one Math.exp per element); the native versions are about 10x faster.
 * Undefined where the addon is not built; float32 only.
 */
import { InvalidValueError, ShapeError } from '@boltzmann/tensor';
import { nativeAddon, nativeAddonUnavailableReason } from './native-addon.js';

/** One `out = alpha * x + beta * y` of `NativeElementwise.axpbyPasses`. */
export interface NativeAxpbyPass {
  readonly alpha: number;
  readonly x: Float32Array;
  readonly beta: number;
  readonly y: Float32Array;
  readonly out: Float32Array;
}

/** A float32 array and the bfloat16 copy `axpbyPasses` writes of it. */
export interface NativeRoundedCopy {
  readonly source: Float32Array;
  readonly bits: Uint16Array;
}

/** The most passes one `axpbyPasses` call takes (and the most rounded copies). */
const MAX_PASSES = 8;

/** The element-wise kernels; every method checks its sizes and throws ShapeError on a mismatch. */
export interface NativeElementwise {
  /** "avx512", "avx2" or "generic". */
  readonly name: string;
  /**
   * dst[i, j] = 1 / (1 + e^-(src[i, j] + bias[j])) over rows x cols (row-major), bias of
   * length cols or omitted; dst may be src. NaN stays NaN; within ~2 ulp of the exact value.
   */
  sigmoid(src: Float32Array, dst: Float32Array, rows: number, cols: number, bias?: Float32Array): void;
  /** out = alpha * x + beta * y over the first n elements; out may be x or y. */
  axpby(alpha: number, x: Float32Array, beta: number, y: Float32Array, out: Float32Array, n?: number): void;
  /**
   * Several axpby passes in order over the first n elements of each array (out may be x or y;
   * at most 8 passes), with the bits of calling `axpby` for each in turn, but run block by
   * block: each block of 1024 elements goes through every pass while it is in cache.
   * `rounded`: arrays (usually a pass's out) whose bfloat16 copy is written in the same trip,
   * each block rounded after its passes (what `roundToBfloat16` writes, for the products).
   */
  axpbyPasses(passes: readonly NativeAxpbyPass[], n: number, rounded?: readonly NativeRoundedCopy[]): void;
  /** bits = the first n elements of src rounded to bfloat16 (`roundToBfloat16`'s rounding, as 16 bits each). */
  roundToBfloat16(src: Float32Array, bits: Uint16Array, n?: number): void;
  /**
   * out row i = src row indices[i] (rows of `cols` elements): a memcpy per row, the rows ahead
   * prefetched, a large batch split between the threads. Every index is checked first; one past
   * the source throws a ShapeError and leaves out untouched.
   */
  gatherRows(src: Float32Array, cols: number, indices: Uint32Array, out: Float32Array): void;
  /** out[i] = 1 where uniformAt(key, i) < p[i] else 0 over the first n elements: the reference stream, bit for bit; out may be p. */
  bernoulli(key: number, p: Float32Array, out: Float32Array, n?: number): void;
  /** dst = src * src over the first n elements (the float32 rounding of the exact square); dst may be src. */
  square(src: Float32Array, dst: Float32Array, n?: number): void;
  /**
   * sums[j] = a[0, j] + a[1, j] + ... over rows x cols (row-major), in float64, the rows added
   * in order: the same bits as a float64 loop over the rows (sums holds at least cols).
   */
  sumColumns(a: Float32Array, rows: number, cols: number, sums: Float64Array): void;
}

function checkCount(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new ShapeError(`native ${what} must be a non-negative integer, got ${v}`);
}

/** One axpby pass's sizes and coefficients, checked before the kernel sees them. */
function checkPass(alpha: number, x: Float32Array, beta: number, y: Float32Array, out: Float32Array, n: number): void {
  if (x.length < n || y.length < n || out.length < n) throw new ShapeError(`native axpby: x (${x.length}), y (${y.length}) and out (${out.length}) need ${n} elements`);
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) throw new InvalidValueError(`native axpby: alpha and beta must be finite, got ${alpha} and ${beta}`);
}

/** Why `nativeElementwise()` is undefined ('' when it is available). */
export function nativeElementwiseUnavailableReason(): string {
  return nativeAddonUnavailableReason();
}

/** The kernel sets this processor runs, fastest first (empty when the addon is not built). */
export function nativeElementwiseSets(): readonly string[] {
  return nativeAddon()?.elementwise ?? [];
}

/**
 * The native element-wise kernels (the fastest set, or `set` from `nativeElementwiseSets()`),
 * or undefined where the addon is not built. Throws for an unknown set name.
 */
export function nativeElementwise(options: { set?: string } = {}): NativeElementwise | undefined {
  const native = nativeAddon();
  if (native === null) return undefined;
  const index = options.set === undefined ? 0 : native.elementwise.indexOf(options.set);
  if (index < 0) throw new InvalidValueError(`nativeElementwise: set "${options.set}" is not one of ${native.elementwise.join(', ')} on this processor`);
  const oneCoefficients = new Float64Array(2);
  const oneArrays: Float32Array[] = [];
  return {
    name: native.elementwise[index]!,
    sigmoid(src, dst, rows, cols, bias) {
      checkCount('sigmoid: rows', rows);
      checkCount('sigmoid: cols', cols);
      if (src.length < rows * cols || dst.length < rows * cols) throw new ShapeError(`native sigmoid: src (${src.length}) and dst (${dst.length}) need ${rows}x${cols} elements`);
      if (bias !== undefined && bias.length !== cols) throw new ShapeError(`native sigmoid: bias has ${bias.length} elements, expected ${cols}`);
      native.sigmoid(index, src, dst, rows, cols, bias ?? null);
    },
    axpby(alpha, x, beta, y, out, n = x.length) {
      // The hot single pass (momentum, sums, differences) reuses one coefficient and one array
      // list instead of allocating them per call; the arrays are let go after the call.
      checkCount('axpby: n', n);
      checkPass(alpha, x, beta, y, out, n);
      oneCoefficients[0] = alpha;
      oneCoefficients[1] = beta;
      oneArrays.push(x, y, out);
      try {
        native.axpbyPasses(index, oneCoefficients, oneArrays, n);
      } finally {
        oneArrays.length = 0;
      }
    },
    axpbyPasses(passes, n, rounded = []) {
      checkCount('axpby: n', n);
      if (passes.length < 1 || passes.length > MAX_PASSES) throw new InvalidValueError(`native axpbyPasses: 1 to ${MAX_PASSES} passes, got ${passes.length}`);
      if (rounded.length > MAX_PASSES) throw new InvalidValueError(`native axpbyPasses: at most ${MAX_PASSES} rounded copies, got ${rounded.length}`);
      const copies: (Float32Array | Uint16Array)[] = [];
      for (const { source, bits } of rounded) {
        if (source.length < n || bits.length < n) throw new ShapeError(`native axpbyPasses: a rounded copy's source (${source.length}) and bits (${bits.length}) need ${n} elements`);
        copies.push(source, bits);
      }
      const coefficients = new Float64Array(2 * passes.length);
      const arrays: Float32Array[] = [];
      passes.forEach(({ alpha, x, beta, y, out }, p) => {
        checkPass(alpha, x, beta, y, out, n);
        coefficients[2 * p] = alpha;
        coefficients[2 * p + 1] = beta;
        arrays.push(x, y, out);
      });
      native.axpbyPasses(index, coefficients, arrays, n, copies.length > 0 ? copies : null);
    },
    roundToBfloat16(src, bits, n = src.length) {
      checkCount('roundToBfloat16: n', n);
      if (src.length < n || bits.length < n) throw new ShapeError(`native roundToBfloat16: src (${src.length}) and bits (${bits.length}) need ${n} elements`);
      native.roundToBf16(index, src, bits, n);
    },
    gatherRows(src, cols, indices, out) {
      if (!Number.isInteger(cols) || cols < 1) throw new ShapeError(`native gatherRows: cols must be a positive integer, got ${cols}`);
      if (out.length < indices.length * cols) throw new ShapeError(`native gatherRows: out (${out.length}) needs ${indices.length}x${cols} elements`);
      const rows = Math.floor(src.length / cols);
      const bad = indices.findIndex((r) => r >= rows);
      if (bad >= 0) throw new ShapeError(`native gatherRows: index ${bad} is row ${indices[bad]}, outside a source of ${rows} rows`);
      native.gatherRows(src, cols, indices, out);
    },
    bernoulli(key, p, out, n = out.length) {
      checkCount('bernoulli: n', n);
      if (p.length < n || out.length < n) throw new ShapeError(`native bernoulli: p (${p.length}) and out (${out.length}) need ${n} elements`);
      if (!Number.isInteger(key) || key < -(2 ** 31) || key >= 2 ** 32) throw new InvalidValueError(`native bernoulli: key must be a 32-bit integer, got ${key}`);
      native.bernoulli(index, key, p, out, n);
    },
    square(src, dst, n = src.length) {
      checkCount('square: n', n);
      if (src.length < n || dst.length < n) throw new ShapeError(`native square: src (${src.length}) and dst (${dst.length}) need ${n} elements`);
      native.square(index, src, dst, n);
    },
    sumColumns(a, rows, cols, sums) {
      checkCount('sumColumns: rows', rows);
      checkCount('sumColumns: cols', cols);
      if (a.length < rows * cols || sums.length < cols) throw new ShapeError(`native sumColumns: a (${a.length}) needs ${rows}x${cols} elements and sums (${sums.length}) ${cols}`);
      native.sumColumns(index, a, rows, cols, sums);
    },
  };
}
