import { InvalidValueError, Matrix, ShapeError, assertFinite, rngState, type Backend, type RngState, type Tensor } from '@boltzmann/tensor';
import type { Connection } from '../connections/connection.js';
import type { ConnectionSpec } from '../connections/dense.js';
// Type only: components.ts imports the model classes, which extend this one.
import type { Components } from '../components.js';
import type { ModelParameter } from '../parameter.js';
import { RngStreams } from '../rng-streams.js';
import type { UnitLayer, UnitSpec } from '../units/unit-layer.js';
import { UnsampledLayer } from '../units/unsampled.js';
import type { TrainingRows } from '../training/training-loop.js';
import { Workspace } from '../workspace.js';

/** The JSON description of a model's graph (parameters are saved separately). */
export interface ModelSpec {
  /** "rbm" or "graph"; picks the class `load()` rebuilds. */
  kind: string;
  layers: UnitSpec[];
  connections: ConnectionSpec[];
}

/**
 * Gradient buffers shaped like a model's parameters: `tensors` in the order of
 * `model.parameters`, and the same tensors grouped per layer and per connection.
 */
export interface GradientSet {
  readonly tensors: readonly Tensor[];
  readonly byLayer: readonly (readonly Tensor[])[];
  readonly byConnection: readonly (readonly Tensor[])[];
}

/**
 * Per-layer states, indexed like `model.layers`. An undefined entry means "not clamped":
 * `freeEnergy` sums that layer out.
 */
export type LayerStates = readonly (Tensor | undefined)[];

interface Link {
  readonly connection: Connection;
  readonly neighbour: number;
  readonly towards: 'to' | 'from';
}

/** Options every model class takes. */
export interface ModelOptions {
  /** Seeds the model's sampling stream; default 0. */
  seed?: number;
  /** The component set its layers' types come from; default the built-ins. */
  components?: Components;
}

/**
 * A Boltzmann machine as a graph: layers (nodes) and connections (edges).
 * E(x) = sum_l E_l(x_l) - sum_edges interaction(x_a) W interaction(x_b)^T. An RBM is two layers
 * and one edge, a DBM a chain; samplers and estimators work on this graph, not on an RBM.
 * Layer 0 is the data (visible) layer.
 */
export class EnergyModel {
  /** "graph" here; subclasses (RBM) name themselves so `load()` rebuilds the right class. */
  get kind(): string {
    return 'graph';
  }
  readonly workspace: Workspace;
  readonly layers: readonly UnitLayer[];
  readonly connections: readonly Connection[];
  /** Every learnable tensor: the layers' in layer order, then the connections'. */
  readonly parameters: readonly ModelParameter[];
  /** The stream `sample()` draws from when no seed is given; saved with the model. */
  sampleRng: RngState;
  /**
   * The component set the model was built from; undefined: the built-ins (`componentsOf`).
   * What rebuilds its layers on another backend (float64 metrics) or as an annealing path,
   * plugin types included.
   */
  readonly components: Components | undefined;
  private readonly links: readonly (readonly Link[])[];

  constructor(
    readonly backend: Backend,
    layers: readonly UnitLayer[],
    connections: readonly Connection[],
    options: ModelOptions = {},
  ) {
    if (layers.length === 0) throw new InvalidValueError('a model needs at least one layer');
    const names = new Set<string>();
    for (const l of layers) {
      if (names.has(l.name)) throw new InvalidValueError(`two layers are named "${l.name}"`);
      if (l.backend !== backend) throw new InvalidValueError(`layer "${l.name}" lives on another backend than the model`);
      names.add(l.name);
    }
    const links: Link[][] = layers.map(() => []);
    for (const c of connections) {
      if (names.has(c.name)) throw new InvalidValueError(`connection "${c.name}" has the name of another layer or connection`);
      names.add(c.name);
      const a = layers.indexOf(c.from);
      const b = layers.indexOf(c.to);
      if (a < 0 || b < 0) throw new InvalidValueError(`connection "${c.name}" joins a layer that is not part of the model`);
      links[b]!.push({ connection: c, neighbour: a, towards: 'to' });
      links[a]!.push({ connection: c, neighbour: b, towards: 'from' });
    }
    this.layers = [...layers];
    this.connections = [...connections];
    this.links = links;
    this.parameters = [...layers, ...connections].flatMap((owner) =>
      owner.parameters.map((p) => ({ ...p, owner: owner.name, name: `${owner.name}.${p.name}` })),
    );
    this.workspace = new Workspace(backend);
    this.sampleRng = rngState(options.seed ?? 0, RngStreams.sample);
    this.components = options.components;
  }

