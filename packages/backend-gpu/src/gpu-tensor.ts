import type { Tensor } from '@boltzmann/tensor';
import type { StoredValue } from './tensor-store.js';

/**
 * A tensor of the gpu.js backend. Every kernel writes a fresh result (gpu.js kernels own their
 * outputs), so an op points its `out` tensor at that result and frees what the tensor held
 * before; that is also why `out` may alias an input of any op. `maker` is the backend instance,
 * so two backends with the same name still cannot use each other's tensors.
 */
export class GpuTensor implements Tensor {
  /** The data; null before the first op that fills it runs (asynchronous modes) and after dispose. */
  value: StoredValue | null = null;
  private released = false;

  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly owner: string,
    readonly maker: object,
  ) {}

  /** Whether `dispose` was called; ops then reject it. */
  get disposed(): boolean {
    return this.released;
  }

  /** Marks it disposed (its memory is freed in op order by the backend). */
  markDisposed(): void {
    this.released = true;
  }
}
