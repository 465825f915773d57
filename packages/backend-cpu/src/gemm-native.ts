/**
 * The native matrix product: a C++ Node-API addon (packages/backend-cpu/native) with AVX-512 /
 * AVX2 FMA micro-kernels, cache blocking and a small persistent thread pool. It is built by
 * native/build.mjs at install time; where that was impossible `nativeGemm()` is undefined
 * and the CPU backend uses the next kernel in line.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { InvalidValueError, type FloatArray } from '@boltzmann/tensor';
import type { Gemm, GemmArgs } from './gemm.js';
import { checkFloat32GemmArgs } from './gemm-check.js';

/** What the addon exports (see native/src/addon.cpp). */
interface NativeAddon {
  /** Micro-kernels this processor runs, fastest first. */
  readonly kernels: readonly string[];
  /** Threads one call may use: the caller plus the pool's workers. */
  readonly maxThreads: number;
  gemm(kernel: number, threads: number, m: number, n: number, k: number, a: Float32Array, transposeA: boolean, b: Float32Array, transposeB: boolean, c: Float32Array, alpha: number, beta: number): void;
}

/** Where native/build.mjs puts the addon. */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../native/build/boltzmann_gemm.node', import.meta.url));

let loaded: NativeAddon | null | undefined;
let loadError = '';

/** The addon, loaded once; null when it is not built, fails to load, or BOLTZMANN_NATIVE=0. */
function addon(): NativeAddon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.BOLTZMANN_NATIVE === '0') {
    loadError = 'disabled by BOLTZMANN_NATIVE=0';
    return loaded;
  }
  try {
    const candidate = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon;
    if (typeof candidate.gemm !== 'function' || !Array.isArray(candidate.kernels) || candidate.kernels.length === 0) {
      loadError = `${NATIVE_ADDON_PATH} does not export the expected gemm interface`;
    } else {
      loaded = candidate;
    }
  } catch (error) {
    loadError = `${NATIVE_ADDON_PATH} could not be loaded (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); build it with "node packages/backend-cpu/native/build.mjs"`;
  }
  return loaded;
}

/** Why `nativeGemm()` is undefined ('' when it is available); for skip messages and logs. */
export function nativeGemmUnavailableReason(): string {
  return addon() === null ? loadError : '';
}

/** The micro-kernels the addon can run on this processor, fastest first (empty when not built). */
export function nativeKernels(): readonly string[] {
  return addon()?.kernels ?? [];
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
  const native = addon();
  if (native === null) return undefined;
  const kernelIndex = options.kernel === undefined ? 0 : native.kernels.indexOf(options.kernel);
  if (kernelIndex < 0) throw new InvalidValueError(`nativeGemm: kernel "${options.kernel}" is not one of ${native.kernels.join(', ')} on this processor`);
  const threads = options.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0) throw new InvalidValueError(`nativeGemm: threads must be a non-negative integer, got ${threads}`);
  return new NativeGemm(native, kernelIndex, threads);
}
