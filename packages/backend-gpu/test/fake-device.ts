/**
 * A stand-in for gpu.js in a device mode, for machines without a GPU: kernels compute on webasm,
 * but results come back the way webgpu and headlessgl hand them out, as handles (a buffer or
 * texture stand-in with `output`, `toArray` and `delete`) that later kernels take as arguments.
 * Playing webgpu, every call returns a Promise and the first call of each kernel resolves late
 * (its asynchronous build), and readback is asynchronous. It counts live handles and records
 * misuse (reading or passing a deleted handle, deleting twice), so tests can prove the backend
 * frees every device result exactly once and never touches one after freeing it.
 */
import { gpujs, type CompiledKernel, type DeviceHandle, type GpuInstance, type KernelArgument, type KernelSettings } from '../src/gpujs.js';
import { flattenResult } from '../src/tensor-store.js';

class FakeHandle implements DeviceHandle {
  readonly type: string;
  private deleted = false;

  constructor(
    readonly output: number[],
    private readonly data: Float32Array,
    private readonly device: FakeDevice,
  ) {
    this.type = device.mode === 'webgpu' ? 'WebGPUBuffer' : 'NumberTexture';
  }

  /** The data as a kernel argument, or a recorded misuse. */
  argument(): KernelArgument {
    if (this.deleted) this.device.misuse.push('a deleted handle was passed to a kernel');
    return gpujs.input(this.data, [this.output[0]!, this.output[1]!]);
  }

  toArray(): unknown {
    if (this.deleted) this.device.misuse.push('a deleted handle was read');
    const [cols, rows] = this.output as [number, number];
    const copy = this.data.slice();
    const shaped = Array.from({ length: rows }, (_, r) => copy.subarray(r * cols, (r + 1) * cols));
    return this.device.mode === 'webgpu' ? Promise.resolve(shaped) : shaped;
  }

  delete(): void {
    if (this.deleted) this.device.misuse.push('a handle was deleted twice');
    else this.device.live--;
    this.deleted = true;
  }
}

/** A gpu.js stand-in playing a device mode on webasm kernels. */
export class FakeDevice implements GpuInstance {
  /** Handles handed out and not yet deleted. */
  live = 0;
  readonly misuse: string[] = [];
  private readonly real = new gpujs.GPU({ mode: 'webasm' });

  constructor(readonly mode: 'webgpu' | 'headlessgl') {}

  createKernel(source: string, settings: KernelSettings): CompiledKernel {
    const kernel = this.real.createKernel(source, { ...settings, pipeline: false });
    const [cols, rows] = settings.output;
    let built = false;
    const run = (...args: KernelArgument[]): unknown => {
      const values = args.map((a) => (a instanceof FakeHandle ? a.argument() : a));
      const handle = new FakeHandle([cols, rows], flattenResult(kernel(...values), rows, cols).slice(), this);
      this.live++;
      if (this.mode !== 'webgpu') return handle;
      if (built) return Promise.resolve(handle);
      built = true;
      return new Promise((resolve) => setTimeout(() => resolve(handle), 1));
    };
    return Object.assign(run, { kernel: { constructor: { mode: this.mode } }, destroy: () => kernel.destroy() }) as unknown as CompiledKernel;
  }

  destroy(): Promise<void> | void {
    return this.real.destroy();
  }
}
