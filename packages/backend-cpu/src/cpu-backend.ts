import {
  InvalidValueError,
  Matrix,
  ShapeError,
  assertDimension,
  nextKey,
  unaryReference,
  checkMatmul,
  checkOpFinite,
  checkOpOwner,
  opGroupCount,
  type AxpbyPass,
  type Backend,
  type BinaryOp,
  type FloatArray,
  type LinearOptions,
  type MatmulOptions,
  type MemoryInfo,
  type Precision,
  type PrecisionChoice,
  type ReduceOp,
  type RngState,
  type Tensor,
  type UnaryOp,
} from '@boltzmann/tensor';
import { CpuTensor, cpuTensorElements } from './cpu-tensor.js';
import * as elementwise from './elementwise.js';
import type { Gemm, GemmArgs } from './gemm.js';
import { bfloat16Hardware } from './gemm-native.js';
import { probeArray, selectGemm } from './gemm-select.js';
import { nativeElementwise, nativeElementwiseSets, type NativeElementwise } from './native-elementwise.js';
import * as random from './random.js';
import * as reductions from './reductions.js';

/** Options of `new CpuBackend(...)`. */
export interface CpuBackendOptions {
  /**
   * "float32" (default); "float64"; "bfloat16-mixed": float32 tensors and element-wise work,
   * matrix products on bfloat16 operands with float32 accumulation, on the processor's
   * bfloat16 instructions (AVX512-BF16) - an error where it has none; "best-available":
   * bfloat16-mixed where the processor has them, float32 elsewhere (`precision` says which).
   */
  precision?: PrecisionChoice;
  /**
   * The matrix-product kernel; default: the fastest available one for the precision
   * (`selectGemm`, or for bfloat16-mixed the fastest hardware kernel of `nativeBf16Kernels()`).
   * A bfloat16-mixed backend needs a kernel whose `operands` is "bfloat16" (e.g.
   * `nativeBf16Gemm({ kernel: 'bf16-emulated-4x16' })`, the portable emulation), the others
   * one without.
   */
  gemm?: Gemm;
  /** Instance name stamped on its tensors; default "cpu". */
  name?: string;
  /**
   * The kernels of the hot element-wise ops (the sigmoid epilogue of `linear`, `unary`
   * sigmoid and square, `axpby` and `axpbyPasses`, `sampleBernoulli` and the column sums of
   * `sumColumns`): a set from `nativeElementwise()` (float32 only) or "typescript" for the
   * TypeScript loops. Default: the fastest native set when the tensors are float32 and the
   * addon loads, else "typescript". Every other op always runs in TypeScript. In
   * bfloat16-mixed a native set also writes the weights' bfloat16 copies (see `CpuTensor`);
   * with "typescript" the products round the weights themselves.
   */
  elementwise?: NativeElementwise | 'typescript';
}

const EMPTY = new Float32Array(0);

/** Rows of at least this many columns are gathered with set(subarray) (measured crossover: ~30). */
const GATHER_SET_MIN_COLS = 32;

/** Smallest positive normal and largest finite float32. */
const FLOAT32_MIN_NORMAL = 2 ** -126;
const FLOAT32_MAX = (2 - 2 ** -23) * 2 ** 127;

/** The op names of the passes of one `axpbyPasses` call, made once (as many as the native kernel takes in one call). */
const PASS_OPS = Array.from({ length: 8 }, (_, i) => `axpbyPasses pass ${i}`);

/** A tensor's elements for an op that writes it, or may (see `cpuTensorElements`). */
const elementsOf = (t: CpuTensor): FloatArray => cpuTensorElements.mutable(t);
/** A tensor's elements for an op that only reads them. */
const readOnlyElementsOf = (t: CpuTensor): FloatArray => cpuTensorElements.readOnly(t);

/**
 * Whether a coefficient keeps its value to float32 rounding when the native kernels convert it
 * to float32: zero or a normal float32 magnitude (not NaN, infinite, overflowing or subnormal).
 */
