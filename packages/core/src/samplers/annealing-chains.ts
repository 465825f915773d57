import { rngState, type RngState, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import type { AnnealingPath } from './annealing-path.js';

/** Which block of the model's two-colouring the chains sum out analytically. */
export type SumOut = 'odd' | 'even' | 'auto';

/**
 * The layers summed out analytically by annealing chains: "odd" is the block without the visible
 * layer, "even" the visible layer's block. "auto" follows the published recipes: for an RBM (every
 * other layer hangs off the visible one) the hidden block is summed out and the chains move on the
 * visible units, where the base-rate start lives (Salakhutdinov & Murray 2008); for a deeper model
 * the larger block is summed out (a 2-layer DBM: v and h2, chains on h1, as Salakhutdinov & Hinton
 * 2009 do).
 */
export function summedOutBlock(model: EnergyModel, sumOut: SumOut): { summed: readonly number[]; kept: readonly number[] } {
  const [b0, b1] = model.bipartition();
  const units = (block: readonly number[]) => block.reduce((n, l) => n + model.layers[l]!.size, 0);
  const odd = sumOut === 'odd' || (sumOut === 'auto' && (b0!.length === 1 || units(b1!) >= units(b0!)));
  return odd ? { summed: b1!, kept: b0! } : { summed: b0!, kept: b1! };
}

/**
 * `rows` annealing chains along an `AnnealingPath`: the state holds the kept block's layers, the
 * summed-out block enters every unnormalised probability through its exact log-partition. The two
 * moves AIS needs, forward (Neal 2001) or in reverse (Burda, Grosse & Salakhutdinov 2015):
 * `increment` adds log p*_hi(x) - log p*_lo(x) of the current states to each chain's running sum,
 * `sweep` applies block Gibbs transitions at one beta. Sums are read to float64 on the host by
 * `flush`. Dispose after use.
 */
export class AnnealingChains {
  readonly summed: readonly number[];
  readonly kept: readonly number[];
  /** One state per layer (rows x layer size); the kept layers' are the chains. */
  readonly states: readonly Tensor[];
  /** Running log-weight sums per chain, float64 (updated by `flush`). */
  readonly logWeights: Float64Array;
  private readonly inputs: Tensor[];
  private readonly means: Tensor[];
  private readonly fields: Tensor[];
  private readonly previous: Tensor[];
  private readonly increments: Tensor;
  private readonly sum: Tensor;
  private readonly owned: Tensor[] = [];
  private readonly rng: RngState;
  /** The beta at which `inputs` of the summed layers were last computed for the current states (NaN: stale). */
  private summedInputsAt = NaN;

  constructor(
    readonly path: AnnealingPath,
    readonly rows: number,
    options: { sumOut: SumOut; seed: number; stream: number },
  ) {
    const model = path.target;
    ({ summed: this.summed, kept: this.kept } = summedOutBlock(model, options.sumOut));
    this.rng = rngState(options.seed, options.stream);
    const make = (cols: number) => {
      const t = model.backend.zeros(rows, cols);
      this.owned.push(t);
      return t;
    };
    const sizes = model.layers.map((l) => l.size);
    this.states = sizes.map(make);
    this.inputs = sizes.map(make);
    this.means = sizes.map(make);
    this.fields = sizes.map(make);
    this.previous = sizes.map(make);
    this.increments = make(1);
    this.sum = make(1);
    this.logWeights = new Float64Array(rows);
  }

  /** Draws the kept layers from the base distribution (beta = 0, zero field). */
  startFromBase(): void {
    this.path.setBeta(0);
    for (const l of this.kept) {
      this.path.inputAt(l, undefined, this.inputs[l]!);
      this.draw(l);
    }
    this.summedInputsAt = NaN;
  }

  /** Sets a kept layer's states (e.g. data rows for reverse annealing). */
  setState(l: number, values: Tensor): void {
    this.path.target.backend.copy(values, this.states[l]!);
    this.summedInputsAt = NaN;
  }

  /** Adds log p*_hi(x) - log p*_lo(x) of the current states to every chain's sum: the kept layers' own energies, then the summed-out layers' log-partitions. */
  increment(lo: number, hi: number): void {
    const { path } = this;
    const be = path.target.backend;
    const ws = path.workspace;
    be.fill(this.increments, 0);
    for (const l of this.kept) {
      path.baseLayers[l]!.addEnergy(this.states[l]!, this.increments, hi - lo, ws);
      path.target.layers[l]!.addEnergy(this.states[l]!, this.increments, lo - hi, ws);
    }
    for (const s of this.summed) path.field(s, this.states, this.fields[s]!);
    path.setBeta(lo);
    for (const s of this.summed) {
      path.inputAt(s, this.fields[s]!, this.previous[s]!);
      path.betaLayers[s]!.addLogPartition(this.previous[s]!, this.increments, -1, ws);
    }
    path.setBeta(hi);
    for (const s of this.summed) {
      path.inputAt(s, this.fields[s]!, this.inputs[s]!);
      path.betaLayers[s]!.addLogPartition(this.inputs[s]!, this.increments, 1, ws);
    }
    this.summedInputsAt = hi;
    be.axpby(1, this.sum, 1, this.increments, this.sum);
  }

  /** `steps` block Gibbs sweeps at `beta`: the summed-out layers, then the kept ones. */
  sweep(beta: number, steps: number): void {
    const { path } = this;
    path.setBeta(beta);
    for (let g = 0; g < steps; g++) {
      for (const s of this.summed) {
        if (this.summedInputsAt !== beta) {
          path.field(s, this.states, this.fields[s]!);
          path.inputAt(s, this.fields[s]!, this.inputs[s]!);
        }
        this.draw(s);
      }
      for (const l of this.kept) {
        path.field(l, this.states, this.fields[l]!);
        path.inputAt(l, this.fields[l]!, this.inputs[l]!);
        this.draw(l);
      }
      this.summedInputsAt = NaN;
    }
  }

  /** Adds the backend's running sums into `logWeights` (float64) and zeroes them. */
  async flush(): Promise<void> {
    const be = this.path.target.backend;
    const s = (await be.read(this.sum)).data;
    for (let i = 0; i < this.rows; i++) this.logWeights[i]! += s[i]!;
    be.fill(this.sum, 0);
  }

  dispose(): void {
    for (const t of this.owned) this.path.target.backend.dispose(t);
  }

  private draw(l: number): void {
    this.path.betaLayers[l]!.mean(this.inputs[l]!, this.means[l]!);
    this.path.betaLayers[l]!.sample(this.inputs[l]!, this.means[l]!, this.rng, this.states[l]!);
  }
}
