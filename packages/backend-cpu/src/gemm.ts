/**
 * The matrix-product kernel the CPU backend delegates to. It is its own seam because it is
 * where nearly all of the time goes: a plain TypeScript implementation always works, and
 * faster ones (native SIMD, WebAssembly SIMD) plug in behind the same signature.
 */
import type { FloatArray } from '@boltzmann/tensor';

/** Row-major operands; C (m x n) = alpha * op(A) * op(B) + beta * C, op(A) is m x k, op(B) is k x n. */
export interface GemmArgs<T extends FloatArray = FloatArray> {
  m: number;
  n: number;
  k: number;
  a: T;
  transposeA: boolean;
  b: T;
  transposeB: boolean;
  c: T;
  alpha: number;
  beta: number;
  /**
   * Only for a kernel that `fusesSigmoid`: after the product, C = sigmoid(C + bias row) by the
   * named native element-wise set, applied to each tile of C as it is finished (still in
   * cache, on the thread that computed it). The bits of that set's sigmoid run afterwards.
   */
  sigmoid?: { elementwiseSet: string; bias: Float32Array | undefined };
  /**
   * Only for a kernel that `packsRoundedB`: `b` already rounded to bfloat16 (the 16 bits of
   * each element, same layout), which the kernel reads instead of rounding `b` again. It must
   * equal `b` rounded; the result is then the same as without it.
   */
  bBits?: Uint16Array;
}

export interface Gemm {
  /** e.g. "ts-blocked", "native-avx2", "wasm-simd". */
  readonly name: string;
  /**
   * "bfloat16" for a mixed-precision kernel: it rounds op(A) and op(B) to bfloat16 (nearest
   * even) and accumulates in float32 (what CpuBackend's "bfloat16-mixed" precision needs);
   * absent for a kernel that multiplies its operands as given.
   */
  readonly operands?: 'bfloat16';
  /** True when `run` applies `args.sigmoid` (the native kernels); absent otherwise. */
  readonly fusesSigmoid?: boolean;
  /** True when `run` packs op(B) from `args.bBits` where given (the native mixed-precision kernels); absent otherwise. */
  readonly packsRoundedB?: boolean;
  /** Whether it handles this element type (native kernels may do float32 only). */
  supports(array: FloatArray): boolean;
  run(args: GemmArgs): void;
}
