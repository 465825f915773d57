/**
 * What the CPU backend runs on this machine, and why: the native addon (where it was loaded
 * from, its micro-kernels, SIMD level and threads) and, for each kind of kernel, the one a new
 * `CpuBackend` picks and the faster ones it passed over with the reason. `boltzmann info`
 * prints this; a new kind of kernel (another precision, another op) is one more `KernelChoice`.
 */
import type { Precision } from '@boltzmann/tensor';
import { bfloat16Hardware } from './gemm-native.js';
import { gemmCandidates, probeArray } from './gemm-select.js';
import { nativeAddon, nativeAddonFile, nativeAddonUnavailableReason, prebuiltAddonPath } from './native-addon.js';

/** One kind of kernel: the one in use and the faster ones not taken. */
export interface KernelChoice {
  /** What it computes, e.g. "matrix product, float32". */
  readonly role: string;
  /** The kernel a new CpuBackend uses. */
  readonly chosen: string;
  /** Faster kernels that were not taken, fastest first, each with the reason. */
  readonly passedOver: readonly { readonly name: string; readonly reason: string }[];
}

/** The native addon as loaded in this process. */
export interface NativeAddonReport {
  readonly loaded: boolean;
  /** The file it came from: "prebuilt" (shipped in the package) or "compiled" (on this machine). */
  readonly origin?: 'prebuilt' | 'compiled';
  readonly file?: string;
  /** Why it did not load. */
  readonly reason?: string;
  /** Matrix-product micro-kernels this processor runs, fastest first. */
  readonly gemmKernels: readonly string[];
  /** bfloat16-mixed product kernels, hardware first, then the portable emulation. */
  readonly bf16Kernels: readonly string[];
  /** Element-wise kernel sets this processor runs, fastest first. */
  readonly elementwiseSets: readonly string[];
  /** Threads one product may use. */
  readonly threads: number;
}

/** Everything `describeCpuKernels` reports. */
export interface CpuKernelReport {
  readonly native: NativeAddonReport;
  /** The widest SIMD the picked float32 kernels use: "avx512", "avx2", "wasm-simd128" or "none". */
  readonly simd: string;
  readonly choices: readonly KernelChoice[];
}

function gemmChoice(precision: Precision): KernelChoice {
  const probe = probeArray(precision);
  const passedOver: { name: string; reason: string }[] = [];
  for (const candidate of gemmCandidates) {
    const gemm = candidate.create();
    if (gemm === undefined) {
      passedOver.push({ name: candidate.name, reason: candidate.unavailableReason?.() || 'unavailable here' });
    } else if (!gemm.supports(probe)) {
      passedOver.push({ name: gemm.name, reason: `does not handle ${precision}` });
    } else {
      return { role: `matrix product, ${precision}`, chosen: gemm.name, passedOver };
    }
  }
  return { role: `matrix product, ${precision}`, chosen: 'none', passedOver };
}

/** The bfloat16-mixed product: the hardware kernel, or none (it never falls back silently). */
function bfloat16Choice(): KernelChoice {
  const hardware = bfloat16Hardware();
  return 'kernel' in hardware
    ? { role: 'matrix product, bfloat16-mixed', chosen: `native-${hardware.kernel}`, passedOver: [] }
    : { role: 'matrix product, bfloat16-mixed', chosen: 'none', passedOver: [{ name: 'native bfloat16', reason: hardware.why }] };
}

function elementwiseChoice(): KernelChoice {
  const sets = nativeAddon()?.elementwise ?? [];
  const chosen = sets[0];
  return chosen === undefined
    ? { role: 'sigmoid and axpby, float32', chosen: 'typescript', passedOver: [{ name: 'native', reason: nativeAddonUnavailableReason() }] }
    : { role: 'sigmoid and axpby, float32', chosen: `native-${chosen}`, passedOver: [] };
}

/** The CPU backend's kernels on this machine (loads the addon if it was not loaded yet). */
export function describeCpuKernels(): CpuKernelReport {
  const addon = nativeAddon();
  const file = nativeAddonFile();
  const native: NativeAddonReport =
    addon === null
      ? { loaded: false, reason: nativeAddonUnavailableReason(), gemmKernels: [], bf16Kernels: [], elementwiseSets: [], threads: 0 }
      : { loaded: true, origin: file === prebuiltAddonPath() ? 'prebuilt' : 'compiled', file, gemmKernels: addon.kernels, bf16Kernels: addon.bf16Kernels, elementwiseSets: addon.elementwise, threads: addon.maxThreads };
  const choices = [gemmChoice('float32'), gemmChoice('float64'), elementwiseChoice(), bfloat16Choice()];
  const f32 = choices[0]!.chosen;
  const simd = f32.startsWith('native-') ? (/avx512|avx2/.exec(f32)?.[0] ?? 'none') : f32.startsWith('wasm-simd') ? 'wasm-simd128' : 'none';
  return { native, simd, choices };
}
