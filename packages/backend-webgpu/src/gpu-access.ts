/// <reference types="@webgpu/types" />
/**
 * Where a WebGPU device comes from: `navigator.gpu` in a browser (or any environment that
 * provides it), else, in Node, the optional `webgpu` package (Dawn's Node binding, >= 0.6),
 * imported only then, so browser bundles never load it.
 */

type GlobalWithGpu = typeof globalThis & { navigator?: { gpu?: GPU } };

/** The environment's WebGPU entry point, or the reason there is none. */
export async function findGpu(): Promise<GPU | string> {
  const fromNavigator = (globalThis as GlobalWithGpu).navigator?.gpu;
  if (fromNavigator) return fromNavigator;
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode) return 'navigator.gpu is missing (this browser has no WebGPU, or it is disabled)';
  try {
    // a variable specifier keeps bundlers from pulling Dawn into browser bundles
    const specifier = 'webgpu';
    const dawn = (await import(specifier)) as { create(flags: string[]): GPU };
    return dawn.create([]);
  } catch (e) {
    return `no navigator.gpu, and the "webgpu" package (Dawn for Node, >= 0.6) does not load: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** What a device was made from, for messages and benchmarks. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** An adapter and a device with the adapter's limits where they exceed the defaults we rely on. */
export async function requestDevice(gpu: GPU, powerPreference: GPUPowerPreference = 'high-performance'): Promise<{ device: GPUDevice; adapter: AdapterDescription } | string> {
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) return 'WebGPU found no adapter (no GPU, or its driver is not supported)';
  const info = adapter.info ?? { vendor: '', architecture: '', device: '', description: '' };
  const want = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension'] as const;
  const requiredLimits: Record<string, number> = {};
  for (const name of want) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredLimits });
  return { device, adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description } };
}
