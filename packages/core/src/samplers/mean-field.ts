import { InvalidValueError, ShapeError, type Matrix, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { mapRows } from '../models/host-data.js';
import { computeScaledInput } from '../models/scaled-input.js';
import { checkInteger, checkNumber } from '../validation.js';
import { Chain } from './chain.js';
import { ChainsByRows } from './chains-by-rows.js';

/** Options of {@link MeanField} inference. */
export interface MeanFieldOptions {
  /** Most iterations (each updates every free layer once) per inference; default 10, as monsta-hd's `max_mf_updates`. */
  maxIterations?: number;
  /**
   * Stop once no mean moved by more than this in an iteration (the largest absolute change of
   * any unit of any row); default 1e-7. Checking it reads the changes back once per iteration;
   * 0 runs exactly `maxIterations` iterations and reads nothing back.
   */
  tolerance?: number;
}

/** How one inference went. */
export interface MeanFieldReport {
  /** Iterations run (0 when the model has no free layer). */
  iterations: number;
  /** Largest absolute change of a mean in the last iteration; NaN when the tolerance is 0 (not measured). */
  change: number;
}

/**
 * Mean-field (variational) inference of the hidden layers given the visible layer (layer 0),
 * for a bipartite model graph such as a DBM: q(h | v) = prod_l q_l(h_l), each q_l of the layer's
 * own family, set to the layer's conditional given the means of its neighbours (Salakhutdinov &
 * Hinton 2009). The state is a `Chain` whose `states[0]` holds the data and whose hidden
 * `states[l]` *are* their means; `inputs[l]` is the input each mean was computed from, so
 * q_l is fully described (the ELBO needs it).
 *
 * Start: one recognition pass outward from layer 0, each layer getting the fields of its
 * already-inferred neighbours scaled by (neighbours / inferred neighbours): in a DBM chain the
 * input from below doubled, except at the top (the "doubled" bottom-up pass of the paper).
 * Iteration: the layers of the block without layer 0 (the odd layers of a chain), then the
 * other hidden layers (the even ones). Layers of one block share no connection, so each block
 * update maximises the variational lower bound over its layers exactly: the bound never
 * decreases from one block update to the next (coordinate ascent).
 */
export class MeanField {
  readonly maxIterations: number;
  readonly tolerance: number;
  /** Free layers in update order: [block without layer 0, the rest of layer 0's block]. */
  readonly updateBlocks: readonly (readonly number[])[];
  /** Free layers in the order of the recognition pass, each with the neighbours already inferred before it. */
  private readonly recognition: readonly { layer: number; known: ReadonlySet<number>; scale: number }[];

  constructor(readonly model: EnergyModel, options: MeanFieldOptions = {}) {
    this.maxIterations = checkInteger('mean-field maxIterations', options.maxIterations ?? 10);
    this.tolerance = checkNumber('mean-field tolerance', options.tolerance ?? 1e-7, 0);
    const [b0, b1] = model.bipartition();
    this.updateBlocks = [b1!, b0!.filter((l) => l !== 0)].filter((b) => b.length > 0);
    for (const l of [...b0!, ...b1!]) {
      if (l !== 0 && model.layers[l]!.approximateLogPartition !== undefined) {
        // Mean-field q_l is the layer's conditional family; a ReLU layer has none in closed form.
        throw new InvalidValueError(`mean-field inference needs hidden layers with an exact conditional family; layer "${model.layers[l]!.name}" (${model.layers[l]!.type}): ${model.layers[l]!.approximateLogPartition}`);
      }
    }
    this.recognition = recognitionOrder(model);
  }

  /** A state for `rows` data rows: `states[0]` its own tensor, each hidden `states[l]` its mean. */
  createState(rows: number): Chain {
    const be = this.model.backend;
    const layers = this.model.layers;
    const inputs = layers.map((l) => be.zeros(rows, l.size));
    const means = layers.map((l) => be.zeros(rows, l.size));
    const states = layers.map((_, l) => (l === 0 ? be.zeros(rows, layers[0]!.size) : means[l]!));
    return new Chain(be, rows, inputs, means, states);
  }

  /** The recognition pass: a first guess of every hidden mean from the data in `state.states[0]`. */
  initialize(state: Chain): void {
    for (const { layer, known, scale } of this.recognition) {
      computeScaledInput(this.model, layer, state.states, state.inputs[layer]!, { scale, from: (n) => known.has(n) });
      this.model.layers[layer]!.mean(state.inputs[layer]!, state.means[layer]!);
    }
  }

  /**
   * Updates the layers of one update block (index into `updateBlocks`) from their neighbours'
   * current means. Resolves to the largest absolute change of a mean when `measure` (read back
   * with `await backend.read`), else NaN.
   */
  async updateBlock(state: Chain, block: number, measure: boolean): Promise<number> {
    const changes = this.issueBlock(state, block, measure);
    return measure ? this.readChanges(changes) : NaN;
  }

  /** One iteration: every update block once. Resolves to the largest change when `measure`, else NaN. */
  async iterate(state: Chain, measure = this.tolerance > 0): Promise<number> {
    let change = measure ? 0 : NaN;
    for (let b = 0; b < this.updateBlocks.length; b++) change = Math.max(change, await this.updateBlock(state, b, measure));
    return change;
  }

  /**
   * Infers q(h | v) for the rows of `data` (a tensor on the model's backend, copied into
   * `state.states[0]` before anything is awaited; omit it when the state already holds the
   * data): the recognition pass, then iterations until the tolerance or `maxIterations`. A
   * tolerance > 0 reads the changes back with `await backend.read` once per iteration, so it
   * works on every backend, asynchronous ones (gpu.js webgpu) included; with tolerance 0
   * nothing is read back.
   */
  async infer(state: Chain, data?: Tensor): Promise<MeanFieldReport> {
    if (!this.start(state, data)) return { iterations: 0, change: 0 };
    const run = this.iterations(state);
    let step = run.next();
    while (!step.done) step = run.next(await this.readChanges(step.value));
    return step.value;
  }

  /**
   * Infers q(h | v) (`infer`) for host data, chunk by chunk on the model's backend, and
   * gathers `fn(state, out)` of each chunk's inferred state (out: chunk rows x `outCols`) into
   * one host matrix.
   */
  async mapRows(data: Matrix, outCols: number, fn: (state: Chain, out: Tensor) => void): Promise<Matrix> {
    const states = new ChainsByRows((rows) => this.createState(rows));
    try {
      return await mapRows(this.model, data, outCols, async (v, out) => {
        const state = states.get(v.rows);
        await this.infer(state, v);
        fn(state, out);
      });
    } finally {
      states.dispose();
    }
  }

  /**
   * The iterations of `infer` after the recognition pass: each issues every update
   * block and, when the tolerance is > 0, yields the iteration's change tensors (each layer's,
   * untouched until its next update) and takes back their largest value, stopping at the
   * tolerance or `maxIterations`. The caller only reads.
   */
  private *iterations(state: Chain): Generator<Tensor[], MeanFieldReport, number> {
    const measure = this.tolerance > 0;
    let change = NaN;
    let iterations = 0;
    while (iterations < this.maxIterations) {
      const changes: Tensor[] = [];
      for (let b = 0; b < this.updateBlocks.length; b++) changes.push(...this.issueBlock(state, b, measure));
      change = measure ? yield changes : NaN;
      iterations += 1;
      if (change <= this.tolerance) break;
    }
    return { iterations, change };
  }

  /** The largest value of the change tensors (read with `await backend.read`). */
  private async readChanges(changes: readonly Tensor[]): Promise<number> {
    const be = this.model.backend;
    return largestOf((await Promise.all(changes.map((t) => be.read(t)))).map((m) => m.data));
  }

  /** Copies the data in and runs the recognition pass; false when there is nothing to iterate. */
  private start(state: Chain, data: Tensor | undefined): boolean {
    if (data !== undefined) {
      if (data.rows !== state.rows || data.cols !== this.model.layers[0]!.size) {
        throw new ShapeError(`mean-field data must be ${state.rows}x${this.model.layers[0]!.size}, got ${data.rows}x${data.cols}`);
      }
      this.model.backend.copy(data, state.states[0]!);
    }
    this.initialize(state);
    return this.updateBlocks.length > 0;
  }

  /**
   * Issues the updates of one block. With `measure`, returns per layer a workspace tensor holding
   * |new mean - old mean|, left untouched until that layer's next update (so it can be read later).
   */
  private issueBlock(state: Chain, block: number, measure: boolean): Tensor[] {
    const be = this.model.backend;
    const changes: Tensor[] = [];
    for (const l of this.updateBlocks[block]!) {
      const layer = this.model.layers[l]!;
      this.model.computeInput(l, state.states, state.inputs[l]!);
      if (!measure) {
        layer.mean(state.inputs[l]!, state.means[l]!);
        continue;
      }
      const next = this.model.workspace.get(`mean-field:next:${layer.name}`, state.rows, layer.size);
      const change = this.model.workspace.get(`mean-field:change:${layer.name}`, state.rows, layer.size);
      layer.mean(state.inputs[l]!, next);
      be.binary('sub', next, state.means[l]!, change);
      be.unary('abs', change, change);
      be.copy(next, state.means[l]!);
      changes.push(change);
    }
    return changes;
  }
}


/** The largest of several arrays' largest values (NaN if any is NaN); 0 for none. */
function largestOf(arrays: readonly ArrayLike<number>[]): number {
  let m = 0;
  for (const a of arrays) m = Math.max(m, largest(a));
  return m;
}

function largest(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > m || Number.isNaN(values[i]!)) m = values[i]!;
  return m;
}

/** Breadth-first from layer 0: each free layer with the neighbours inferred before it and the field scale. */
function recognitionOrder(model: EnergyModel): { layer: number; known: ReadonlySet<number>; scale: number }[] {
  const done = new Set<number>([0]);
  const order: { layer: number; known: ReadonlySet<number>; scale: number }[] = [];
  let frontier = [0];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const l of frontier) {
      for (const n of model.neighbours(l)) {
        if (done.has(n) || next.includes(n)) continue;
        next.push(n);
      }
    }
    for (const n of next) {
      const neighbours = model.neighbours(n);
      const known = new Set(neighbours.filter((m) => done.has(m)));
      order.push({ layer: n, known, scale: neighbours.length / known.size });
    }
    for (const n of next) done.add(n);
    frontier = next;
  }
  // Layers not reachable from layer 0 start from their offsets alone.
  model.layers.forEach((_, l) => {
    if (!done.has(l)) order.push({ layer: l, known: new Set(), scale: 1 });
  });
  return order;
}