function float32Coefficient(v: number): boolean {
  const magnitude = Math.abs(v);
  return v === 0 || (magnitude >= FLOAT32_MIN_NORMAL && magnitude <= FLOAT32_MAX);
}

/**
 * The Backend on plain typed arrays, in TypeScript: the fallback on every machine and the
 * speed reference for the others. Matrix products go through a pluggable `Gemm` kernel; in
 * float32 the sigmoid (of `unary` and of the `linear` epilogue) and `axpby` go through the
 * native addon's vectorized kernels where it loads (option `elementwise`); everything else is
 * a tight TypeScript loop per op. Ops allocate nothing: scratch buffers live on the backend
 * and grow to the largest size seen.
 */
export class CpuBackend implements Backend {
  readonly name: string;
  readonly precision: Precision;
  /** The matrix-product kernel in use (its `name` says which one was picked). */
  readonly gemm: Gemm;
  /**
   * Which kernels run the hot element-wise ops: "native-" and the set name (e.g.
   * "native-avx512") or "typescript".
   */
  readonly elementwise: string;
  /** The native element-wise kernels; only ever set on a float32 backend. */
  private readonly nativeEw: NativeElementwise | undefined;
  /** The addon's element-wise set that `linear`'s sigmoid runs in inside the product (fused), if any. */
  private readonly sigmoidInProduct: string | undefined;
  private destroyed = false;
  /** The tensors `zeros` and `upload` made that are not disposed yet (see `memory`). */
  private live = { numTensors: 0, numBytes: 0 };
  /** Reused for every gemm call, so a matmul allocates no argument object. */
  private readonly gemmArgs: GemmArgs = { m: 0, n: 0, k: 0, a: EMPTY, transposeA: false, b: EMPTY, transposeB: false, c: EMPTY, alpha: 1, beta: 0 };
  private columnSums = new Float64Array(0);
  /**
   * bfloat16-mixed with a kernel that packs pre-rounded operands: the tensors that were the
   * second operand of a product (weights). `axpbyPasses` rounds those of them it writes, in the
   * same trip, and the next products read that copy instead of rounding the float32 elements.
   */
  private readonly roundedOperands: WeakSet<CpuTensor> | undefined;

  constructor(options: CpuBackendOptions = {}) {
    const choice = options.precision ?? 'float32';
    if (!(['float32', 'float64', 'bfloat16-mixed', 'best-available'] as unknown[]).includes(choice)) {
      throw new InvalidValueError(`CpuBackend: precision must be "float32", "float64", "bfloat16-mixed" or "best-available", got "${String(choice)}"`);
    }
    const { precision, gemm } = CpuBackend.pickPrecision(choice, options.gemm);
    this.precision = precision;
    this.name = options.name ?? 'cpu';
    this.gemm = gemm;
    if (!this.gemm.supports(probeArray(precision))) throw new InvalidValueError(`CpuBackend: gemm kernel "${this.gemm.name}" does not handle ${precision}`);
    const mixedKernel = this.gemm.operands === 'bfloat16';
    if (mixedKernel !== (precision === 'bfloat16-mixed')) {
      throw new InvalidValueError(
        mixedKernel
          ? `CpuBackend: gemm kernel "${this.gemm.name}" rounds its operands to bfloat16; use it with precision "bfloat16-mixed", not ${precision}`
          : `CpuBackend: precision "bfloat16-mixed" needs a mixed-precision gemm kernel (nativeBf16Gemm()), not "${this.gemm.name}"`,
      );
    }
    this.nativeEw = CpuBackend.pickElementwise(precision, options.elementwise);
    this.elementwise = this.nativeEw === undefined ? 'typescript' : `native-${this.nativeEw.name}`;
    const ewName = this.nativeEw?.name;
    this.sigmoidInProduct = this.gemm.fusesSigmoid === true && ewName !== undefined && nativeElementwiseSets().includes(ewName) ? ewName : undefined;
    this.roundedOperands = precision === 'bfloat16-mixed' && this.gemm.packsRoundedB === true && this.nativeEw !== undefined ? new WeakSet() : undefined;
  }

