/**
 * @boltzmann/backend-cpu: the Backend on typed arrays in TypeScript, the fallback on every
 * machine, with native (C++ addon) and WebAssembly SIMD matrix products and native float32
 * element-wise kernels where they run. Importing this package registers it as backend "cpu"
 * (priority 10).
 */
import { registerBackend } from '@boltzmann/tensor';
import { CpuBackend } from './cpu-backend.js';

export { CpuBackend, type CpuBackendOptions } from './cpu-backend.js';
export { CpuTensor } from './cpu-tensor.js';
export type { Gemm, GemmArgs } from './gemm.js';
export { TsGemm } from './gemm-ts.js';
export { selectGemm, gemmCandidates, type GemmCandidate } from './gemm-select.js';
/**
 * The native addon's matrix product (float32; AVX-512 / AVX2 / generic micro-kernels, a small
 * thread pool): `nativeGemm()` is undefined where the addon is not built or cannot load, and
 * `nativeGemmUnavailableReason()` then says why; `nativeKernels()` lists the micro-kernels.
 */
export { nativeGemm, nativeGemmUnavailableReason, nativeKernels, type NativeGemmOptions } from './gemm-native.js';
/**
 * The addon's mixed-precision matrix products (precision "bfloat16-mixed": operands rounded to
 * bfloat16, float32 accumulation): `nativeBf16Kernels()` lists them ("avx512bf16-12x32" where
 * the processor has AVX512-BF16, then the portable "bf16-emulated-4x16"), `nativeBf16Gemm()`
 * makes one, `bfloat16Hardware()` says which fast one runs here or why none does.
 */
export { EMULATED_BF16_KERNEL, bfloat16Hardware, nativeBf16Gemm, nativeBf16Kernels } from './gemm-native.js';
/**
 * The WebAssembly SIMD matrix product (float32, threads on shared memory), the fallback where
 * the addon is missing: `wasmGemm()` is undefined where WebAssembly SIMD or shared memory is
 * unavailable, and `wasmGemmUnavailableReason()` then says why.
 */
export { wasmGemm, wasmGemmUnavailableReason, type WasmGemmOptions } from './gemm-wasm.js';
/**
 * The native addon's vectorized float32 sigmoid (with a fused bias row) and axpby, which
 * `CpuBackend` uses by default in float32 (its `elementwise` option and property):
 * `nativeElementwise()` is undefined where the addon is not built, and
 * `nativeElementwiseUnavailableReason()` then says why; `nativeElementwiseSets()` lists the
 * kernel sets this processor runs.
 */
export { nativeElementwise, nativeElementwiseSets, nativeElementwiseUnavailableReason, type NativeElementwise, type NativeAxpbyPass, type NativeRoundedCopy } from './native-elementwise.js';

registerBackend({
  name: 'cpu',
  priority: 10,
  available: () => true,
  create: (options) => new CpuBackend({ precision: options?.precision }),
});
/**
 * What the CPU backend runs here and why (`boltzmann info` prints it): the native addon's
 * origin (prebuilt in the package or compiled on this machine), micro-kernels, SIMD level and
 * threads, and per kind of kernel the one picked and the faster ones passed over, with reasons.
 */
export { describeCpuKernels, type CpuKernelReport, type KernelChoice, type NativeAddonReport } from './kernel-report.js';
