import { BackendTensor } from '@boltzmann/tensor';
import type { StoredValue } from './tensor-store.js';

/**
 * A tensor of the gpu.js backend. Every kernel writes a fresh result (gpu.js kernels own their
 * outputs), so an op points its `out` tensor at that result and frees what the tensor held
 * before; that is also why `out` may alias an input of any op.
 */
export class GpuTensor extends BackendTensor {
  /** The data; null before the first op that fills it runs (asynchronous modes) and after dispose. */
  value: StoredValue | null = null;
}