  /** The precision a choice resolves to here, and its kernel (the one given, or the default). */
  private static pickPrecision(choice: PrecisionChoice, given: Gemm | undefined): { precision: Precision; gemm: Gemm } {
    let precision: Precision;
    if (choice !== 'best-available') precision = choice;
    else if (given !== undefined) precision = given.operands === 'bfloat16' ? 'bfloat16-mixed' : 'float32';
    else precision = 'kernel' in bfloat16Hardware() ? 'bfloat16-mixed' : 'float32';
    try {
      return { precision, gemm: given ?? selectGemm(precision) };
    } catch (error) {
      throw error instanceof InvalidValueError ? new InvalidValueError(`CpuBackend: ${error.message}`) : error;
    }
  }

  /**
   * One line saying what runs here: the precision, the matrix-product kernel and the
   * element-wise kernels, e.g. "bfloat16-mixed: products native-avx512bf16-12x32, element-wise native-avx512".
   */
  get kernels(): string {
    return `${this.precision}: products ${this.gemm.name}, element-wise ${this.elementwise}`;
  }

  private static pickElementwise(precision: Precision, choice: CpuBackendOptions['elementwise']): NativeElementwise | undefined {
    if (choice === undefined) return precision !== 'float64' ? nativeElementwise() : undefined;
    if (choice === 'typescript') return undefined;
    const given = choice as Partial<NativeElementwise> | null;
    if (given === null || typeof given !== 'object' || typeof given.sigmoid !== 'function' || typeof given.axpby !== 'function' || typeof given.axpbyPasses !== 'function' || typeof given.gatherRows !== 'function' || typeof given.bernoulli !== 'function' || typeof given.square !== 'function' || typeof given.sumColumns !== 'function' || typeof given.roundToBfloat16 !== 'function' || typeof given.name !== 'string') {
      throw new InvalidValueError(`CpuBackend: elementwise must be "typescript" or a kernel set from nativeElementwise(), got ${typeof choice === 'string' ? `"${choice}"` : String(choice)}`);
    }
    if (precision === 'float64') throw new InvalidValueError(`CpuBackend: native element-wise kernels "${given.name}" handle float32 only, not ${precision}`);
    return choice;
  }

  // --- validation ------------------------------------------------------------------------

  /** `x` as this backend's live tensor (made here, not disposed, backend not destroyed). */
  private own(x: Tensor, op: string, what: string): CpuTensor {
    return checkOpOwner(op, what, x, CpuTensor, this, { destroyed: this.destroyed });
  }

  /** `variant` (e.g. the unary op) joins the op's name in the message; passed apart so no string is built unless it throws. */
  private sameShape(op: string, what: string, x: { rows: number; cols: number }, rows: number, cols: number, variant = ''): void {
    if (x.rows !== rows || x.cols !== cols) throw new ShapeError(`${op}${variant ? ` ${variant}` : ''}: ${what} must be ${rows}x${cols}, got ${x.rows}x${x.cols}`);
  }

  private alloc(rows: number, cols: number): FloatArray {
    assertDimension('rows', rows);
    assertDimension('cols', cols);
    if (this.destroyed) throw new InvalidValueError(`backend "${this.name}" was destroyed`);
    // bfloat16-mixed keeps float32 tensors: only the products' operands are rounded, inside the kernel.
    const data = this.precision === 'float64' ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
    this.live.numTensors++;
    this.live.numBytes += data.byteLength;
    return data;
  }

  // --- memory --------------------------------------------------------------------------

  zeros(rows: number, cols: number, value = 0): Tensor {
    const data = this.alloc(rows, cols);
    if (value !== 0) data.fill(value);
    return new CpuTensor(rows, cols, data, this.name, this);
  }

