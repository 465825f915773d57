import { InvalidValueError } from '@boltzmann/tensor';

/**
 * The weighted mean of the last `size` values (a ring buffer): the metric of a continual-learning
 * run, which forgets what the model did long ago. Weights are row counts, so the mean is per row.
 */
export class SlidingWindow {
  private readonly values: Float64Array;
  private readonly weights: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new InvalidValueError(`window size must be a positive integer, got ${size}`);
    this.values = new Float64Array(size);
    this.weights = new Float64Array(size);
  }

  /** Adds one value (the oldest drops out once the window is full). */
  add(value: number, weight = 1): void {
    this.values[this.next] = value;
    this.weights[this.next] = weight;
    this.next = (this.next + 1) % this.size;
    this.filled = Math.min(this.filled + 1, this.size);
  }

  /** Values held now. */
  get count(): number {
    return this.filled;
  }

  /** The weighted mean of the values held (NaN when empty); summed afresh, so no drift. */
  mean(): number {
    let sum = 0;
    let weight = 0;
    for (let i = 0; i < this.filled; i++) {
      sum += this.values[i]! * this.weights[i]!;
      weight += this.weights[i]!;
    }
    return weight > 0 ? sum / weight : NaN;
  }

  clear(): void {
    this.next = 0;
    this.filled = 0;
  }
}
