import { CounterRng, InvalidValueError, Matrix, ShapeError, type Backend, type Tensor } from '@boltzmann/tensor';
import type { Connection } from '../connections/connection.js';
import { RngStreams } from '../rng-streams.js';
import { GibbsModelSampler } from '../samplers/gibbs-model-sampler.js';
import { pseudoLogLikelihoodRows } from '../metrics/pseudo-likelihood.js';
import { defaultComponents, type Components } from '../components.js';
import type { UnitLayer, UnitSpec } from '../units/unit-layer.js';
import { checkInteger, checkNumber } from '../validation.js';
import { EnergyModel, type ModelOptions } from './energy-model.js';
import { readSyncFor } from '../host-read.js';
import { mapRows } from './host-data.js';

/** A layer given by its size (Bernoulli units) or by type, size and type options. */
export type LayerOptions = number | ({ type?: string; size: number } & Record<string, unknown>);

/** Options of `RBM.create`. */
export interface RBMOptions {
  visible: LayerOptions;
  hidden: LayerOptions;
  /** Standard deviation of the N(0, std) initial weights; default 0.01 (Hinton's guide). */
  weightStd?: number;
  /** Initial weights (visible x hidden) instead of random ones. */
  weights?: Matrix;
  /** Initial visible bias (1 x visible, or an array of visible numbers); default 0 (the Trainer then sets it from the data means). */
  visibleBias?: Matrix | readonly number[];
  /** Initial hidden bias (1 x hidden, or an array of hidden numbers); default 0. */
  hiddenBias?: Matrix | readonly number[];
  /**
   * Copy every parameter from another model with the same parameter names and shapes (an RBM
   * of the same layers), on any backend and in any precision: warm starts, float32 -> float64.
   * Excludes `weights`, `visibleBias` and `hiddenBias`.
   */
  initFrom?: EnergyModel;
  /** Seed of the weight initialisation and of `sample()`'s default stream; default 0. */
  seed?: number;
}

/** Options of `RBM.sample`. */
export interface SampleOptions {
  /** Gibbs sweeps from independent random units; default 100. */
  steps?: number;
  /** Seed of this call; default: the model's own stream, which advances with each call. */
  seed?: number;
  /** Return binary samples of the visible units instead of their probabilities; default false. */
  binary?: boolean;
}

/** Builds a layer from `LayerOptions`, its type looked up in `components` (default the built-ins). */
export function createLayer(backend: Backend, name: string, options: LayerOptions, components: Components = defaultComponents()): UnitLayer {
  const spec: UnitSpec = typeof options === 'number' ? { type: 'bernoulli', name, size: options } : { ...options, type: options.type ?? 'bernoulli', name, size: options.size };
  return components.unitTypes.get(spec.type)(backend, spec);
}

/**
 * A restricted Boltzmann machine: layers "visible" (layer 0) and "hidden" joined by the dense
 * connection "visible-hidden". Parameters: "visible.bias", "hidden.bias", "visible-hidden.weights".
 * The host-level methods validate their input and take/return `Matrix`; the device-level ones
 * (`hiddenMeans`, `visibleMeans`, `freeEnergyRows`) take backend tensors and check nothing.
 */
export class RBM extends EnergyModel {
  override get kind(): string {
    return 'rbm';
  }

  constructor(backend: Backend, visible: UnitLayer, hidden: UnitLayer, connection: Connection, options: ModelOptions = {}) {
    super(backend, [visible, hidden], [connection], options);
    if (connection.from !== visible || connection.to !== hidden) {
      throw new InvalidValueError('the connection of an RBM must go from its visible to its hidden layer');
    }
  }