  upload(m: Matrix): Tensor {
    if (m.data.length !== m.rows * m.cols) throw new ShapeError(`upload: a ${m.rows}x${m.cols} matrix needs ${m.rows * m.cols} elements, got ${m.data.length}`);
    const data = this.alloc(m.rows, m.cols);
    data.set(m.data);
    return new CpuTensor(m.rows, m.cols, data, this.name, this);
  }

  write(t: Tensor, m: Matrix): void {
    const T = this.own(t, 'write', 'target');
    this.sameShape('write', 'the matrix', m, T.rows, T.cols);
    elementsOf(T).set(m.data);
  }

  async read(t: Tensor): Promise<Matrix> {
    return this.readSync(t);
  }

  readSync(t: Tensor): Matrix {
    const T = this.own(t, 'read', 'source');
    return new Matrix(T.rows, T.cols, readOnlyElementsOf(T).slice());
  }

  /** Frees `t`; allowed after `destroy` too, so cleanup code need not care about the order. */
  dispose(t: Tensor): void {
    const T = checkOpOwner('dispose', 'target', t, CpuTensor, this);
    if (T.disposed) throw new InvalidValueError(`dispose: target (${T.rows}x${T.cols}) was already disposed`);
    if (!this.destroyed) {
      this.live.numTensors--;
      this.live.numBytes -= elementsOf(T).byteLength + cpuTensorElements.roundingBytes(T);
    }
    T.markDisposed();
  }

  destroy(): void {
    this.destroyed = true;
    this.live = { numTensors: 0, numBytes: 0 };
    this.columnSums = new Float64Array(0);
    this.gemmArgs.a = this.gemmArgs.b = this.gemmArgs.c = EMPTY;
  }

  memory(): MemoryInfo {
    return { ...this.live };
  }

  // --- copies --------------------------------------------------------------------------

  copy(src: Tensor, out: Tensor): void {
    const S = this.own(src, 'copy', 'src');
    const O = this.own(out, 'copy', 'out');
    this.sameShape('copy', 'out', O, S.rows, S.cols);
    if (S !== O) elementsOf(O).set(readOnlyElementsOf(S));
  }

  fill(out: Tensor, value: number): void {
    elementsOf(this.own(out, 'fill', 'out')).fill(value);
  }

  gatherRows(src: Tensor, indices: Uint32Array, out: Tensor): void {
    const S = this.own(src, 'gatherRows', 'src');
    const O = this.own(out, 'gatherRows', 'out');
    this.sameShape('gatherRows', 'out', O, indices.length, S.cols);
    if (S === O) throw new InvalidValueError('gatherRows: out must not be src');
    // Every index is checked before a row is copied: a bad one leaves out untouched.
    for (let i = 0; i < indices.length; i++) {
      if (indices[i]! >= S.rows) throw new ShapeError(`gatherRows: index ${i} is row ${indices[i]}, outside a source of ${S.rows} rows`);
    }
    if (this.nativeEw !== undefined) {
      this.nativeEw.gatherRows(elementsOf(S) as Float32Array, S.cols, indices, elementsOf(O) as Float32Array);
      return;
    }
    const cols = S.cols;
    const s = elementsOf(S);
    const o = elementsOf(O);
    // Wide rows: set(subarray(...)), a memcpy per row (~14x faster than an element loop at 784
    // columns). Narrow rows: an element loop, cheaper than the view object set needs per row.
    const wide = cols >= GATHER_SET_MIN_COLS;
    for (let i = 0; i < indices.length; i++) {
      const from = indices[i]! * cols;
      const to = i * cols;
      if (wide) o.set(s.subarray(from, from + cols), to);
      else for (let j = 0; j < cols; j++) o[to + j] = s[from + j]!;
    }
  }

  // --- linear algebra ------------------------------------------------------------------

