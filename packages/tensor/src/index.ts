/**
 * @boltzmann/tensor: the host Matrix type, the Backend interface every compute backend
 * implements, the counter-based RNG, the float64 reference backend (the test oracle) and
 * the framework's error classes.
 */
export * from './errors.js';
export * from './matrix.js';
export * from './bfloat16.js';
export * from './rng.js';
export * from './backend.js';
export * from './axpby-passes.js';
export * from './op-arguments.js';
export * from './backend-tensor.js';
export * from './reference-backend.js';
export * from './backend-registry.js';
