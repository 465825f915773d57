/**
 * The backends the benchmarks compare: the CPU backend with each matrix-product kernel that
 * runs here, and any gpu.js backend the backend-gpu package registers. Each entry says why it
 * is missing when it cannot run, so a run's output always accounts for every configuration.
 */
import { createBackend, listBackends, type Backend } from '@boltzmann/tensor';
import { CpuBackend, TsGemm, type Gemm } from '@boltzmann/backend-cpu';
import { nativeGemm, nativeGemmUnavailableReason, nativeKernels } from '../packages/backend-cpu/src/gemm-native.js';
import { wasmGemm, wasmGemmUnavailableReason } from '../packages/backend-cpu/src/gemm-wasm.js';

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
  list.push({ name: 'wasm', gemm: wasmGemm(), why: wasmGemmUnavailableReason() });
  list.push({ name: 'wasm-1thread', gemm: wasmGemm({ threads: 1 }), why: wasmGemmUnavailableReason() });
  list.push({ name: 'ts', gemm: new TsGemm(), why: '' });
  return list;
}

/** A float32 CPU backend on the named kernel configuration, or the reason it cannot run. */
export function cpuBackendFor(name: string): { backend?: Backend; why: string } {
  const found = gemmConfigurations().find((c) => c.name === name);
  if (found === undefined) return { why: `unknown configuration "${name}"` };
  if (found.gemm === undefined) return { why: found.why };
  return { backend: new CpuBackend({ precision: 'float32', gemm: found.gemm, name: `cpu:${found.gemm.name}` }), why: '' };
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