  /** The layer called `name`; an unknown name lists the layers. */
  layer(name: string): UnitLayer {
    return this.layers[this.layerIndex(name)]!;
  }

  layerIndex(name: string): number {
    const i = this.layers.findIndex((l) => l.name === name);
    if (i < 0) throw new InvalidValueError(`no layer "${name}"; layers: ${this.layers.map((l) => l.name).join(', ')}`);
    return i;
  }

  /** Indices of the layers joined to layer `l` by a connection. */
  neighbours(l: number): number[] {
    return this.links[l]!.map((k) => k.neighbour);
  }

  /**
   * out (rows x size of layer l) = sum over connections of the neighbours' fields + the
   * layer's offset (its bias): the input its `mean`/`sample`/`addLogPartition` take. Every
   * neighbour of `l` must have a state.
   */
  computeInput(l: number, states: LayerStates, out: Tensor): void {
    const layer = this.layers[l]!;
    const links = this.links[l]!;
    if (links.length === 0) {
      this.backend.fill(out, 0);
      if (layer.fieldOffset !== undefined) this.backend.addRowVector(out, layer.fieldOffset, out);
      return;
    }
    links.forEach((link, i) => {
      const source = states[link.neighbour];
      if (source === undefined) throw new InvalidValueError(`the input of layer "${layer.name}" needs a state for layer "${this.layers[link.neighbour]!.name}"`);
      const x = this.layers[link.neighbour]!.interaction(source, this.workspace);
      link.connection.addField(x, link.towards, out, layer.fieldOffset, i > 0);
    });
  }

  /**
   * Whether `computeMean` can give layer `l`'s mean in one fused pass: the layer's mean is an
   * activation of its input (`UnitLayer.meanActivation`), it has an offset, and its input comes
   * from exactly one connection that fuses an activation (`Connection.addActivatedField`, e.g.
   * dense). Layers with several connections, lateral weights or other unit types are not.
   */
  fusesMean(l: number): boolean {
    const layer = this.layers[l];
    if (layer === undefined) throw new InvalidValueError(`no layer ${l}; the model has ${this.layers.length}`);
    const links = this.links[l]!;
    return layer.meanActivation !== undefined && layer.fieldOffset !== undefined && links.length === 1 && links[0]!.connection.addActivatedField !== undefined;
  }

  /**
   * out = the mean of layer `l` given its neighbour's state, the layer's activation fused into
   * the product that forms its input (the input itself is never written): the same values as
   * `computeInput` followed by `layer.mean`, to the backend's rounding of the fused op. Only
   * for layers where `fusesMean(l)`.
   */
  computeMean(l: number, states: LayerStates, out: Tensor): void {
    if (!this.fusesMean(l)) throw new InvalidValueError(`the mean of layer "${this.layers[l]!.name}" cannot be fused into its input (see EnergyModel.fusesMean): use computeInput and mean`);
    const layer = this.layers[l]!;
    const link = this.links[l]![0]!;
    const source = states[link.neighbour];
    if (source === undefined) throw new InvalidValueError(`the input of layer "${layer.name}" needs a state for layer "${this.layers[link.neighbour]!.name}"`);
    const x = this.layers[link.neighbour]!.interaction(source, this.workspace);
    link.connection.addActivatedField!(x, link.towards, out, layer.fieldOffset!, layer.meanActivation!);
  }

