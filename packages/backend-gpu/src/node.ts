/**
 * @boltzmann/backend-gpu for Node: index.ts plus WebGPU through Dawn (the `webgpu` package).
 * The package's "browser" condition gives index.ts alone, which uses the browser's navigator.gpu.
 */
import './dawn-node.js';

export * from './index.js';
