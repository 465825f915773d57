import { InvalidValueError, Matrix, ShapeError, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { checkBoolean, checkNumber } from '../validation.js';
import type { Regularizer, RegularizerContext, RegularizerSpec } from './regularizer.js';

/** Options of a sparsity target. */
export interface SparsityOptions {
  /** The wanted mean activation p of each unit, in (0, 1); default 0.05. */
  target?: number;
  /** Weight of the penalty; default 0.1. */
  cost?: number;
  /** Decay of the running estimate q, in [0, 1); default 0.9 (Hinton's guide: 0.9 to 0.99). */
  damping?: number;
  /** The layer held sparse; default "hidden". */
  layer?: string;
  /** Also push the incoming weights (Hinton's guide), not only the biases (Lee et al. 2008); default true. */
  weights?: boolean;
}

/**
 * A sparsity target (Lee, Ekanadham & Ng 2008; Hinton's practical guide, section 11). Each
 * unit j of the layer keeps a running estimate of its MEAN activation,
 *   q_j <- damping * q_j + (1 - damping) * (1/rows) sum_rows E[h_j | v]
 * (the first batch sets q to its mean), and the gradient of cost * cross-entropy(p, q) with
 * respect to the unit's total input, cost * (q_j - p), is added to the gradient of its bias and,
 * with `weights`, to that of its incoming weights times the batch mean of each visible unit:
 *   grad c_j += cost (q_j - p);  grad W_ij += cost * mean_rows(v_i) * (q_j - p).
 * q is state: checkpointed, and put back by the divergence guard. q lags the weights (by
 * about 1 / (1 - damping) steps); with momentum 0.9 on top, a large cost overshoots and can
 * oscillate or shut the units off: lower the cost, the damping or the momentum (0.5 with cost 2
 * and damping 0.9 reaches the target within 0.01 in the tests).
 */
export class SparsityTarget implements Regularizer {
  static readonly type = 'sparsity';
  readonly type = SparsityTarget.type;
  readonly target: number;
  readonly cost: number;
  readonly damping: number;
  readonly layerName: string;
  readonly weights: boolean;
  /** Whether q holds an estimate (false until the first data phase). */
  initialized = false;
  private model: EnergyModel | undefined;
  private layerIndex = -1;
  private q: Tensor | undefined;
  private visibleMean: Tensor | undefined;
  private difference: Tensor | undefined;
  private started: Tensor | undefined;

  constructor(options: SparsityOptions = {}) {
    if (options.layer !== undefined && (typeof options.layer !== 'string' || options.layer === '')) {
      throw new InvalidValueError(`sparsity "layer" must be a layer name, got ${JSON.stringify(options.layer)}`);
    }
    if (options.weights !== undefined) checkBoolean('sparsity "weights"', options.weights);
    this.target = checkNumber('sparsity "target" (mean activation)', options.target ?? 0.05, Number.MIN_VALUE, 1 - Number.EPSILON);
    this.cost = checkNumber('sparsity "cost"', options.cost ?? 0.1, 0);
    this.damping = checkNumber('sparsity "damping"', options.damping ?? 0.9, 0, 1 - Number.EPSILON);
    this.layerName = options.layer ?? 'hidden';
    this.weights = options.weights ?? true;
  }

  attach(model: EnergyModel): void {
    if (this.model !== undefined) throw new InvalidValueError('a SparsityTarget serves one trainer: make another for another model');
    this.layerIndex = model.layerIndex(this.layerName);
    if (this.layerIndex === 0) throw new InvalidValueError(`sparsity targets a hidden layer; "${this.layerName}" is the data layer`);
    const layer = model.layers[this.layerIndex]!;
    if (!layer.parameters.some((p) => p.role === 'bias')) throw new InvalidValueError(`layer "${layer.name}" (${layer.type}) has no bias for a sparsity target to push`);
    const be = model.backend;
    this.model = model;
    this.q = be.zeros(1, layer.size);
    this.difference = be.zeros(1, layer.size);
    this.visibleMean = be.zeros(1, model.layers[0]!.size);
    this.started = be.zeros(1, 1);
  }

  /** The running estimate q (1 x units) on the backend. */
  get estimate(): Tensor {
    this.attached();
    return this.q!;
  }

  onDataPhase(model: EnergyModel, dataMeans: readonly Tensor[]): void {
    this.attached();
    const be = model.backend;
    const h = dataMeans[this.layerIndex]!;
    const rows = h.rows;
    if (this.initialized) be.sumColumns(h, this.q!, (1 - this.damping) / rows, this.damping);
    else be.sumColumns(h, this.q!, 1 / rows, 0);
    if (!this.initialized) be.fill(this.started!, 1);
    this.initialized = true;
    if (this.weights) be.sumColumns(dataMeans[0]!, this.visibleMean!, 1 / rows, 0);
  }

  addGradient({ model, grads }: RegularizerContext): void {
    this.attached();
    if (!this.initialized || this.cost === 0) return;
    const be = model.backend;
    const l = this.layerIndex;
    const d = this.difference!;
    be.affine(this.q!, 1, -this.target, d);
    const layer = model.layers[l]!;
    const biasGrad = grads.byLayer[l]![layer.parameters.findIndex((p) => p.role === 'bias')]!;
    be.axpby(1, biasGrad, this.cost, d, biasGrad);
    if (!this.weights) return;
    model.connections.forEach((c, i) => {
      const w = c.parameters.findIndex((p) => p.role === 'weights');
      if (w < 0) return;
      const g = grads.byConnection[i]![w]!;
      if (c.to === layer && c.from === model.layers[0]) be.matmul(this.visibleMean!, d, g, { transposeA: true, alpha: this.cost, beta: 1 });
      else if (c.from === layer && c.to === model.layers[0]) be.matmul(d, this.visibleMean!, g, { transposeA: true, alpha: this.cost, beta: 1 });
    });
  }

  state(): Record<string, Tensor> {
    this.attached();
    return { q: this.q!, started: this.started! };
  }

  loadState(state: Readonly<Record<string, Matrix>>): void {
    const own = this.state();
    for (const key of Object.keys(state)) if (!(key in own)) throw new InvalidValueError(`sparsity state has unknown entry "${key}"`);
    for (const [key, t] of Object.entries(own)) {
      const m = state[key];
      if (!(m instanceof Matrix)) throw new InvalidValueError(`sparsity state lacks "${key}"`);
      if (m.rows !== t.rows || m.cols !== t.cols) throw new ShapeError(`sparsity state "${key}" must be ${t.rows}x${t.cols}, got ${m.rows}x${m.cols}`);
    }
    for (const [key, t] of Object.entries(own)) this.model!.backend.write(t, state[key]!);
    this.initialized = state['started']!.data[0] === 1;
  }

  /**
   * Re-reads the "started" flag from its state tensor (after a divergence guard put back the
   * last good state in place), with `await backend.read`: works on every backend.
   */
  async resync(): Promise<void> {
    const model = this.attached();
    this.initialized = (await model.backend.read(this.started!)).data[0] === 1;
  }

  spec(): RegularizerSpec {
    return { type: this.type, target: this.target, cost: this.cost, damping: this.damping, layer: this.layerName, weights: this.weights };
  }

  dispose(): void {
    const be = this.model?.backend;
    for (const t of [this.q, this.difference, this.visibleMean, this.started]) if (t !== undefined) be!.dispose(t);
    this.q = this.difference = this.visibleMean = this.started = undefined;
    this.model = undefined;
    this.initialized = false;
  }

  private attached(): EnergyModel {
    if (this.model === undefined) throw new InvalidValueError('the sparsity target is not attached to a model: hand it to a Trainer (or call attach(model))');
    return this.model;
  }
}