  matmul(a: Tensor, b: Tensor, out: Tensor, options: MatmulOptions = {}): void {
    const A = this.own(a, 'matmul', 'a');
    const B = this.own(b, 'matmul', 'b');
    const O = this.own(out, 'matmul', 'out');
    const { m, k, n, transposeA, transposeB, alpha, beta } = checkMatmul(A, B, O, options);
    if (O === A || O === B) throw new InvalidValueError('matmul: out must not be one of its inputs');
    this.runGemm(m, n, k, readOnlyElementsOf(A), transposeA, B, transposeB, elementsOf(O), alpha, beta);
  }

  linear(x: Tensor, w: Tensor, bias: Tensor, out: Tensor, options: LinearOptions = {}): void {
    const X = this.own(x, 'linear', 'x');
    const W = this.own(w, 'linear', 'w');
    const Bias = this.own(bias, 'linear', 'bias');
    const O = this.own(out, 'linear', 'out');
    const transposeW = options.transposeW ?? false;
    const activation = options.activation ?? 'identity';
    const k = transposeW ? W.cols : W.rows;
    const n = transposeW ? W.rows : W.cols;
    if (X.cols !== k) throw new ShapeError(`linear: x has ${X.cols} columns, w${transposeW ? ' transposed' : ''} has ${k} rows`);
    this.sameShape('linear', 'bias', Bias, 1, n);
    this.sameShape('linear', 'out', O, X.rows, n);
    if (O === X || O === W || O === Bias) throw new InvalidValueError('linear: out must not be one of its inputs');
    // Checked before the product, so a typo leaves out untouched.
    if (!Object.hasOwn(unaryReference, activation)) throw new InvalidValueError(`linear: unknown activation "${String(activation)}"`);
    if (activation === 'sigmoid' && this.sigmoidInProduct !== undefined) {
      // Bias and sigmoid on each tile of the product as it is finished, on its own thread.
      this.runGemm(X.rows, n, k, readOnlyElementsOf(X), false, W, transposeW, elementsOf(O), 1, 0, { elementwiseSet: this.sigmoidInProduct, bias: readOnlyElementsOf(Bias) as Float32Array });
      return;
    }
    this.runGemm(X.rows, n, k, readOnlyElementsOf(X), false, W, transposeW, elementsOf(O), 1, 0);
    // The fused epilogue: bias and activation in one pass over the output.
    if (activation === 'sigmoid' && this.nativeEw !== undefined) {
      this.nativeEw.sigmoid(elementsOf(O) as Float32Array, elementsOf(O) as Float32Array, X.rows, n, elementsOf(Bias) as Float32Array);
    } else {
      elementwise.applyUnary(activation, elementsOf(O), elementsOf(O), n, elementsOf(Bias));
    }
  }

  /** C = alpha op(a) op(B) + beta C by the kernel; B is a tensor so that its bfloat16 copy can be used (and kept from now on). */
  private runGemm(m: number, n: number, k: number, a: FloatArray, transposeA: boolean, B: CpuTensor, transposeB: boolean, c: FloatArray, alpha: number, beta: number, sigmoid?: GemmArgs['sigmoid']): void {
    const b = readOnlyElementsOf(B);
    let bBits: Uint16Array | undefined;
    if (this.roundedOperands !== undefined) {
      this.roundedOperands.add(B);
      bBits = cpuTensorElements.roundedBits(B);
    }
    const args = this.gemmArgs;
    args.m = m;
    args.n = n;
    args.k = k;
    args.a = a;
    args.transposeA = transposeA;
    args.b = b;
    args.transposeB = transposeB;
    args.c = c;
    args.alpha = alpha;
    args.beta = beta;
    args.sigmoid = sigmoid;
    args.bBits = bBits;
    try {
      this.gemm.run(args);
    } finally {
      // Hold no operand alive between calls.
      args.a = args.b = args.c = EMPTY;
      args.sigmoid = undefined;
      args.bBits = undefined;
    }
  }

  // --- element-wise --------------------------------------------------------------------

