/**
 * Loads the native addon once per thread, from the first of these that loads (the
 * node-gyp-build convention): native/build/boltzmann_gemm.node, compiled on this machine by
 * native/build.mjs (the repository's install, or the package's install script where no
 * prebuilt binary fits), then prebuilds/<platform>-<arch>/boltzmann_gemm.node, shipped in the
 * npm package. Where none loads, `nativeAddon()` is null and `nativeAddonUnavailableReason()`
 * says why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What the addon exports (see native/src/addon.cpp). */
export interface NativeAddon {
  /** Matrix-product micro-kernels this processor runs, fastest first. */
  readonly kernels: readonly string[];
  /** Threads one product may use: the caller plus the pool's workers. */
  readonly maxThreads: number;
  gemm(kernel: number, threads: number, m: number, n: number, k: number, a: Float32Array, transposeA: boolean, b: Float32Array, transposeB: boolean, c: Float32Array, alpha: number, beta: number, sigmoidSet?: number | null, bias?: Float32Array | null): void;
  /** Mixed-precision micro-kernels this processor runs, fastest first; the portable emulated one last. */
  readonly bf16Kernels: readonly string[];
  /**
   * As `gemm`, with a kernel from `bf16Kernels`: operands rounded to bfloat16, float32 accumulation. `bBits`: b already
   * rounded (its 16 bits per element), packed from instead of b.
   */
  gemmBf16(kernel: number, threads: number, m: number, n: number, k: number, a: Float32Array, transposeA: boolean, b: Float32Array, transposeB: boolean, c: Float32Array, alpha: number, beta: number, sigmoidSet?: number | null, bias?: Float32Array | null, bBits?: Uint16Array | null): void;
  /** Element-wise kernel sets this processor runs ("avx512", "avx2", "generic"), fastest first. */
  readonly elementwise: readonly string[];
  sigmoid(set: number, src: Float32Array, dst: Float32Array, rows: number, cols: number, bias: Float32Array | null): void;
  /**
   * For each pass in order, out = alpha x + beta y over n elements: coefficients holds alpha, beta and arrays x, y, out per pass;
   * block by block. `rounded` (source, bits pairs): after the passes over a block, bits = source rounded to bfloat16 there.
   */
  axpbyPasses(set: number, coefficients: Float64Array, arrays: Float32Array[], n: number, rounded?: (Float32Array | Uint16Array)[] | null): void;
  /** out row i = src row indices[i], rows of `cols` floats; throws (out untouched) on an index past the source. */
  gatherRows(src: Float32Array, cols: number, indices: Uint32Array, out: Float32Array): void;
  bernoulli(set: number, key: number, p: Float32Array, out: Float32Array, n: number): void;
  square(set: number, src: Float32Array, dst: Float32Array, n: number): void;
  sumColumns(set: number, a: Float32Array, rows: number, cols: number, sums: Float64Array): void;
  /** bits = the first n elements of src rounded to bfloat16 (the rounding of gemmBf16's packing). */
  roundToBf16(set: number, src: Float32Array, bits: Uint16Array, n: number): void;
}

/** Where native/build.mjs puts the addon it compiles. */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../native/build/boltzmann_gemm.node', import.meta.url));
/**
 * Where the npm package carries the addon prebuilt for this platform (native/prebuild.mjs puts
 * it there at pack time). A function, so importing this module reads no `process` (a page that
 * bundles the CPU backend has none).
 */
export function prebuiltAddonPath(): string {
  return fileURLToPath(new URL(`../prebuilds/${process.platform}-${process.arch}/boltzmann_gemm.node`, import.meta.url));
}

let loaded: NativeAddon | null | undefined;
let loadError = '';
let loadedFrom = '';

/** The addon, loaded once; null when it is not built, fails to load, or BOLTZMANN_NATIVE=0. */
export function nativeAddon(): NativeAddon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.BOLTZMANN_NATIVE === '0') {
    loadError = 'disabled by BOLTZMANN_NATIVE=0';
    return loaded;
  }
  const failures: string[] = [];
  let files: string[] = [];
  try {
    files = [NATIVE_ADDON_PATH, prebuiltAddonPath()].filter((f) => existsSync(f));
  } catch (error) {
    // not Node (a page that bundles the CPU backend): no files, no addon
    failures.push(`the native addon cannot be looked for here (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
  for (const file of files) {
    try {
      const candidate = createRequire(import.meta.url)(file) as Partial<NativeAddon>;
      const complete = ['gemm', 'gemmBf16', 'sigmoid', 'axpbyPasses', 'gatherRows', 'bernoulli', 'square', 'sumColumns', 'roundToBf16'].every((f) => typeof candidate[f as keyof NativeAddon] === 'function');
      if (!complete || !Array.isArray(candidate.kernels) || candidate.kernels.length === 0 || !Array.isArray(candidate.elementwise) || !Array.isArray(candidate.bf16Kernels)) {
        failures.push(`${file} is out of date (it lacks part of the expected interface); rebuild it with "node native/build.mjs --force" in the backend-cpu package`);
        continue;
      }
      loaded = candidate as NativeAddon;
      loadedFrom = file;
      return loaded;
    } catch (error) {
      failures.push(`${file} could not be loaded (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
    }
  }
  loadError =
    failures.length > 0
      ? `${failures.join('; ')}${files.length > 0 ? '; build it with "node native/build.mjs" in the backend-cpu package' : ''}`
      : `no native addon for ${process.platform}-${process.arch}: no prebuilt binary in the package and none compiled (native/build.mjs needs a C++ compiler and the Node.js headers)`;
  return loaded;
}

/** The file the addon was loaded from ('' when it did not load). */
export function nativeAddonFile(): string {
  return nativeAddon() === null ? '' : loadedFrom;
}

/** Why `nativeAddon()` is null ('' when it loaded). */
export function nativeAddonUnavailableReason(): string {
  return nativeAddon() === null ? loadError : '';
}
