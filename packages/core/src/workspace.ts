import type { Backend, Tensor } from '@boltzmann/tensor';

/**
 * Scratch tensors reused across calls, so a training step allocates nothing after the first
 * batch of each size. Buffers are keyed by purpose and shape; each call site uses its own key
 * (e.g. "visible:softplus") so two users never share a buffer by accident. Only the most
 * recently used row counts are kept (a partial last batch, an evaluation chunk...), the
 * oldest are freed, which bounds memory when callers pass data of many sizes.
 */
export class Workspace {
  private readonly buffers = new Map<string, Tensor>();
  private readonly ones = new Map<number, Tensor>();
  /** Row counts in order of last use, most recent last. */
  private readonly recentRows: number[] = [];

  constructor(readonly backend: Backend, readonly maxRowCounts = 6) {}

  /** A rows x cols scratch tensor for `key`; its contents are whatever the last user left. */
  get(key: string, rows: number, cols: number): Tensor {
    this.touch(rows);
    const id = `${key}|${rows}|${cols}`;
    let t = this.buffers.get(id);
    if (t === undefined) {
      t = this.backend.zeros(rows, cols);
      this.buffers.set(id, t);
    }
    return t;
  }

  /** An n x 1 column of ones: `matmul(a, ones)` sums each row of `a` into (or onto) a column. */
  onesColumn(n: number): Tensor {
    let t = this.ones.get(n);
    if (t === undefined) {
      t = this.backend.zeros(n, 1, 1);
      this.ones.set(n, t);
    }
    return t;
  }

  /** Frees every scratch tensor. */
  clear(): void {
    for (const t of this.buffers.values()) this.backend.dispose(t);
    for (const t of this.ones.values()) this.backend.dispose(t);
    this.buffers.clear();
    this.ones.clear();
    this.recentRows.length = 0;
  }

  private touch(rows: number): void {
    const at = this.recentRows.indexOf(rows);
    if (at === this.recentRows.length - 1 && at >= 0) return;
    if (at >= 0) this.recentRows.splice(at, 1);
    this.recentRows.push(rows);
    if (this.recentRows.length > this.maxRowCounts) this.evictRows(this.recentRows.shift()!);
  }

  private evictRows(rows: number): void {
    for (const [id, t] of this.buffers) {
      if (t.rows === rows) {
        this.backend.dispose(t);
        this.buffers.delete(id);
      }
    }
    // a ones column as long as a batch (row sums by product) goes with the batch's row count
    const ones = this.ones.get(rows);
    if (ones !== undefined) {
      this.backend.dispose(ones);
      this.ones.delete(rows);
    }
  }
}
