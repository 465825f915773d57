import type { OwnedTensor } from './op-arguments.js';

/**
 * What the tensors of a device backend share: their shape, the backend instance that made them
 * (`maker`, so two backends of the same name still refuse each other's tensors) and whether
 * they were disposed. A backend's tensor class adds where its data lives.
 */
export abstract class BackendTensor implements OwnedTensor {
  private released = false;

  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly owner: string,
    readonly maker: object,
  ) {}

  /** Whether `dispose` was called; ops then refuse it. */
  get disposed(): boolean {
    return this.released;
  }

  /** Marks it disposed (the backend frees its memory in op order). */
  markDisposed(): void {
    this.released = true;
  }
}
