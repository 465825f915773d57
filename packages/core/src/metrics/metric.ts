import type { Backend, Tensor } from '@boltzmann/tensor';

/**
 * A streaming metric: `reset`, then `update` with each batch (a tensor on the model's backend),
 * then `value` (one readback). Per-batch or per-epoch use is the caller's choice.
 */
export interface Metric {
  readonly name: string;
  reset(): void;
  update(batch: Tensor): void;
  value(): Promise<number>;
  /** Frees its backend tensors. */
  dispose(): void;
}

/**
 * A running sum kept on the backend (a 1 x cols tensor plus a host row count), so updates
 * read nothing back.
 */
export class DeviceSum {
  private readonly sum: Tensor;
  /** Rows added since the last reset. */
  rows = 0;

  constructor(readonly backend: Backend, cols = 1) {
    this.sum = backend.zeros(1, cols);
  }

  reset(): void {
    this.backend.fill(this.sum, 0);
    this.rows = 0;
  }

  /** sum += alpha * column sums of `a` (a has the accumulator's columns). */
  addColumns(a: Tensor, alpha = 1): void {
    this.backend.sumColumns(a, this.sum, alpha, 1);
    this.rows += a.rows;
  }

  /** The total over all columns (one readback). */
  async total(): Promise<number> {
    return this.backend.reduce('sum', this.sum);
  }

  dispose(): void {
    this.backend.dispose(this.sum);
  }
}
