import { BackendTensor, type FloatArray } from '@boltzmann/tensor';

const released = new Float32Array(0);

/**
 * The CPU backend's own access to a tensor's elements (not exported by the package). Unlike
 * `data` it does not give up the tensor's bfloat16 copy for good:
 * - `mutable` is for an op that writes the tensor, or may: the copy stops being used until it
 *   is rounded again. Every op uses it unless it is sure it only reads: a copy missed costs
 *   speed, a stale one would cost correctness.
 * - `readOnly` is for what an op only reads: the products' operands, and the inputs of `copy`
 *   and `binary` (the update-norm metric copies and subtracts the weights every few steps).
 *   An input that is also the op's output is retired by the output's `mutable`.
 */
export let cpuTensorElements: {
  mutable(t: CpuTensor): FloatArray;
  readOnly(t: CpuTensor): FloatArray;
  /** The elements rounded to bfloat16, when the copy is up to date. */
  roundedBits(t: CpuTensor): Uint16Array | undefined;
  /**
   * The array to round the elements into (made by `allocate` the first time), or undefined
   * once `data` was handed out. Call `markRounded` once it holds them.
   */
  roundingTarget(t: CpuTensor, allocate: (length: number) => Uint16Array): Uint16Array | undefined;
  markRounded(t: CpuTensor): void;
  /** Bytes of the rounding array (0 when none was made), for the backend's memory count. */
  roundingBytes(t: CpuTensor): number;
};

/**
 * A tensor of the CPU backend: a row-major typed array (float32 or float64 by the backend's
 * precision). Its maker is the backend instance itself, so two backends that share a name
 * still cannot use each other's tensors (their precisions may differ).
 *
 * A bfloat16-mixed backend may also keep the elements rounded to bfloat16: a weight matrix
 * that the optimizer step rounds as it writes it, so that the step's products read 2 bytes an
 * element and round nothing. That copy is used only while nothing can have written the
 * elements since: every op that may write the tensor makes it stale, and so does handing out
 * `data`, for good.
 */
export class CpuTensor extends BackendTensor {
  #store: FloatArray;
  /** Set once `data` was handed out: code outside the backend may write through it at any time. */
  #exposed = false;
  #bits: Uint16Array | undefined;
  /** Whether #bits holds the elements rounded, as they are now. */
  #bitsCurrent = false;

  constructor(rows: number, cols: number, data: FloatArray, owner: string, maker: object) {
    super(rows, cols, owner, maker);
    this.#store = data;
  }

  /**
   * The elements, row-major; empty once disposed. Writing through them is allowed: from then
   * on the backend keeps no bfloat16 copy of this tensor (it could not see such writes).
   */
  get data(): FloatArray {
    this.#exposed = true;
    this.#bitsCurrent = false;
    return this.#store;
  }

  /** Marks it disposed and drops the elements so their memory can be reclaimed. */
  override markDisposed(): void {
    super.markDisposed();
    this.#store = released;
    this.#bits = undefined;
    this.#bitsCurrent = false;
  }

  static {
    cpuTensorElements = {
      mutable(t) {
        t.#bitsCurrent = false;
        return t.#store;
      },
      readOnly: (t) => t.#store,
      roundedBits: (t) => (t.#bitsCurrent ? t.#bits : undefined),
      roundingTarget(t, allocate) {
        if (t.#exposed || t.disposed) return undefined;
        t.#bits ??= allocate(t.#store.length);
        return t.#bits;
      },
      markRounded(t) {
        if (!t.#exposed && t.#bits !== undefined) t.#bitsCurrent = true;
      },
      roundingBytes: (t) => t.#bits?.byteLength ?? 0,
    };
  }
}
