import { DivergenceError, type Backend, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';

/** Options of a DivergenceGuard. */
export interface DivergenceGuardOptions {
  /**
   * Runs after the guard put the last good tensors back, before it throws: re-reads host
   * copies of restored state (Adam's step count...). If it fails, the DivergenceError still
   * comes, saying so, with the failure as its `cause`.
   */
  afterRestore?: () => Promise<void>;
}

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
  private readonly afterRestore: (() => Promise<void>) | undefined;

  /** `extra` are further tensors restored with the parameters (optimizer velocities). */
  constructor(model: EnergyModel, extra: Readonly<Record<string, Tensor>> = {}, options: DivergenceGuardOptions = {}) {
    this.be = model.backend;
    this.afterRestore = options.afterRestore;
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
   * Throws (after restoring the last good tensors and running `afterRestore`) when a tensor is
   * not finite. `where` completes the message ("in epoch 3").
   */
  async check(where: string, hint = ''): Promise<void> {
    const bad = await this.findNonFinite();
    if (bad === undefined) return;
    await this.rollback(`training diverged ${where}: "${bad}" holds NaN or Inf${hint}; the last good parameters were restored`);
  }

  /**
   * Puts the last good tensors back, runs `afterRestore` and throws a DivergenceError with
   * `message` (any divergence, NaN or not, ends here).
   */
  async rollback(message: string): Promise<never> {
    this.restore();
    try {
      await this.afterRestore?.();
    } catch (failure) {
      const why = failure instanceof Error ? failure.message : String(failure);
      const error = new DivergenceError(`${message}; re-reading the host copies of the optimizer and regularizer state afterwards failed (${why}), so they may not match the restored tensors: resume from a checkpoint`);
      throw Object.assign(error, { cause: failure });
    }
    throw new DivergenceError(message);
  }

  dispose(): void {
    for (const t of this.backups) this.be.dispose(t);
  }
}
