/**
 * Loads the native addon (packages/backend-cpu/native, built by native/build.mjs at install
 * time) once per thread. Where it was not built or cannot load, `nativeAddon()` is null and
 * `nativeAddonUnavailableReason()` says why.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What the addon exports (see native/src/addon.cpp). */
export interface NativeAddon {
  /** Matrix-product micro-kernels this processor runs, fastest first. */
  readonly kernels: readonly string[];
  /** Threads one product may use: the caller plus the pool's workers. */
  readonly maxThreads: number;
  gemm(kernel: number, threads: number, m: number, n: number, k: number, a: Float32Array, transposeA: boolean, b: Float32Array, transposeB: boolean, c: Float32Array, alpha: number, beta: number): void;
  /** Mixed-precision micro-kernels this processor runs, fastest first; the portable emulated one last. */
  readonly bf16Kernels: readonly string[];
  /** As `gemm`, with a kernel from `bf16Kernels`: operands rounded to bfloat16, float32 accumulation. */
  gemmBf16(kernel: number, threads: number, m: number, n: number, k: number, a: Float32Array, transposeA: boolean, b: Float32Array, transposeB: boolean, c: Float32Array, alpha: number, beta: number): void;
  /** Element-wise kernel sets this processor runs ("avx512", "avx2", "generic"), fastest first. */
  readonly elementwise: readonly string[];
  sigmoid(set: number, src: Float32Array, dst: Float32Array, rows: number, cols: number, bias: Float32Array | null): void;
  axpby(set: number, alpha: number, x: Float32Array, beta: number, y: Float32Array, out: Float32Array, n: number): void;
  bernoulli(set: number, key: number, p: Float32Array, out: Float32Array, n: number): void;
  square(set: number, src: Float32Array, dst: Float32Array, n: number): void;
}

/** Where native/build.mjs puts the addon. */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../native/build/boltzmann_gemm.node', import.meta.url));

let loaded: NativeAddon | null | undefined;
let loadError = '';

/** The addon, loaded once; null when it is not built, fails to load, or BOLTZMANN_NATIVE=0. */
export function nativeAddon(): NativeAddon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.BOLTZMANN_NATIVE === '0') {
    loadError = 'disabled by BOLTZMANN_NATIVE=0';
    return loaded;
  }
  try {
    const candidate = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as Partial<NativeAddon>;
    const complete = ['gemm', 'gemmBf16', 'sigmoid', 'axpby', 'bernoulli', 'square'].every((f) => typeof candidate[f as keyof NativeAddon] === 'function');
    if (!complete || !Array.isArray(candidate.kernels) || candidate.kernels.length === 0 || !Array.isArray(candidate.elementwise) || !Array.isArray(candidate.bf16Kernels)) {
      loadError = `${NATIVE_ADDON_PATH} is out of date (it lacks part of the expected interface); rebuild it with "node packages/backend-cpu/native/build.mjs --force"`;
    } else {
      loaded = candidate as NativeAddon;
    }
  } catch (error) {
    loadError = `${NATIVE_ADDON_PATH} could not be loaded (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); build it with "node packages/backend-cpu/native/build.mjs"`;
  }
  return loaded;
}

/** Why `nativeAddon()` is null ('' when it loaded). */
export function nativeAddonUnavailableReason(): string {
  return nativeAddon() === null ? loadError : '';
}
