/**
 * The native matrix product: a C++ Node-API addon (packages/backend-cpu/native) with AVX-512 /
 * AVX2 FMA micro-kernels, cache blocking and a small persistent thread pool, plus mixed-precision
 * kernels (operands rounded to bfloat16, float32 accumulation: AVX512-BF16 where the processor
 * has it, a portable emulation everywhere). It is built by native/build.mjs at install time;
 * where that was impossible `nativeGemm()` is undefined and the CPU backend uses the next
 * kernel in line.
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

/**
 * The mixed-precision micro-kernels the addon can run here, fastest first: "avx512bf16-12x32"
 * where the processor has AVX512-BF16, then always "bf16-emulated-4x16" (portable C++, slow:
 * for checking results on machines without bfloat16 instructions). Empty when not built.
 */
export function nativeBf16Kernels(): readonly string[] {
  return nativeAddon()?.bf16Kernels ?? [];
}

/** The name of the portable mixed-precision kernel, which runs everywhere but is never picked by default. */
export const EMULATED_BF16_KERNEL = 'bf16-emulated-4x16';

/** Options of `nativeGemm` and `nativeBf16Gemm`. */
export interface NativeGemmOptions {
  /** A micro-kernel from `nativeKernels()` (`nativeBf16Kernels()`); default the fastest. */
  kernel?: string;
  /** Threads per call, the caller included; default (0) all the addon's threads. */
  threads?: number;
}

/** The addon's gemm or gemmBf16 (only gemmBf16 takes bBits). */
type Entry = NativeAddon['gemmBf16'];

/** A Gemm running one of the addon's float32 or mixed-precision kernels. */
class NativeGemm implements Gemm {
  readonly name: string;
  readonly operands?: 'bfloat16';
  readonly fusesSigmoid = true;
  readonly packsRoundedB?: boolean;

  constructor(
    private readonly entry: Entry,
    kernel: string,
    private readonly kernelIndex: number,
    private readonly threads: number,
    mixed: boolean,
    private readonly sets: readonly string[],
  ) {
    this.name = `native-${kernel}`;
    if (mixed) {
      this.operands = 'bfloat16';
      this.packsRoundedB = true;
    }
  }

  /** Float32 only: the kernels multiply in single precision. */
  supports(array: FloatArray): boolean {
    return array instanceof Float32Array;
  }

  /** C (m x n) = alpha * op(A) * op(B) + beta * C, row-major; beta = 0 overwrites C (NaN included). */
  run(args: GemmArgs): void {
    checkFloat32GemmArgs(this.name, args);
    const { m, n, k, a, transposeA, b, transposeB, c, alpha, beta, sigmoid, bBits } = args;
    if (m === 0 || n === 0) return;
    if (bBits !== undefined) {
      if (this.packsRoundedB !== true) throw new InvalidValueError(`${this.name}: bBits is for the mixed-precision kernels; this one multiplies float32 operands`);
      if (bBits.length !== b.length) throw new InvalidValueError(`${this.name}: bBits has ${bBits.length} elements, b has ${b.length}`);
    }
    if (sigmoid === undefined && bBits === undefined) {
      this.entry(this.kernelIndex, this.threads, m, n, k, a, transposeA, b, transposeB, c, alpha, beta);
      return;
    }
    let set: number | null = null;
    if (sigmoid !== undefined) {
      set = this.sets.indexOf(sigmoid.elementwiseSet);
      if (set < 0) throw new InvalidValueError(`${this.name}: the sigmoid epilogue needs a native element-wise set (${this.sets.join(', ')}), got "${sigmoid.elementwiseSet}"`);
      if (sigmoid.bias !== undefined && sigmoid.bias.length !== n) throw new InvalidValueError(`${this.name}: the sigmoid epilogue's bias has ${sigmoid.bias.length} elements, C has ${n} columns`);
    }
    if (bBits === undefined) this.entry(this.kernelIndex, this.threads, m, n, k, a, transposeA, b, transposeB, c, alpha, beta, set, sigmoid?.bias ?? null);
    else this.entry(this.kernelIndex, this.threads, m, n, k, a, transposeA, b, transposeB, c, alpha, beta, set, sigmoid?.bias ?? null, bBits);
  }
}

function make(native: NativeAddon, kernels: readonly string[], mixed: boolean, options: NativeGemmOptions, caller: string): Gemm {
  const kernelIndex = options.kernel === undefined ? 0 : kernels.indexOf(options.kernel);
  if (kernelIndex < 0) throw new InvalidValueError(`${caller}: kernel "${options.kernel}" is not one of ${kernels.join(', ')} on this processor`);
  const threads = options.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0) throw new InvalidValueError(`${caller}: threads must be a non-negative integer, got ${threads}`);
  const entry: Entry = mixed ? native.gemmBf16.bind(native) : native.gemm.bind(native);
  return new NativeGemm(entry, kernels[kernelIndex]!, kernelIndex, threads, mixed, native.elementwise);
}

/**
 * The native Gemm, or undefined when the addon is not built or cannot load here (see
 * `nativeGemmUnavailableReason`). Throws only for bad options (an unknown kernel name).
 */
export function nativeGemm(options: NativeGemmOptions = {}): Gemm | undefined {
  const native = nativeAddon();
  return native === null ? undefined : make(native, native.kernels, false, options, 'nativeGemm');
}

/**
 * A native mixed-precision Gemm (its `operands` is "bfloat16"), or undefined when the addon is
 * not built or cannot load. Without `kernel` it is the fastest one here, which is the portable
 * emulation on a processor without bfloat16 instructions: check `nativeBf16Kernels()` (or use
 * `bfloat16Hardware()`) before relying on its speed.
 */
export function nativeBf16Gemm(options: NativeGemmOptions = {}): Gemm | undefined {
  const native = nativeAddon();
  return native === null ? undefined : make(native, native.bf16Kernels, true, options, 'nativeBf16Gemm');
}

/**
 * The fastest mixed-precision kernel that runs on bfloat16 instructions here, or a sentence
 * saying why there is none (no addon, or a processor without AVX512-BF16).
 */
export function bfloat16Hardware(): { kernel: string } | { why: string } {
  const native = nativeAddon();
  if (native === null) return { why: `the native addon is unavailable: ${nativeAddonUnavailableReason()}` };
  const fast = native.bf16Kernels.find((k) => k !== EMULATED_BF16_KERNEL);
  return fast !== undefined ? { kernel: fast } : { why: 'this processor has no bfloat16 matrix instructions the addon can use (it needs AVX512-BF16)' };
}
