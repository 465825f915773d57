import type { Matrix, Precision } from './matrix.js';
import type { RngState } from './rng.js';

/**
 * A rows x cols matrix that lives in a backend's memory (a typed array, a GPU texture or
 * buffer). Only the backend that made it can use it. Read it back with `Backend.read`.
 */
export interface Tensor {
  readonly rows: number;
  readonly cols: number;
  /** The name of the backend instance that owns it. */
  readonly owner: string;
}

/** Element-wise functions of one operand. */
export type UnaryOp =
  | 'identity'
  | 'sigmoid'
  | 'softplus' // log(1 + e^x), stable for large |x|
  | 'relu'
  | 'exp'
  | 'log'
  | 'tanh'
  | 'neg'
  | 'square'
  | 'sqrt'
  | 'abs'
  | 'sign'
  | 'reciprocal';

/** Element-wise functions of two operands of the same shape. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';

/** Reductions of a whole tensor to one number. */
export type ReduceOp = 'sum' | 'sumSquares' | 'max' | 'min' | 'sumAbs';

/** Options of `Backend.matmul`: out = alpha * op(a) * op(b) + beta * out. */
export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  alpha?: number;
  /** 0 (default) overwrites `out`; 1 accumulates into it. */
  beta?: number;
}

/** One `out = alpha * x + beta * y` of `Backend.axpbyPasses`. */
export interface AxpbyPass {
  readonly alpha: number;
  readonly x: Tensor;
  readonly beta: number;
  readonly y: Tensor;
  readonly out: Tensor;
}

/** Options of `Backend.linear`: out = activation(x * op(w) + bias). */
export interface LinearOptions {
  transposeW?: boolean;
  activation?: UnaryOp;
}

/**
 * What a backend holds for its callers at one moment (see `Backend.memory`).
 */
export interface MemoryInfo {
  /** Live tensors: made by `zeros` or `upload` and neither disposed nor freed by `destroy`. */
  readonly numTensors: number;
  /** Their elements' bytes: rows * cols * (4 for float32, 8 for float64), summed over the live tensors. */
  readonly numBytes: number;
}

/**
 * The compute primitives an energy-based model needs. Every op writes into a caller-owned
 * `out` tensor, so a training step allocates nothing; `out` may alias an input for
 * element-wise ops (not for matmul/linear). Ops validate shapes and throw `ShapeError`.
 *
 * A training step issues ops and reads nothing back; host readback is explicit (`read`).
 * Random ops take an `RngState`, use one key from it (see rng.ts) and advance it by one.
 */
export interface Backend {
  /** Instance name, e.g. "cpu" or "gpu.js:webasm"; stamped on every tensor it makes. */
  readonly name: string;
  readonly precision: Precision;
  /**
   * Optional: one line saying which kernels run the ops (e.g. the CPU backend's
   * "bfloat16-mixed: products native-avx512bf16-12x32, element-wise native-avx512"), for logs.
   */
  readonly kernels?: string;

  // --- memory -------------------------------------------------------------------------
  /** A new tensor, zero-filled (or filled with `value`). */
  zeros(rows: number, cols: number, value?: number): Tensor;
  /** A new tensor holding a copy of `m`. */
  upload(m: Matrix): Tensor;
  /** Overwrites `t` with the contents of `m` (same shape). */
  write(t: Tensor, m: Matrix): void;
  /** A host copy of `t`. */
  read(t: Tensor): Promise<Matrix>;
  /** A host copy of `t`, blocking; fine for small tensors and tests. */
  readSync(t: Tensor): Matrix;
  /** Frees `t`; using it afterwards is an error, disposing it twice too. */
  dispose(t: Tensor): void;
  /** Frees everything the backend holds (kernels, buffers); its live tensors count as disposed. */
  destroy(): void;
  /**
   * The live tensors and their bytes, so a test can assert that a training step leaks nothing
   * (the count after step N equals the count after step N + k). The contract every backend keeps:
   * - `zeros` and `upload` add one tensor (rows * cols elements of the backend's precision);
   * - `dispose` removes it at the call, even where the memory is freed later in op order
   *   (asynchronous backends), and a second dispose throws without changing the count;
   * - `destroy` leaves zero;
   * - no other op changes the count: ops write caller-owned `out` tensors, and a backend's
   *   internal scratch (kernels, buffers reused across ops, per-shape caches) is not counted.
   */
  memory(): MemoryInfo;

