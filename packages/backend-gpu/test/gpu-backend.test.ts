import { describeBackendConformance } from '@boltzmann/tensor/testing';
import { probeGpuModes, GpuBackend, type ModeProbe } from '../src/index.js';

// float32 kernels against the float64 oracle: the suite's default float32 tolerance fits
const tolerance = 2e-5;
// the suite's 100x784x33 product in all four transpose forms is slow on the plain-JS mode; these keep 1, 3 and 129
const smallMatmulShapes: Array<[number, number, number]> = [
  [1, 1, 1],
  [3, 5, 7],
  [1, 129, 3],
  [129, 3, 1],
  [17, 129, 65],
];

describeBackendConformance('GpuBackend webasm', () => new GpuBackend({ mode: 'webasm' }), { tolerance });
describeBackendConformance('GpuBackend webasm, emulated in-kernel RNG', () => new GpuBackend({ mode: 'webasm', randomStrategy: 'emulated' }), {
  tolerance,
  matmulShapes: smallMatmulShapes,
});
describeBackendConformance('GpuBackend cpu', () => new GpuBackend({ mode: 'cpu' }), { tolerance, matmulShapes: smallMatmulShapes });
