import type { Backend, Tensor } from '@boltzmann/tensor';

/**
 * The state of `rows` parallel Markov chains over a model: per layer its last input (field +
 * bias), its conditional mean and its chain state. For layers that carry their mean through
 * the chain instead of a sample, `states[l]` *is* `means[l]` (the same tensor). A sampler that
 * fuses a layer's mean into its product (`GibbsOptions.fuseMeans`) leaves that layer's input
 * unwritten.
 */
export class Chain {
  constructor(
    readonly backend: Backend,
    readonly rows: number,
    readonly inputs: readonly Tensor[],
    readonly means: readonly Tensor[],
    readonly states: readonly Tensor[],
  ) {}

  /** Frees the chain's tensors. */
  dispose(): void {
    const all = new Set([...this.inputs, ...this.means, ...this.states]);
    for (const t of all) this.backend.dispose(t);
  }
}
