import { BackendTensor, type FloatArray } from '@boltzmann/tensor';

const released = new Float32Array(0);

/**
 * A tensor of the CPU backend: a row-major typed array (float32 or float64 by the backend's
 * precision). Its maker is the backend instance itself, so two backends that share a name
 * still cannot use each other's tensors (their precisions may differ).
 */
export class CpuTensor extends BackendTensor {
  private store: FloatArray;

  constructor(rows: number, cols: number, data: FloatArray, owner: string, maker: object) {
    super(rows, cols, owner, maker);
    this.store = data;
  }

  /** The elements, row-major; empty once disposed. */
  get data(): FloatArray {
    return this.store;
  }

  /** Marks it disposed and drops the elements so their memory can be reclaimed. */
  override markDisposed(): void {
    super.markDisposed();
    this.store = released;
  }
}
