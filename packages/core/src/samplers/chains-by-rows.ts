import type { Chain } from './chain.js';

/**
 * Chains (or mean-field states) kept per batch size, so that a step reuses the tensors of an
 * earlier step with as many rows (a partial last batch gets its own). Bounded: a fifth size
 * frees them all first (callers use one or two batch sizes).
 */
export class ChainsByRows {
  private readonly chains = new Map<number, Chain>();

  /** `create(rows)` makes the chains for a size not seen yet. */
  constructor(private readonly create: (rows: number) => Chain) {}

  /** The chains for `rows` rows, made on first use. */
  get(rows: number): Chain {
    let chain = this.chains.get(rows);
    if (chain === undefined) {
      if (this.chains.size >= 4) this.dispose();
      chain = this.create(rows);
      this.chains.set(rows, chain);
    }
    return chain;
  }

  /** Frees every chain kept. */
  dispose(): void {
    for (const c of this.chains.values()) c.dispose();
    this.chains.clear();
  }
}
