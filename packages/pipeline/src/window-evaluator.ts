import { FreeEnergyMetric, ReconstructionErrorMetric, type EnergyModel } from '@boltzmann/core';
import { InvalidValueError, type Tensor } from '@boltzmann/tensor';
import type { WindowMetrics } from './events.js';
import { SlidingWindow } from './sliding-window.js';

/** Sliding-window metrics of `train` (for online / continual learning). */
export interface WindowOptions {
  /** Steps in the window. */
  size: number;
  /** Score every this many steps (the others reuse the last value); default 1. Each scoring reads two numbers back. */
  every?: number;
}

/**
 * Scores each batch before the model trains on it (test-then-train, the honest metric of a
 * model that learns from a stream) and keeps the row-weighted means over the last `size`
 * steps: reconstruction error and free energy. Its random draws come from the monitor stream,
 * so it never changes the training trajectory.
 */
export class WindowEvaluator {
  readonly every: number;
  private readonly reconstruction: ReconstructionErrorMetric;
  private readonly freeEnergy: FreeEnergyMetric;
  private readonly reconstructionWindow: SlidingWindow;
  private readonly freeEnergyWindow: SlidingWindow;
  private calls = 0;

  constructor(model: EnergyModel, seed: number, options: WindowOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidValueError('window must be { size, every? }');
    this.every = options.every ?? 1;
    if (!Number.isInteger(this.every) || this.every < 1) throw new InvalidValueError(`window.every must be a positive integer, got ${String(options.every)}`);
    this.reconstructionWindow = new SlidingWindow(options.size);
    this.freeEnergyWindow = new SlidingWindow(options.size);
    this.reconstruction = new ReconstructionErrorMetric(model, { seed });
    this.freeEnergy = new FreeEnergyMetric(model);
  }

  /** Scores `batch` (on its turn) and returns the window's means. */
  async evaluate(batch: Tensor): Promise<WindowMetrics> {
    if (this.calls++ % this.every === 0) {
      this.reconstruction.reset();
      this.reconstruction.update(batch);
      this.freeEnergy.reset();
      this.freeEnergy.update(batch);
      this.reconstructionWindow.add(await this.reconstruction.value(), batch.rows);
      this.freeEnergyWindow.add(await this.freeEnergy.value(), batch.rows);
    }
    return this.current();
  }

  /** The window's means now. */
  current(): WindowMetrics {
    return {
      steps: this.reconstructionWindow.count,
      reconstructionError: this.reconstructionWindow.mean(),
      freeEnergy: this.freeEnergyWindow.mean(),
    };
  }

  dispose(): void {
    this.reconstruction.dispose();
    this.freeEnergy.dispose();
  }
}