  /**
   * A new RBM: weights N(0, weightStd) (seeded) or given, biases zero or given, or every
   * parameter copied from another model (`initFrom`).
   */
  static create(backend: Backend, options: RBMOptions): RBM {
    const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff);
    if (options.initFrom !== undefined) {
      const given = (['weights', 'visibleBias', 'hiddenBias'] as const).filter((k) => options[k] !== undefined);
      if (given.length > 0) throw new InvalidValueError(`initFrom copies every parameter: do not also give ${given.join(', ')}`);
    }
    const visible = createLayer(backend, 'visible', options.visible);
    const hidden = createLayer(backend, 'hidden', options.hidden);
    const init = options.weights
      ? { weights: options.weights }
      : { std: checkNumber('weightStd', options.weightStd ?? 0.01, 0), rng: new CounterRng(seed, RngStreams.init) };
    const spec = { type: 'dense', name: 'visible-hidden', from: 'visible', to: 'hidden' };
    const connection = defaultComponents().connections.get('dense')(backend, spec, visible, hidden, init);
    const rbm = new RBM(backend, visible, hidden, connection, { seed });
    try {
      const biases: Record<string, Matrix> = {};
      if (options.visibleBias !== undefined) biases['visible.bias'] = asRow('visibleBias', options.visibleBias, visible.size);
      if (options.hiddenBias !== undefined) biases['hidden.bias'] = asRow('hiddenBias', options.hiddenBias, hidden.size);
      rbm.setParams(biases, { partial: true });
      if (options.initFrom !== undefined) rbm.initFrom(options.initFrom);
    } catch (error) {
      rbm.dispose();
      throw error;
    }
    return rbm;
  }

  /**
   * Overwrites every parameter with a copy of `source`'s (same names and shapes; any backend
   * or precision). A clear error names a parameter that is missing or shaped otherwise. It is
   * synchronous, so it reads `source` with `readSync`: a source on a backend without synchronous
   * readback (gpu.js webgpu) is refused with an InvalidValueError; there, use
   * `setParams(await source.getParams())`.
   */
  initFrom(source: EnergyModel): void {
    const params: Record<string, Matrix> = {};
    const theirs = new Map(source.parameters.map((p) => [p.name, p]));
    for (const p of this.parameters) {
      const q = theirs.get(p.name);
      if (q === undefined) throw new InvalidValueError(`initFrom: the source model has no parameter "${p.name}"; it has ${[...theirs.keys()].join(', ')}`);
      if (q.tensor.rows !== p.tensor.rows || q.tensor.cols !== p.tensor.cols) {
        throw new ShapeError(`initFrom: parameter "${p.name}" is ${q.tensor.rows}x${q.tensor.cols} in the source, ${p.tensor.rows}x${p.tensor.cols} here`);
      }
      params[p.name] = readSyncFor(source.backend, q.tensor, 'RBM initFrom', 'copy with rbm.setParams(await source.getParams()) instead');
    }
    this.setParams(params);
  }

  get visible(): UnitLayer {
    return this.layers[0]!;
  }

  get hidden(): UnitLayer {
    return this.layers[1]!;
  }

  get connection(): Connection {
    return this.connections[0]!;
  }

  /** out = E[h | v] for visible states v (device level). */
  hiddenMeans(v: Tensor, out: Tensor): void {
    const input = this.workspace.get('rbm:hidden-input', v.rows, this.hidden.size);
    this.computeInput(1, [v, undefined], input);
    this.hidden.mean(input, out);
  }

  /** out = E[v | h] for hidden states h (device level). */
  visibleMeans(h: Tensor, out: Tensor): void {
    const input = this.workspace.get('rbm:visible-input', h.rows, this.visible.size);
    this.computeInput(0, [undefined, h], input);
    this.visible.mean(input, out);
  }

  /** out (rows x 1) = F(v) = -log sum_h exp(-E(v, h)) (device level). */
  freeEnergyRows(v: Tensor, out: Tensor): void {
    this.freeEnergy([v, undefined], out);
  }

  /** Hidden probabilities E[h | v] for each row of `data` (the features). */
  async transform(data: Matrix): Promise<Matrix> {
    this.visible.validate(data, 'data');
    return mapRows(this, data, this.hidden.size, (v, out) => this.hiddenMeans(v, out));
  }

  /** Mean-field reconstruction E[v | h = E[h | v]] of each row (deterministic). */
  async reconstruct(data: Matrix): Promise<Matrix> {
    this.visible.validate(data, 'data');
    return mapRows(this, data, this.visible.size, (v, out) => {
      const h = this.workspace.get('rbm:reconstruct-hidden', v.rows, this.hidden.size);
      this.hiddenMeans(v, h);
      this.visibleMeans(h, out);
    });
  }

  /**
   * Pseudo-log-likelihood of each row, float64 (scikit-learn's `score_samples`: one random
   * visible unit flipped per row, seeded by `seed`, default 0). Bernoulli visible units only.
   */
  async scoreSamples(data: Matrix, options: { seed?: number } = {}): Promise<Float64Array> {
    return pseudoLogLikelihoodRows(this, data, options);
  }

  /** Free energy F(v) of each row, in float64. */
  async freeEnergyOf(data: Matrix): Promise<Float64Array> {
    this.visible.validate(data, 'data');
    const f = await mapRows(this, data, 1, (v, out) => this.freeEnergyRows(v, out));
    return Float64Array.from(f.data);
  }

  /**
   * `n` visible vectors drawn by block Gibbs sampling (the "gibbs" sampler): every unit starts
   * independent from its bias alone, then `steps` sweeps (visible given hidden, hidden given
   * visible). Returns the last visible probabilities (or binary samples with `binary`).
   */
  async sample(n: number, options: SampleOptions = {}): Promise<Matrix> {
    checkInteger('number of samples', n);
    const sweeps = checkInteger('steps', options.steps ?? 100, 0);
    return new GibbsModelSampler(this).sample({ count: n, sweeps, seed: options.seed, binary: Boolean(options.binary) });
  }
}

/** A bias given as a 1 x n Matrix or an array of n numbers, as a 1 x n Matrix. */
function asRow(what: string, x: Matrix | readonly number[], n: number): Matrix {
  if (x instanceof Matrix) {
    if (x.rows !== 1 || x.cols !== n) throw new ShapeError(`${what} must be 1x${n}, got ${x.rows}x${x.cols}`);
    return x;
  }
  if (!Array.isArray(x)) throw new InvalidValueError(`${what} must be a Matrix or an array of ${n} numbers`);
  if (x.length !== n) throw new ShapeError(`${what} must hold ${n} values, got ${x.length}`);
  return new Matrix(1, n, Float64Array.from(x));
}
