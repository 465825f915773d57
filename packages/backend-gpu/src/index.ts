/**
 * @boltzmann/backend-gpu: the Backend on gpu.js kernels (WebGPU, headless WebGL, WebAssembly
 * SIMD or plain JavaScript). Importing it registers one backend per mode, best first:
 * "gpu.js:webgpu" (priority 30), "gpu.js:webgl2" (25, browsers), "gpu.js:headlessgl" (20), "gpu.js:webasm" (5), "gpu.js:cpu" (1),
 * and "gpu.js" (priority 0), which picks the first working mode itself.
 */
import { registerBackend } from '@boltzmann/tensor';
import { GpuBackend } from './gpu-backend.js';
import { AUTO_ORDER, modeAvailable, type GpuMode } from './modes.js';

export { GpuBackend, type GpuBackendOptions } from './gpu-backend.js';
export { GpuTensor } from './gpu-tensor.js';
export { AUTO_ORDER, modeAvailable, probeGpuMode, probeGpuModes, probeModeSync, type GpuMode, type GpuModeOption, type ModeProbe } from './modes.js';
export type { RandomStrategy } from './random-kernels.js';

const priorities: Record<GpuMode, number> = { webgpu: 30, webgl2: 25, headlessgl: 20, webasm: 5, cpu: 1 };

for (const mode of Object.keys(priorities) as GpuMode[]) {
  registerBackend({
    name: `gpu.js:${mode}`,
    priority: priorities[mode],
    // a probe kernel run once and cached; for webgpu, reachability until an adapter probe settles it
    available: () => modeAvailable(mode),
    create: (options) => new GpuBackend({ mode, precision: options?.precision }),
  });
}

registerBackend({
  name: 'gpu.js',
  // below every concrete entry: it is reached by name, never preferred by createBackend('auto')
  priority: 0,
  available: () => AUTO_ORDER.some((m) => m !== 'webgpu' && modeAvailable(m)),
  create: (options) => new GpuBackend({ mode: 'auto', precision: options?.precision }),
});
