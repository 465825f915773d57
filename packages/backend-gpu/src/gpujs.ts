/**
 * The slice of gpu.js 2.24 this package uses, typed narrowly. gpu.js is CommonJS and its own
 * typings describe a looser API (and miss `input` as a value), so the module is viewed through
 * these interfaces once, here, instead of casting at every call site.
 */
import GPUjs from 'gpu.js';

/** A flat host array with the [width, height] gpu.js should index it by (`a[y][x]`). */
export interface GpuJsInput {
  readonly value: Float32Array;
  readonly size: number[];
}

/**
 * A kernel result that stays in device memory (pipeline mode): a GL `Texture` or a WebGPU
 * `WebGPUBufferResult`. Both carry the logical output size and free their memory on `delete`.
 */
export interface DeviceHandle {
  readonly type: string;
  readonly output: number[];
  /** GL: the values, synchronously. WebGPU: a Promise of them. */
  toArray(): unknown;
  delete(): void;
}

/** Anything this package passes to a kernel. */
export type KernelArgument = number | GpuJsInput | DeviceHandle;

/** Kernel settings this package sets (a subset of gpu.js's `IGPUKernelSettings`). */
export interface KernelSettings {
  output: [number, number];
  constants?: Record<string, number>;
  functions?: string[];
  loopMaxIterations?: number;
  pipeline?: boolean;
  immutable?: boolean;
  precision?: 'single';
  tactic?: 'precision';
  asyncMode?: boolean;
  poolSize?: number;
  strictIntegers?: boolean;
  dynamicOutput?: boolean;
  dynamicArguments?: boolean;
}

/** The inner Kernel object of a compiled kernel (what actually runs, after any fallback). */
export interface KernelInstance {
  readonly constructor: { readonly mode: string };
  readonly fallbackReason?: string | null;
}

/** A compiled kernel: call it with its arguments. */
export interface CompiledKernel {
  (...args: KernelArgument[]): unknown;
  readonly kernel: KernelInstance;
  destroy(): void;
}

/** A gpu.js `GPU` instance bound to one mode. */
export interface GpuInstance {
  readonly mode: string;
  createKernel(source: string, settings: KernelSettings): CompiledKernel;
  destroy(): Promise<void> | void;
}

interface GpuJsModule {
  GPU: new (settings: { mode: string }) => GpuInstance;
  input(value: Float32Array, size: number[]): GpuJsInput;
  HeadlessGLKernel: { readonly isSupported: boolean };
  WebGL2Kernel: (abstract new (...args: never[]) => object) & { readonly isSupported: boolean };
  WebAssemblyKernel: { readonly isSupported: boolean };
  WebGPUKernel: { readonly isSupported: boolean };
}

/** gpu.js, typed. */
export const gpujs = GPUjs as unknown as GpuJsModule;

/** Whether `value` is a device-resident kernel result rather than host memory. */
export function isDeviceHandle(value: unknown): value is DeviceHandle {
  return typeof value === 'object' && value !== null && typeof (value as DeviceHandle).delete === 'function' && Array.isArray((value as DeviceHandle).output);
}

/**
 * The mode a compiled kernel really runs in, named as this package names modes: gpu.js calls
 * both of its browser WebGL kernels "gpu", so WebGL2 is told apart by its class.
 */
export function kernelMode(kernel: CompiledKernel): string {
  const mode = kernel.kernel.constructor.mode;
  if (mode !== 'gpu') return mode;
  return kernel.kernel instanceof gpujs.WebGL2Kernel ? 'webgl2' : 'webgl';
}
