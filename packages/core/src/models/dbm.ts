import { CounterRng, InvalidValueError, Matrix, ShapeError, type Backend, type Tensor } from '@boltzmann/tensor';
import type { Connection } from '../connections/connection.js';
import { componentsOf, defaultComponents } from '../components.js';
import { RngStreams } from '../rng-streams.js';
import type { Chain } from '../samplers/chain.js';
import { GibbsModelSampler } from '../samplers/gibbs-model-sampler.js';
import { MeanField, type MeanFieldOptions } from '../samplers/mean-field.js';
import type { UnitLayer } from '../units/unit-layer.js';
import { checkInteger, checkNumber } from '../validation.js';
import { EnergyModel, type ModelOptions } from './energy-model.js';
import { createLayer, type LayerOptions, type RBM, type SampleOptions } from './rbm.js';

/** Options of `DBM.create`. */
export interface DBMOptions {
  /** The layers from the visible one up: sizes (Bernoulli units) or `{ type, size, ...options }`; at least two. */
  layers: readonly LayerOptions[];
  /** Standard deviation of the N(0, std) initial weights; default 0.01. */
  weightStd?: number;
  /** Initial weights instead of random ones: one matrix per pair of consecutive layers (layer l x layer l+1). */
  weights?: readonly Matrix[];
  /** Seed of the weight initialisation and of `sample()`'s default stream; default 0. */
  seed?: number;
}

/** Which layer `transform` returns: its name or index; default the top layer. */
export interface TransformOptions extends MeanFieldOptions {
  layer?: string | number;
}

/** The name of layer `l` of a DBM built by `create` or `fromRBMs`: "visible", "hidden1", "hidden2"... */
export function dbmLayerName(l: number): string {
  return l === 0 ? 'visible' : `hidden${l}`;
}

/**
 * A deep Boltzmann machine (Salakhutdinov & Hinton 2009): layers of any unit types in a chain,
 * layer l joined to layer l+1 by one connection, no connection inside a layer and none that
 * skips a layer. E = sum_l E_l(x_l) - sum_l interaction(x_l) W_l interaction(x_{l+1})^T.
 * The even and odd layers form the two blocks of block Gibbs sampling; the hidden layers are
 * inferred by mean-field (`MeanField`), trained jointly by `MeanFieldPCD` after greedy
 * pretraining (`pretrainDBM`, or compose trained RBMs with `fromRBMs`).
 */
export class DBM extends EnergyModel {
  override get kind(): string {
    return 'dbm';
  }

  constructor(backend: Backend, layers: readonly UnitLayer[], connections: readonly Connection[], options: ModelOptions = {}) {
    if (layers.length < 2) throw new InvalidValueError(`a DBM needs at least two layers (visible and one hidden), got ${layers.length}`);
    if (connections.length !== layers.length - 1) {
      throw new InvalidValueError(`a DBM of ${layers.length} layers has ${layers.length - 1} connections (one between each pair of consecutive layers), got ${connections.length}`);
    }
    connections.forEach((c, i) => {
      if (c.from !== layers[i] || c.to !== layers[i + 1]) {
        throw new InvalidValueError(`connection ${i} of a DBM ("${c.name}") must join layer "${layers[i]!.name}" to layer "${layers[i + 1]!.name}", it joins "${c.from.name}" to "${c.to.name}"`);
      }
    });
    super(backend, layers, connections, options);
  }