  /**
   * out (rows x 1) = free energy per row with the layers that have no state summed out
   * analytically: F = sum_clamped E_l + clamped interactions - sum_free log-partition(input).
   * No two free layers may be connected (their sum would not factorise).
   */
  freeEnergy(states: LayerStates, out: Tensor): void {
    const ws = this.workspace;
    this.backend.fill(out, 0);
    this.layers.forEach((layer, l) => {
      const s = states[l];
      if (s !== undefined) layer.addEnergy(s, out, 1, ws);
    });
    for (const c of this.connections) {
      const a = states[this.layers.indexOf(c.from)];
      const b = states[this.layers.indexOf(c.to)];
      if (a !== undefined && b !== undefined) c.addInteractionEnergy(c.from.interaction(a, ws), c.to.interaction(b, ws), out, 1, ws);
    }
    this.layers.forEach((layer, l) => {
      if (states[l] !== undefined) return;
      for (const n of this.neighbours(l)) {
        if (states[n] === undefined) {
          throw new InvalidValueError(`cannot sum out both "${layer.name}" and "${this.layers[n]!.name}": they are connected`);
        }
      }
      const input = ws.get(`model:input:${layer.name}`, out.rows, layer.size);
      this.computeInput(l, states, input);
      layer.addLogPartition(input, out, -1, ws);
    });
  }

  /** out (rows x 1) = E(x) per row for a full joint state. */
  energy(states: readonly Tensor[], out: Tensor): void {
    if (states.length !== this.layers.length) throw new ShapeError(`energy needs ${this.layers.length} layer states, got ${states.length}`);
    this.freeEnergy(states, out);
  }

  /**
   * Fills `grads` with scale * sum over rows of dE/dtheta at the per-layer statistics `stats`
   * (samples, or conditional means for layers whose gradient is linear in their state: see
   * `UnitLayer.needsSampledStatistics`), added to the old contents when `accumulate`. An estimator
   * calls it with +1/n on the data phase and -1/n on the model phase: the NLL gradient.
   */
  addEnergyGradients(stats: readonly Tensor[], scale: number, grads: GradientSet, accumulate: boolean): void {
    const ws = this.workspace;
    this.layers.forEach((layer, l) => {
      const stat = stats[l]!;
      let computed: Tensor | undefined;
      const input = (): Tensor => {
        if (computed === undefined) {
          computed = ws.get(`model:gradient-input:${layer.name}`, stat.rows, layer.size);
          this.computeInput(l, stats, computed);
        }
        return computed;
      };
      layer.addEnergyGradient(stat, scale, grads.byLayer[l]!, accumulate, input);
    });
    this.connections.forEach((c, i) => {
      const a = stats[this.layers.indexOf(c.from)]!;
      const b = stats[this.layers.indexOf(c.to)]!;
      c.addEnergyGradients(c.from.interaction(a, ws), c.to.interaction(b, ws), scale, grads.byConnection[i]!, accumulate);
    });
  }

  /** Zero tensors shaped like the parameters. */
  createGradients(): GradientSet {
    const zerosLike = (t: Tensor) => this.backend.zeros(t.rows, t.cols);
    const byLayer = this.layers.map((l) => l.parameters.map((p) => zerosLike(p.tensor)));
    const byConnection = this.connections.map((c) => c.parameters.map((p) => zerosLike(p.tensor)));
    return { tensors: [...byLayer.flat(), ...byConnection.flat()], byLayer, byConnection };
  }