  unary(op: UnaryOp, a: Tensor, out: Tensor): void {
    const A = this.own(a, 'unary', 'a');
    const O = this.own(out, 'unary', 'out');
    this.sameShape('unary', 'out', O, A.rows, A.cols, op);
    if (op === 'sigmoid' && this.nativeEw !== undefined) this.nativeEw.sigmoid(elementsOf(A) as Float32Array, elementsOf(O) as Float32Array, A.rows, A.cols);
    else if (op === 'square' && this.nativeEw !== undefined) this.nativeEw.square(elementsOf(A) as Float32Array, elementsOf(O) as Float32Array);
    else elementwise.applyUnary(op, elementsOf(A), elementsOf(O), A.cols);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor): void {
    const A = this.own(a, 'binary', 'a');
    const B = this.own(b, 'binary', 'b');
    const O = this.own(out, 'binary', 'out');
    this.sameShape('binary', 'b', B, A.rows, A.cols, op);
    this.sameShape('binary', 'out', O, A.rows, A.cols, op);
    // A sum or difference rounds once either way: the native axpby (1, +-1) gives the same bits, faster.
    if (this.nativeEw !== undefined && (op === 'add' || op === 'sub')) {
      this.nativeEw.axpby(1, readOnlyElementsOf(A) as Float32Array, op === 'add' ? 1 : -1, readOnlyElementsOf(B) as Float32Array, elementsOf(O) as Float32Array);
    } else {
      elementwise.applyBinary(op, readOnlyElementsOf(A), readOnlyElementsOf(B), elementsOf(O));
    }
  }

  axpby(alpha: number, x: Tensor, beta: number, y: Tensor, out: Tensor): void {
    const X = this.own(x, 'axpby', 'x');
    const Y = this.own(y, 'axpby', 'y');
    const O = this.own(out, 'axpby', 'out');
    this.sameShape('axpby', 'y', Y, X.rows, X.cols);
    this.sameShape('axpby', 'out', O, X.rows, X.cols);
    // The native kernel computes in float32: coefficients it cannot hold (NaN, infinities,
    // beyond the float32 range, subnormal) keep the TypeScript loop's float64 arithmetic.
    if (this.nativeEw !== undefined && float32Coefficient(alpha) && float32Coefficient(beta)) {
      this.nativeEw.axpby(alpha, elementsOf(X) as Float32Array, beta, elementsOf(Y) as Float32Array, elementsOf(O) as Float32Array);
    } else {
      elementwise.axpby(alpha, elementsOf(X), beta, elementsOf(Y), elementsOf(O));
    }
  }

  /**
   * The passes of an optimizer step in one trip through memory: with the native kernels (float32,
   * every coefficient a float32 number, at most 8 passes) block by block, each block through
   * every pass while it is in cache; otherwise one `axpby` per pass. The bits of `axpby` per pass
   * either way: every pass is element-wise, so doing it a block at a time reorders nothing.
   */
  axpbyPasses(passes: readonly AxpbyPass[]): void {
    const first = passes[0];
    if (first === undefined) return;
    const { rows, cols } = first.x;
    // Every pass is checked before any runs, so a bad one leaves all the tensors as they were.
    const outs: CpuTensor[] = [];
    const arrays = passes.map((p, i) => {
      const op = i < PASS_OPS.length ? PASS_OPS[i]! : `axpbyPasses pass ${i}`;
      const [X, Y, O] = [this.own(p.x, op, 'x'), this.own(p.y, op, 'y'), this.own(p.out, op, 'out')];
      this.sameShape(op, 'x', X, rows, cols);
      this.sameShape(op, 'y', Y, rows, cols);
      this.sameShape(op, 'out', O, rows, cols);
      outs.push(O);
      return { alpha: p.alpha, x: elementsOf(X) as Float32Array, beta: p.beta, y: elementsOf(Y) as Float32Array, out: elementsOf(O) as Float32Array };
    });
    const fused = this.nativeEw !== undefined && passes.length <= PASS_OPS.length && passes.every((p) => float32Coefficient(p.alpha) && float32Coefficient(p.beta));
    if (!fused) {
      for (const p of passes) this.axpby(p.alpha, p.x, p.beta, p.y, p.out);
      return;
    }
    // A weight the products read is rounded to bfloat16 in the same trip, once per step, instead of once per product.
    const rounded: { tensor: CpuTensor; source: Float32Array; bits: Uint16Array }[] = [];
    if (this.roundedOperands !== undefined) {
      for (const O of outs) {
        if (!this.roundedOperands.has(O) || rounded.some((r) => r.tensor === O)) continue;
        const bits = cpuTensorElements.roundingTarget(O, (length) => this.allocRounding(length));
        if (bits !== undefined) rounded.push({ tensor: O, source: readOnlyElementsOf(O) as Float32Array, bits });
      }
    }
    this.nativeEw!.axpbyPasses(arrays, rows * cols, rounded);
    for (const r of rounded) cpuTensorElements.markRounded(r.tensor);
  }

