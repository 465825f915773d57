/// <reference types="@webgpu/types" />
import { BackendTensor } from '@boltzmann/tensor';

/** A tensor of the WebGPU backend: a storage buffer of rows x cols float32 values, row-major. */
export class WebGpuTensor extends BackendTensor {
  constructor(rows: number, cols: number, owner: string, maker: object, readonly buffer: GPUBuffer) {
    super(rows, cols, owner, maker);
  }

  get size(): number {
    return this.rows * this.cols;
  }
}