  /**
   * Splits the layers into two blocks with no connection inside a block (a 2-colouring),
   * the block of layer 0 first: block Gibbs sampling updates one block given the other.
   * Throws when the graph has an odd cycle. With `excludeGiven` the given layers (see
   * `isGiven`) are in neither block and break no cycle: they are clamped, not sampled.
   */
  bipartition(options: { excludeGiven?: boolean } = {}): [number[], number[]] {
    const colour = new Array<number>(this.layers.length).fill(-1);
    const skipped = (l: number) => options.excludeGiven === true && this.isGiven(l);
    for (let start = 0; start < this.layers.length; start++) {
      if (colour[start] !== -1 || skipped(start)) continue;
      colour[start] = 0;
      const queue = [start];
      while (queue.length > 0) {
        const l = queue.shift()!;
        for (const n of this.neighbours(l)) {
          if (skipped(n)) continue;
          if (colour[n] === -1) {
            colour[n] = 1 - colour[l]!;
            queue.push(n);
          } else if (colour[n] === colour[l]) {
            throw new InvalidValueError(`layers "${this.layers[l]!.name}" and "${this.layers[n]!.name}" close an odd cycle: the graph cannot be split into two blocks for block Gibbs sampling`);
          }
        }
      }
    }
    const blocks: [number[], number[]] = [[], []];
    colour.forEach((c, l) => {
      if (c !== -1) blocks[c]!.push(l);
    });
    return blocks;
  }

  /**
   * How rows of a data set (a run spec's data source) become this model's training rows: by
   * default the rows are the visible values. Models whose examples are not plain rows say how
   * (a conditional RBM cuts windows of a sequence, a recommender marks its unrated items).
   */
  rowsForTraining(data: Matrix): TrainingRows {
    return { visible: data };
  }

  /** Whether layer `l` holds given values (`UnsampledLayer`): never sampled, clamped by the data. */
  isGiven(l: number): boolean {
    return this.layers[l]!.type === UnsampledLayer.type;
  }

  /** The indices of the given layers (see `isGiven`). */
  givenLayers(): number[] {
    return this.layers.flatMap((_, l) => (this.isGiven(l) ? [l] : []));
  }

  /** Host copies of every parameter, by qualified name ("visible.bias"). */
  async getParams(): Promise<Record<string, Matrix>> {
    const out: Record<string, Matrix> = {};
    for (const p of this.parameters) out[p.name] = await this.backend.read(p.tensor);
    return out;
  }

  /**
   * Overwrites parameters from host matrices by qualified name. Every name must exist, every
   * shape match and every value be finite; with `partial` false (the default) every parameter
   * must be given. Then each connection with a `checkParameters` hook whose parameters are all
   * given vets them (lateral weights: symmetric, zero diagonal), with the message `loadModel`
   * gives. Nothing is written unless everything passes.
   */
  setParams(params: Readonly<Record<string, Matrix>>, options: { partial?: boolean } = {}): void {
    const known = new Map(this.parameters.map((p) => [p.name, p]));
    for (const name of Object.keys(params)) {
      if (!known.has(name)) throw new InvalidValueError(`unknown parameter "${name}"; parameters: ${[...known.keys()].join(', ')}`);
    }
    for (const p of this.parameters) {
      const m = params[p.name];
      if (m === undefined) {
        if (options.partial) continue;
        throw new InvalidValueError(`parameter "${p.name}" is missing`);
      }
      if (!(m instanceof Matrix)) throw new InvalidValueError(`parameter "${p.name}" must be a Matrix`);
      if (m.rows !== p.tensor.rows || m.cols !== p.tensor.cols) {
        throw new ShapeError(`parameter "${p.name}" must be ${p.tensor.rows}x${p.tensor.cols}, got ${m.rows}x${m.cols}`);
      }
      assertFinite(`parameter "${p.name}"`, m);
    }
    for (const c of this.connections) {
      if (c.checkParameters === undefined) continue;
      const values = c.parameters.map((p) => [p.name, params[`${c.name}.${p.name}`]] as const);
      if (values.every(([, m]) => m !== undefined)) c.checkParameters(Object.fromEntries(values) as Record<string, Matrix>);
    }
    for (const p of this.parameters) {
      const m = params[p.name];
      if (m !== undefined) this.backend.write(p.tensor, m);
    }
  }

  spec(): ModelSpec {
    return { kind: this.kind, layers: this.layers.map((l) => l.spec()), connections: this.connections.map((c) => c.spec()) };
  }

  /** Frees every tensor of the model (parameters and scratch). */
  dispose(): void {
    this.workspace.clear();
    for (const c of this.connections) c.dispose();
    for (const l of this.layers) l.dispose();
  }
}
