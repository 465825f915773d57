/// <reference types="@webgpu/types" />
import type { Tensor } from '@boltzmann/tensor';

/**
 * A tensor of the WebGPU backend: a storage buffer of rows x cols float32 values, row-major.
 * `maker` is the backend instance, so two backends of the same name still refuse each other's
 * tensors.
 */
export class WebGpuTensor implements Tensor {
  private released = false;

  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly owner: string,
    readonly maker: object,
    readonly buffer: GPUBuffer,
  ) {}

  /** Whether `dispose` was called; ops then refuse it. */
  get disposed(): boolean {
    return this.released;
  }

  /** Marks it disposed (the backend frees its buffer in op order). */
  markDisposed(): void {
    this.released = true;
  }

  get size(): number {
    return this.rows * this.cols;
  }
}
