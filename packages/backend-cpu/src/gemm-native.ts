/**
 * The native matrix product: a C++ Node-API addon (packages/backend-cpu/native) with AVX-512 /
 * AVX2 FMA micro-kernels, cache blocking and a small persistent thread pool. It is built by
 * native/build.mjs at install time; where that was impossible `nativeGemm()` is undefined
 * and the CPU backend uses the next kernel in line.
 */
import { InvalidValueError, type FloatArray } from '@boltzmann/tensor';
import type { Gemm, GemmArgs } from './gemm.js';
import { checkFloat32GemmArgs } from './gemm-check.js';
import { nativeAddon, nativeAddonUnavailableReason, type NativeAddon } from './native-addon.js';

/** Why `nativeGemm()` is undefined ('' when it is available); for skip messages and logs. */
export function nativeGemmUnavailableReason(): string {
  return nativeAddonUnavailableReason();
}

/** The micro-kernels the addon can run on this processor, fastest first (empty when not built). */
export function nativeKernels(): readonly string[] {
  return nativeAddon()?.kernels ?? [];
}

/** Options of `nativeGemm`. */
export interface NativeGemmOptions {
  /** A micro-kernel from `nativeKernels()`; default the fastest. */
  kernel?: string;
  /** Threads per call, the caller included; default (0) all the addon's threads. */
  threads?: number;
}

/** A float32 Gemm running in the native addon. */
class NativeGemm implements Gemm {
  readonly name: string;

  constructor(
    private readonly native: NativeAddon,
    private readonly kernelIndex: number,
    private readonly threads: number,
  ) {
    this.name = `native-${native.kernels[kernelIndex]}`;
  }

  /** Float32 only: the kernels multiply in single precision. */
  supports(array: FloatArray): boolean {
    return array instanceof Float32Array;
  }

  /** C (m x n) = alpha * op(A) * op(B) + beta * C, row-major; beta = 0 overwrites C (NaN included). */
  run(args: GemmArgs): void {
    checkFloat32GemmArgs(this.name, args);
    const { m, n, k, a, transposeA, b, transposeB, c, alpha, beta } = args;
    if (m === 0 || n === 0) return;
    this.native.gemm(this.kernelIndex, this.threads, m, n, k, a, transposeA, b, transposeB, c, alpha, beta);
  }
}

/**
 * The native Gemm, or undefined when the addon is not built or cannot load here (see
 * `nativeGemmUnavailableReason`). Throws only for bad options (an unknown kernel name).
 */
export function nativeGemm(options: NativeGemmOptions = {}): Gemm | undefined {
  const native = nativeAddon();
  if (native === null) return undefined;
  const kernelIndex = options.kernel === undefined ? 0 : native.kernels.indexOf(options.kernel);
  if (kernelIndex < 0) throw new InvalidValueError(`nativeGemm: kernel "${options.kernel}" is not one of ${native.kernels.join(', ')} on this processor`);
  const threads = options.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0) throw new InvalidValueError(`nativeGemm: threads must be a non-negative integer, got ${threads}`);
  return new NativeGemm(native, kernelIndex, threads);
}