  /** The array of a tensor's bfloat16 copy, counted in `memory()` with the tensor. */
  private allocRounding(length: number): Uint16Array {
    const bits = new Uint16Array(length);
    this.live.numBytes += bits.byteLength;
    return bits;
  }

  affine(a: Tensor, scale: number, shift: number, out: Tensor): void {
    const A = this.own(a, 'affine', 'a');
    const O = this.own(out, 'affine', 'out');
    this.sameShape('affine', 'out', O, A.rows, A.cols);
    elementwise.affine(elementsOf(A), scale, shift, elementsOf(O));
  }

  addRowVector(a: Tensor, row: Tensor, out: Tensor): void {
    const A = this.own(a, 'addRowVector', 'a');
    const R = this.own(row, 'addRowVector', 'row');
    const O = this.own(out, 'addRowVector', 'out');
    this.sameShape('addRowVector', 'row', R, 1, A.cols);
    this.sameShape('addRowVector', 'out', O, A.rows, A.cols);
    elementwise.applyUnary('identity', elementsOf(A), elementsOf(O), A.cols, elementsOf(R));
  }

  mulRowVector(a: Tensor, row: Tensor, out: Tensor): void {
    const A = this.own(a, 'mulRowVector', 'a');
    const R = this.own(row, 'mulRowVector', 'row');
    const O = this.own(out, 'mulRowVector', 'out');
    this.sameShape('mulRowVector', 'row', R, 1, A.cols);
    this.sameShape('mulRowVector', 'out', O, A.rows, A.cols);
    elementwise.mulRow(elementsOf(A), elementsOf(R), A.cols, elementsOf(O));
  }

  mulColVector(a: Tensor, col: Tensor, out: Tensor): void {
    const A = this.own(a, 'mulColVector', 'a');
    const C = this.own(col, 'mulColVector', 'col');
    const O = this.own(out, 'mulColVector', 'out');
    this.sameShape('mulColVector', 'col', C, A.rows, 1);
    this.sameShape('mulColVector', 'out', O, A.rows, A.cols);
    elementwise.mulCol(elementsOf(A), elementsOf(C), A.cols, elementsOf(O));
  }

  softmaxGroups(a: Tensor, groupSize: number, out: Tensor): void {
    const A = this.own(a, 'softmaxGroups', 'a');
    const O = this.own(out, 'softmaxGroups', 'out');
    opGroupCount('softmaxGroups', A, groupSize);
    this.sameShape('softmaxGroups', 'out', O, A.rows, A.cols);
    reductions.softmaxGroups(elementsOf(A), groupSize, elementsOf(O));
  }

  logSumExpGroups(a: Tensor, groupSize: number, out: Tensor): void {
    const A = this.own(a, 'logSumExpGroups', 'a');
    const O = this.own(out, 'logSumExpGroups', 'out');
    const groups = opGroupCount('logSumExpGroups', A, groupSize);
    this.sameShape('logSumExpGroups', 'out', O, A.rows, groups);
    reductions.logSumExpGroups(elementsOf(A), groupSize, elementsOf(O));
  }

  // --- reductions ----------------------------------------------------------------------