  // --- copies ------------------------------------------------------------------------
  copy(src: Tensor, out: Tensor): void;
  fill(out: Tensor, value: number): void;
  /** out[i, :] = src[indices[i], :]; gathers a minibatch from a resident data set. */
  gatherRows(src: Tensor, indices: Uint32Array, out: Tensor): void;

  // --- linear algebra ----------------------------------------------------------------
  /** out = alpha * op(a) * op(b) + beta * out. */
  matmul(a: Tensor, b: Tensor, out: Tensor, options?: MatmulOptions): void;
  /** out = activation(x * op(w) + bias), bias 1 x outCols; fused where the backend can. */
  linear(x: Tensor, w: Tensor, bias: Tensor, out: Tensor, options?: LinearOptions): void;

  // --- element-wise ------------------------------------------------------------------
  unary(op: UnaryOp, a: Tensor, out: Tensor): void;
  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor): void;
  /** out = alpha * x + beta * y (axpy, scaling, momentum updates). */
  axpby(alpha: number, x: Tensor, beta: number, y: Tensor, out: Tensor): void;
  /**
   * Optional: several `axpby` passes over tensors of one shape, with exactly the results of
   * calling `axpby` for each in turn, computed so that they cost less: the CPU backend runs
   * them block by block, each block through every pass while it is in cache, so an optimizer
   * step reads its parameters, gradients and velocities from memory once instead of once per
   * pass. Call it through `runAxpbyPasses`, which falls back to `axpby` where it is absent.
   */
  axpbyPasses?(passes: readonly AxpbyPass[]): void;
  /** out = scale * a + shift. */
  affine(a: Tensor, scale: number, shift: number, out: Tensor): void;
  /** out[i, j] = a[i, j] + row[0, j]. */
  addRowVector(a: Tensor, row: Tensor, out: Tensor): void;
  /** out[i, j] = a[i, j] * row[0, j]. */
  mulRowVector(a: Tensor, row: Tensor, out: Tensor): void;
  /** out[i, j] = a[i, j] * col[i, 0]. */
  mulColVector(a: Tensor, col: Tensor, out: Tensor): void;
  /** Softmax over each run of `groupSize` consecutive columns of each row (groupSize = cols: row softmax). */
  softmaxGroups(a: Tensor, groupSize: number, out: Tensor): void;
  /** out[i, g] = log sum_{j in group g} exp(a[i, j]); out is rows x (cols / groupSize). */
  logSumExpGroups(a: Tensor, groupSize: number, out: Tensor): void;

  // --- reductions --------------------------------------------------------------------
  /** out (1 x cols) = alpha * column sums of a + beta * out. */
  sumColumns(a: Tensor, out: Tensor, alpha?: number, beta?: number): void;
  /** out (rows x 1) = row sums of a. */
  sumRows(a: Tensor, out: Tensor): void;
  /** One number; a readback, so use it once per epoch or for metrics, not per batch. */
  reduce(op: ReduceOp, a: Tensor): Promise<number>;

  // --- randomness --------------------------------------------------------------------
  /** out = 1 where u < p else 0; p is a tensor of a's shape or one probability for all. */
  sampleBernoulli(p: Tensor | number, rng: RngState, out: Tensor): void;
  /** out = mean + std * N(0, 1); std is one number or a 1 x cols row (per-unit std). */
  sampleGaussian(mean: Tensor, std: number | Tensor, rng: RngState, out: Tensor): void;
  /** One-hot sample in each group of `groupSize` columns from the probabilities p. */
  sampleCategorical(p: Tensor, groupSize: number, rng: RngState, out: Tensor): void;
  /** out = uniforms in [0, 1). */
  uniform(rng: RngState, out: Tensor): void;
}
