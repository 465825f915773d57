/**
 * @boltzmann/backend-webgpu: the Backend on WebGPU compute shaders with hand-written WGSL kernels.
 * Runs wherever `navigator.gpu` exists (browsers) and in Node through the optional `webgpu`
 * package (Dawn) on a machine with a GPU. Create it with `await WebGpuBackend.create()`.
 */
export { WebGpuBackend, type WebGpuBackendOptions } from './webgpu-backend.js';
export { WebGpuTensor } from './webgpu-tensor.js';
export { findGpu, requestDevice, type AdapterDescription } from './gpu-access.js';
export { LARGE_TILE, MEDIUM_TILE, tileFor, type MatmulTile } from './kernels/matmul.js';