  sumColumns(a: Tensor, out: Tensor, alpha = 1, beta = 0): void {
    const A = this.own(a, 'sumColumns', 'a');
    const O = this.own(out, 'sumColumns', 'out');
    this.sameShape('sumColumns', 'out', O, 1, A.cols);
    checkOpFinite('sumColumns', 'alpha', alpha);
    checkOpFinite('sumColumns', 'beta', beta);
    if (this.columnSums.length < A.cols) this.columnSums = new Float64Array(A.cols);
    if (this.nativeEw !== undefined) {
      // The same float64 sums in the same row order, vectorized across columns: the same bits.
      this.nativeEw.sumColumns(elementsOf(A) as Float32Array, A.rows, A.cols, this.columnSums);
      reductions.scaleColumnSums(this.columnSums, A.cols, elementsOf(O), alpha, beta);
    } else {
      reductions.sumColumns(elementsOf(A), A.cols, elementsOf(O), alpha, beta, this.columnSums);
    }
  }

  sumRows(a: Tensor, out: Tensor): void {
    const A = this.own(a, 'sumRows', 'a');
    const O = this.own(out, 'sumRows', 'out');
    this.sameShape('sumRows', 'out', O, A.rows, 1);
    reductions.sumRows(elementsOf(A), A.cols, elementsOf(O));
  }

  async reduce(op: ReduceOp, a: Tensor): Promise<number> {
    return reductions.reduceAll(op, readOnlyElementsOf(this.own(a, 'reduce', 'a')));
  }

  // --- randomness ----------------------------------------------------------------------

  sampleBernoulli(p: Tensor | number, rng: RngState, out: Tensor): void {
    const O = this.own(out, 'sampleBernoulli', 'out');
    if (typeof p === 'number') {
      if (!(p >= 0 && p <= 1)) throw new InvalidValueError(`sampleBernoulli: p must lie in [0, 1], got ${p}`);
      random.bernoulliScalar(nextKey(rng), p, elementsOf(O));
      return;
    }
    const P = this.own(p, 'sampleBernoulli', 'p');
    this.sameShape('sampleBernoulli', 'out', O, P.rows, P.cols);
    // The native sampler draws the same stream bit for bit (it is the same integer hash).
    if (this.nativeEw !== undefined) this.nativeEw.bernoulli(nextKey(rng), elementsOf(P) as Float32Array, elementsOf(O) as Float32Array);
    else random.bernoulliTensor(nextKey(rng), elementsOf(P), elementsOf(O));
  }

  sampleGaussian(mean: Tensor, std: number | Tensor, rng: RngState, out: Tensor): void {
    const M = this.own(mean, 'sampleGaussian', 'mean');
    const O = this.own(out, 'sampleGaussian', 'out');
    this.sameShape('sampleGaussian', 'out', O, M.rows, M.cols);
    if (typeof std === 'number') {
      if (!(std >= 0 && std < Infinity)) throw new InvalidValueError(`sampleGaussian: std must be finite and >= 0, got ${std}`);
      random.gaussian(nextKey(rng), elementsOf(M), std, M.cols, elementsOf(O));
      return;
    }
    const S = this.own(std, 'sampleGaussian', 'std');
    this.sameShape('sampleGaussian', 'std', S, 1, M.cols);
    random.gaussian(nextKey(rng), elementsOf(M), elementsOf(S), M.cols, elementsOf(O));
  }

  sampleCategorical(p: Tensor, groupSize: number, rng: RngState, out: Tensor): void {
    const P = this.own(p, 'sampleCategorical', 'p');
    const O = this.own(out, 'sampleCategorical', 'out');
    opGroupCount('sampleCategorical', P, groupSize);
    this.sameShape('sampleCategorical', 'out', O, P.rows, P.cols);
    random.categorical(nextKey(rng), elementsOf(P), groupSize, elementsOf(O));
  }

  uniform(rng: RngState, out: Tensor): void {
    random.fillUniform(nextKey(rng), elementsOf(this.own(out, 'uniform', 'out')));
  }
}