  /** A new DBM with N(0, weightStd) weights (seeded) or the given ones, and zero biases. */
  static create(backend: Backend, options: DBMOptions): DBM {
    const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff);
    if (!Array.isArray(options.layers) || options.layers.length < 2) {
      throw new InvalidValueError(`a DBM needs at least two layers (visible and one hidden), got ${Array.isArray(options.layers) ? options.layers.length : String(options.layers)}`);
    }
    const layers = options.layers.map((o, l) => createLayer(backend, dbmLayerName(l), o));
    const weights = options.weights;
    if (weights !== undefined) {
      if (weights.length !== layers.length - 1) throw new ShapeError(`a DBM of ${layers.length} layers needs ${layers.length - 1} weight matrices, got ${weights.length}`);
      weights.forEach((w, i) => {
        if (w.rows !== layers[i]!.size || w.cols !== layers[i + 1]!.size) {
          throw new ShapeError(`weight matrix ${i} must be ${layers[i]!.size}x${layers[i + 1]!.size} (layer "${layers[i]!.name}" x "${layers[i + 1]!.name}"), got ${w.rows}x${w.cols}: the layer sizes do not chain`);
        }
      });
    }
    const std = checkNumber('weightStd', options.weightStd ?? 0.01, 0);
    const rng = new CounterRng(seed, RngStreams.init);
    const connections = layers.slice(1).map((to, i) => {
      const from = layers[i]!;
      const spec = { type: 'dense', name: `${from.name}-${to.name}`, from: from.name, to: to.name };
      return defaultComponents().connections.get('dense')(backend, spec, from, to, weights ? { weights: weights[i]! } : { std, rng });
    });
    return new DBM(backend, layers, connections, { seed });
  }

  /**
   * Composes a DBM from greedily trained RBMs (RBM i's hidden layer is RBM i+1's visible
   * layer), correcting for the double counting of evidence as Salakhutdinov's code and
   * monsta-hd do: the weights (and biases) of the middle RBMs are halved; the bias of a hidden
   * layer between two RBMs is the mean of the lower RBM's hidden bias and the upper one's
   * visible bias; the visible bias is the first RBM's, the top bias the last RBM's. The first
   * and last RBMs are expected to have been trained with the doubled fields (`pretrainDBM` does
   * that); one RBM gives a DBM equal to it. Other layer parameters (Gaussian scales) come from
   * the lower RBM. Layer types and options are kept; the DBM lives on the RBMs' backend.
   */
  static async fromRBMs(rbms: readonly RBM[], options: { seed?: number } = {}): Promise<DBM> {
    if (rbms.length === 0) throw new InvalidValueError('a DBM needs at least one RBM to compose');
    const backend = rbms[0]!.backend;
    rbms.forEach((rbm, i) => {
      if (rbm.backend !== backend) throw new InvalidValueError(`RBM ${i} lives on another backend than RBM 0`);
      if (i === 0) return;
      const below = rbms[i - 1]!.hidden;
      const above = rbm.visible;
      if (below.size !== above.size) {
        throw new ShapeError(`RBM ${i - 1}'s hidden layer has ${below.size} units but RBM ${i}'s visible layer has ${above.size}: the layer sizes do not chain`);
      }
      if (below.type !== above.type) {
        throw new InvalidValueError(`RBM ${i - 1}'s hidden layer has ${below.type} units but RBM ${i}'s visible layer has ${above.type} units: they must be the same layer`);
      }
    });
    const n = rbms.length;
    const params = await Promise.all(rbms.map((r) => r.getParams()));
    const middle = (i: number) => i > 0 && i < n - 1;
    const factor = (i: number) => (middle(i) ? 0.5 : 1);
    const layerSpecs = [rbms[0]!.visible.spec(), ...rbms.map((r) => r.hidden.spec())].map((s, l) => ({ ...s, name: dbmLayerName(l) }));
    const components = componentsOf(rbms[0]!);
    const layers = layerSpecs.map((s) => components.unitTypes.get(s.type)(backend, s));
    const connections = rbms.map((r, i) => {
      const from = layers[i]!;
      const to = layers[i + 1]!;
      const weights = r.connection.parameters.find((p) => p.role === 'weights');
      if (r.connection.parameters.length !== 1 || weights === undefined) throw new InvalidValueError(`RBM ${i}'s connection "${r.connection.name}" is not a dense weight matrix`);
      const w = scaled(params[i]![`${r.connection.name}.${weights.name}`]!, factor(i));
      return components.connections.get('dense')(backend, { type: 'dense', name: `${from.name}-${to.name}`, from: from.name, to: to.name }, from, to, { weights: w });
    });
    const dbm = new DBM(backend, layers, connections, { seed: options.seed ?? 0, components: rbms[0]!.components });
    const values: Record<string, Matrix> = {};
    const first = rbms[0]!.visible;
    for (const p of first.parameters) values[`${dbmLayerName(0)}.${p.name}`] = params[0]![`${first.name}.${p.name}`]!;
    for (let l = 1; l <= n; l++) {
      const lower = rbms[l - 1]!;
      for (const p of lower.hidden.parameters) {
        const own = params[l - 1]![`${lower.hidden.name}.${p.name}`]!;
        let value = p.role === 'bias' ? scaled(own, factor(l - 1)) : own;
        if (p.role === 'bias' && l < n) {
          const upper = params[l]![`${rbms[l]!.visible.name}.${p.name}`];
          if (upper === undefined) throw new InvalidValueError(`RBM ${l}'s visible layer has no parameter "${p.name}" to average with RBM ${l - 1}'s hidden one`);
          value = average(value, scaled(upper, factor(l)));
        }
        values[`${dbmLayerName(l)}.${p.name}`] = value;
      }
    }
    dbm.setParams(values, { partial: true });
    return dbm;
  }

  /** Layer l's index from its name or index (validated). */
  private resolveLayer(layer: string | number | undefined): number {
    if (layer === undefined) return this.layers.length - 1;
    if (typeof layer === 'string') return this.layerIndex(layer);
    return checkInteger('layer index', layer, 0, this.layers.length - 1);
  }

  /** Runs mean-field on the data in chunks and hands each chunk's converged state to `fn`. */
  private async withMeanField(data: Matrix, outCols: number, options: MeanFieldOptions, fn: (state: Chain, out: Tensor) => void): Promise<Matrix> {
    this.layers[0]!.validate(data, 'data');
    return new MeanField(this, options).mapRows(data, outCols, fn);
  }

  /** The mean-field activations E_q[x_l] of one layer (default the top one) for each row of `data`. */
  async transform(data: Matrix, options: TransformOptions = {}): Promise<Matrix> {
    const l = this.resolveLayer(options.layer);
    return this.withMeanField(data, this.layers[l]!.size, options, (state, out) => this.backend.copy(state.means[l]!, out));
  }

  /** Mean-field reconstruction: E[v | h1 = E_q[h1]] with q inferred from each row. */
  async reconstruct(data: Matrix, options: MeanFieldOptions = {}): Promise<Matrix> {
    return this.withMeanField(data, this.layers[0]!.size, options, (state, out) => this.visibleMeans(state.states, out));
  }

  /** out = E[v | the states of layer 1] (the other layers' entries are ignored). */
  visibleMeans(states: readonly (Tensor | undefined)[], out: Tensor): void {
    const input = this.workspace.get('dbm:visible-input', out.rows, this.layers[0]!.size);
    this.computeInput(0, states, input);
    this.layers[0]!.mean(input, out);
  }

  /**
   * `n` visible vectors by block Gibbs sampling over the even and odd layers (the "gibbs"
   * sampler): every unit starts independent from its bias alone, then `steps` sweeps. Returns
   * the last visible means, given the odd layers' states of the sweep before the last, as
   * `RBM.sample` does (or the samples with `binary`).
   */
  async sample(n: number, options: SampleOptions = {}): Promise<Matrix> {
    checkInteger('number of samples', n);
    const sweeps = checkInteger('steps', options.steps ?? 100, 0);
    return new GibbsModelSampler(this).sample({ count: n, sweeps, seed: options.seed, binary: Boolean(options.binary) });
  }
}

function scaled(m: Matrix, factor: number): Matrix {
  if (factor === 1) return m;
  const out = m.toFloat64();
  for (let i = 0; i < out.data.length; i++) out.data[i]! *= factor;
  return out;
}

function average(a: Matrix, b: Matrix): Matrix {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new ShapeError(`cannot average parameters of shapes ${a.rows}x${a.cols} and ${b.rows}x${b.cols}`);
  const out = Matrix.zeros(a.rows, a.cols, 'float64');
  for (let i = 0; i < out.data.length; i++) out.data[i] = 0.5 * (a.data[i]! + b.data[i]!);
  return out;
}
