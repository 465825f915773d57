/**
 * The backends the benchmarks compare: the CPU backend with each matrix-product kernel that
 * runs here (with the element-wise kernels CpuBackend picks beside it, and once with
 * TypeScript element-wise ops), and any gpu.js backend the backend-gpu package registers. Each entry says why it
 * is missing when it cannot run, so a run's output always accounts for every configuration.
 */
import { createBackend, listBackends, type Backend } from '@boltzmann/tensor';
import {
  CpuBackend,
  TsGemm,
  bfloat16Hardware,
  nativeBf16Gemm,
  nativeElementwise,
  nativeElementwiseSets,
  nativeElementwiseUnavailableReason,
  nativeGemm,
  nativeGemmUnavailableReason,
  nativeKernels,
  wasmGemm,
  wasmGemmUnavailableReason,
  type Gemm,
  type NativeElementwise,
} from '@boltzmann/backend-cpu';

/** Suffix of a configuration that keeps the element-wise ops in TypeScript ("native+ts-elementwise"). */
const TS_ELEMENTWISE = '+ts-elementwise';

export interface GemmConfiguration {
  name: string;
  /** The kernel, or undefined with `why` set. */
  gemm: Gemm | undefined;
  why: string;
}

/** Every CPU matrix-product kernel worth comparing, fastest expected first. */
export function gemmConfigurations(): GemmConfiguration[] {
  const list: GemmConfiguration[] = [];
  const kernels = nativeKernels();
  list.push({ name: 'native', gemm: nativeGemm(), why: nativeGemmUnavailableReason() });
  list.push({ name: 'native-1thread', gemm: nativeGemm({ threads: 1 }), why: nativeGemmUnavailableReason() });
  // The AVX2 kernel too where AVX-512 is the default: it is what a machine without AVX-512 gets.
  if (kernels.length > 1 && kernels[0]!.startsWith('avx512') && kernels.includes('avx2-6x16')) {
    list.push({ name: 'native-avx2', gemm: nativeGemm({ kernel: 'avx2-6x16' }), why: '' });
  }
  // Precision bfloat16-mixed: the mixed-precision kernel on bfloat16 instructions, where there are any.
  const bf16 = bfloat16Hardware();
  list.push('kernel' in bf16 ? { name: 'native-bf16', gemm: nativeBf16Gemm({ kernel: bf16.kernel }), why: '' } : { name: 'native-bf16', gemm: undefined, why: bf16.why });
  list.push({ name: 'wasm', gemm: wasmGemm(), why: wasmGemmUnavailableReason() });
  list.push({ name: 'wasm-1thread', gemm: wasmGemm({ threads: 1 }), why: wasmGemmUnavailableReason() });
  list.push({ name: 'ts', gemm: new TsGemm(), why: '' });
  return list;
}

/**
 * The element-wise kernels of a kernel configuration, as CpuBackend would pick them on the
 * machine it stands for: the native ones with a native gemm (the AVX2 set with the AVX2
 * kernel), TypeScript with wasm and ts (the fallbacks where the addon is not built).
 */
function elementwiseFor(gemmName: string): { elementwise?: NativeElementwise | 'typescript'; why: string } {
  if (!gemmName.startsWith('native')) return { elementwise: 'typescript', why: '' };
  const set = gemmName === 'native-avx2' && nativeElementwiseSets().includes('avx2') ? 'avx2' : undefined;
  const elementwise = nativeElementwise({ set });
  return elementwise === undefined ? { why: nativeElementwiseUnavailableReason() } : { elementwise, why: '' };
}

/**
 * A CPU backend for a configuration name (float32; bfloat16-mixed for "native-bf16"): a kernel configuration of
 * `gemmConfigurations()` with the element-wise kernels CpuBackend uses beside it, or that name
 * plus "+ts-elementwise" for TypeScript element-wise ops; or the reason it cannot run.
 */
export function cpuBackendFor(name: string): { backend?: Backend; why: string } {
  const tsElementwise = name.endsWith(TS_ELEMENTWISE);
  const gemmName = tsElementwise ? name.slice(0, -TS_ELEMENTWISE.length) : name;
  const found = gemmConfigurations().find((c) => c.name === gemmName);
  if (found === undefined) return { why: `unknown configuration "${name}"` };
  if (found.gemm === undefined) return { why: found.why };
  const { elementwise, why } = tsElementwise ? { elementwise: 'typescript' as const, why: '' } : elementwiseFor(gemmName);
  if (elementwise === undefined) return { why };
  const precision = found.gemm.operands === 'bfloat16' ? 'bfloat16-mixed' : 'float32';
  return { backend: new CpuBackend({ precision, gemm: found.gemm, elementwise }), why: '' };
}

/**
 * What a CPU backend runs, as the benchmarks print it: "cpu:" with the gemm kernel's name and,
 * after "+", CpuBackend's own `elementwise` ("typescript" or "native-" and the set), so every
 * benchmark child names the same kernels the same way.
 */
export function cpuBackendLabel(backend: CpuBackend): string {
  return `cpu${backend.precision === 'bfloat16-mixed' ? ' bfloat16-mixed' : ''}:${backend.gemm.name}+${backend.elementwise}`;
}

/**
 * The configurations of bench/rbm-epoch.ts by default: every kernel (wasm on one thread aside),
 * and the native gemm with TypeScript element-wise ops to show what the native ones save.
 */
export function epochConfigurationNames(): string[] {
  const names = gemmConfigurations()
    .filter((c) => c.name !== 'wasm-1thread' && (c.name !== 'native-bf16' || c.gemm !== undefined))
    .map((c) => c.name);
  return names.flatMap((n) => (n === 'native' ? [n, `native${TS_ELEMENTWISE}`] : [n]));
}

/** Names of the gpu.js backends registered by @boltzmann/backend-gpu, or why there are none. */
export async function gpuBackendNames(): Promise<{ names: string[]; why: string }> {
  // A variable specifier: the package may not exist yet, and then this configuration is skipped.
  const gpuPackage = '@boltzmann/backend-gpu';
  try {
    await import(gpuPackage);
  } catch (error) {
    return { names: [], why: `@boltzmann/backend-gpu did not load: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
  }
  const names = listBackends().filter((n) => n.startsWith('gpu'));
  return { names, why: names.length === 0 ? '@boltzmann/backend-gpu registers no backend' : '' };
}

/** A backend by configuration name: a CPU kernel configuration or a registered gpu.js backend. */
export async function backendFor(name: string): Promise<{ backend?: Backend; why: string }> {
  if (!name.startsWith('gpu')) return cpuBackendFor(name);
  const { why } = await gpuBackendNames();
  if (why) return { why };
  try {
    return { backend: createBackend(name, { precision: 'float32' }), why: '' };
  } catch (error) {
    return { why: error instanceof Error ? error.message : String(error) };
  }
}
