import type { FloatArray, Tensor } from '@boltzmann/tensor';

const released = new Float32Array(0);

/**
 * A tensor of the CPU backend: a row-major typed array (float32 or float64 by the backend's
 * precision) plus who made it. `maker` is the backend instance itself, so two backends that
 * share a name still cannot use each other's tensors (their precisions may differ).
 */
export class CpuTensor implements Tensor {
  private store: FloatArray;
  private released = false;

  constructor(
    readonly rows: number,
    readonly cols: number,
    data: FloatArray,
    readonly owner: string,
    readonly maker: object,
  ) {
    this.store = data;
  }

  /** The elements, row-major; empty once disposed. */
  get data(): FloatArray {
    return this.store;
  }

  /** Whether `dispose` freed it; ops then reject it. */
  get disposed(): boolean {
    return this.released;
  }

  /** Drops the elements so their memory can be reclaimed. */
  release(): void {
    this.released = true;
    this.store = released;
  }
}
