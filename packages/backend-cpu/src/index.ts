/**
 * @boltzmann/backend-cpu: the Backend on typed arrays in TypeScript, the fallback on every
 * machine. Importing this package registers it as backend "cpu" (priority 10).
 */
import { registerBackend } from '@boltzmann/tensor';
import { CpuBackend } from './cpu-backend.js';

export { CpuBackend, type CpuBackendOptions } from './cpu-backend.js';
export { CpuTensor } from './cpu-tensor.js';
export type { Gemm, GemmArgs } from './gemm.js';
export { TsGemm } from './gemm-ts.js';
export { selectGemm, gemmCandidates, type GemmCandidate } from './gemm-select.js';

registerBackend({
  name: 'cpu',
  priority: 10,
  available: () => true,
  create: (options) => new CpuBackend({ precision: options?.precision }),
});
