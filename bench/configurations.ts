/**
 * The backends the benchmarks compare: the CPU backend with each matrix-product kernel that
 * runs here, and any gpu.js backend the backend-gpu package registers. Each entry says why it
 * is missing when it cannot run, so a run's output always accounts for every configuration.
 */
import { ShapeError, createBackend, listBackends, type Backend, type LinearOptions, type Tensor } from '@boltzmann/tensor';
import { CpuBackend, CpuTensor, TsGemm, type Gemm } from '@boltzmann/backend-cpu';
import { nativeGemm, nativeGemmUnavailableReason, nativeKernels } from '../packages/backend-cpu/src/gemm-native.js';
import { wasmGemm, wasmGemmUnavailableReason } from '../packages/backend-cpu/src/gemm-wasm.js';
import { nativeElementwise, type NativeElementwise } from '../packages/backend-cpu/src/native-elementwise.js';

/** Names of the configurations that add native element-wise ops to the CPU backend. */
const WITH_ELEMENTWISE = '+elementwise';

/**
 * A prototype of hooking the native element-wise kernels into CpuBackend (which does not use
 * them yet): float32 sigmoid epilogues of `linear` and `axpby` go native, the rest stays.
 */
class CpuBackendWithNativeElementwise extends CpuBackend {
  constructor(
    gemm: Gemm,
    name: string,
    private readonly elementwise: NativeElementwise,
  ) {
    super({ precision: 'float32', gemm, name });
  }

  override linear(x: Tensor, w: Tensor, bias: Tensor, out: Tensor, options: LinearOptions = {}): void {
    if (options.activation !== 'sigmoid' || !(bias instanceof CpuTensor) || !(out instanceof CpuTensor)) return super.linear(x, w, bias, out, options);
    if (bias.rows !== 1 || bias.cols !== out.cols) throw new ShapeError(`linear: bias must be 1x${out.cols}, got ${bias.rows}x${bias.cols}`);
    super.matmul(x, w, out, { transposeB: options.transposeW ?? false });
    this.elementwise.sigmoid(out.data as Float32Array, out.data as Float32Array, out.rows, out.cols, bias.data as Float32Array);
  }

  override axpby(alpha: number, x: Tensor, beta: number, y: Tensor, out: Tensor): void {
    if (!(x instanceof CpuTensor) || !(y instanceof CpuTensor) || !(out instanceof CpuTensor)) return super.axpby(alpha, x, beta, y, out);
    if (y.rows !== x.rows || y.cols !== x.cols || out.rows !== x.rows || out.cols !== x.cols) throw new ShapeError('axpby: x, y and out must have one shape');
    this.elementwise.axpby(alpha, x.data as Float32Array, beta, y.data as Float32Array, out.data as Float32Array);
  }
}

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
  const withElementwise = name.endsWith(WITH_ELEMENTWISE);
  const gemmName = withElementwise ? name.slice(0, -WITH_ELEMENTWISE.length) : name;
  const found = gemmConfigurations().find((c) => c.name === gemmName);
  if (found === undefined) return { why: `unknown configuration "${name}"` };
  if (found.gemm === undefined) return { why: found.why };
  if (!withElementwise) return { backend: new CpuBackend({ precision: 'float32', gemm: found.gemm, name: `cpu:${found.gemm.name}` }), why: '' };
  const elementwise = nativeElementwise();
  if (elementwise === undefined) return { why: 'the native addon is not built' };
  return { backend: new CpuBackendWithNativeElementwise(found.gemm, `cpu:${found.gemm.name}+${elementwise.name}`, elementwise), why: '' };
}

/** The configurations of bench/rbm-epoch.ts by default: every kernel, and native with native element-wise ops. */
export function epochConfigurationNames(): string[] {
  const names = gemmConfigurations().filter((c) => c.name !== 'wasm-1thread').map((c) => c.name);
  return [`native${WITH_ELEMENTWISE}`, ...names];
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
