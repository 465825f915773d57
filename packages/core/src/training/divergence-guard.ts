import { DivergenceError, type Backend, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';

/**
 * Keeps a device copy of the last parameters (and optimizer state) known to be finite, and
 * checks the live ones: `backend.reduce` propagates NaN/Inf, so one sum per tensor, once per
 * epoch, finds a divergence. On one it restores the copy and throws a DivergenceError naming
 * the epoch and the parameter.
 */
export class DivergenceGuard {
  private readonly live: { name: string; tensor: Tensor }[];
  private readonly backups: Tensor[];
  private readonly be: Backend;

  /** `extra` are further tensors restored with the parameters (optimizer velocities). */
  constructor(model: EnergyModel, extra: Readonly<Record<string, Tensor>> = {}) {
    this.be = model.backend;
    this.live = [...model.parameters.map((p) => ({ name: p.name, tensor: p.tensor })), ...Object.entries(extra).map(([name, tensor]) => ({ name, tensor }))];
    this.backups = this.live.map(({ tensor }) => this.be.zeros(tensor.rows, tensor.cols));
  }

  /** Records the current tensors as the last good ones. */
  snapshot(): void {
    this.live.forEach(({ tensor }, i) => this.be.copy(tensor, this.backups[i]!));
  }

  /** Puts the last good tensors back. */
  restore(): void {
    this.live.forEach(({ tensor }, i) => this.be.copy(this.backups[i]!, tensor));
  }

  /** The name of the first tensor holding NaN or Inf, or undefined. */
  async findNonFinite(): Promise<string | undefined> {
    for (const { name, tensor } of this.live) {
      if (!Number.isFinite(await this.be.reduce('sum', tensor))) return name;
    }
    return undefined;
  }

  /**
   * Throws (after restoring the last good tensors) when a tensor is not finite. `where`
   * completes the message ("in epoch 3").
   */
  async check(where: string, hint = ''): Promise<void> {
    const bad = await this.findNonFinite();
    if (bad === undefined) return;
    this.restore();
    throw new DivergenceError(`training diverged ${where}: "${bad}" holds NaN or Inf${hint}; the last good parameters were restored`);
  }

  dispose(): void {
    for (const t of this.backups) this.be.dispose(t);
  }
}
