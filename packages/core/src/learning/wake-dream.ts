import { InvalidValueError, Matrix, ShapeError, nextKey, uniformAt, type RngState, type Tensor } from '@boltzmann/tensor';
import type { Estimator, EstimatorSpec } from '../estimators/estimator.js';
import { LateralConnection } from '../connections/lateral.js';
import { addOuter, exactConditionalStatistics } from '../metrics/exact-boltzmann.js';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';
import { checkQuadraticModel, graphQuadraticEnergy, unitOffsets } from '../models/graph-energy.js';
import type { QuadraticEnergy } from '../models/quadratic-energy.js';
import { GlauberChains, GlauberSampler } from '../samplers/glauber.js';
import { checkInteger } from '../validation.js';

/** Options of {@link WakeDream}. */
export interface WakeDreamOptions {
  /**
   * "exact": both phases by enumeration (the hidden units per distinct data vector, every unit
   * for the free phase; small machines only). "gibbs": Glauber estimates. Default "exact".
   */
  expectations?: 'exact' | 'gibbs';
  /** Gibbs: persistent free-running chains of the dream phase; default 100. */
  chains?: number;
  /** Gibbs: Glauber sweeps of the dream chains per step (statistics averaged over them); default 1. */
  sweeps?: number;
  /**
   * Gibbs: sweeps of the hidden units per data vector in the wake phase, from a random start;
   * statistics are averaged over the second half. Default 10. (Without hidden units the wake
   * phase is the data itself.)
   */
  clampedSweeps?: number;
  /** Exact: refuse more enumerated units than this (2^units states); default 20. */
  maxUnits?: number;
}

/** Wake or dream statistics: E[s_i] and E[s_i s_j] over all units of the machine. */
interface Moments {
  mean: Float64Array;
  correlation: Float64Array;
}

/**
 * The Boltzmann machine learning rule of Ackley, Hinton & Sejnowski ("wake/dream"): for every
 * pair of units, dlog p(data)/dM_ij = <s_i s_j>_clamped - <s_i s_j>_free, and for every bias
 * <s_i>_clamped - <s_i>_free. The clamped (wake) phase holds the visible units at each data
 * vector and averages over the hidden ones given it; the free (dream) phase averages over the
 * machine running freely. Works on any model of two-valued layers with dense and lateral
 * connections (a `BoltzmannMachine`; an RBM or DBM too), visible = layer 0.
 *
 * Expectations are exact by enumeration, or Glauber estimates: the wake phase samples the
 * hidden units of each data vector, the dream phase continues persistent chains (as PCD does),
 * so the estimate stays unbiased as the weights move slowly. The statistics are computed on the
 * host in float64 from a copy of the batch and the parameters: a machine with lateral weights is
 * sampled one unit at a time anyway. Fills grads = <dE/dtheta>_wake - <dE/dtheta>_dream (per-row
 * means, the sign of the other estimators: descent = learning).
 *
 * That copy is read with `await backend.read`, so the step (`computeGradients`, which returns a
 * promise) works on every backend, asynchronous ones (gpu.js webgpu) included; the core `Trainer`
 * awaits it.
 */
export class WakeDream implements Estimator {
  readonly type = 'wake-dream';
  readonly expectations: 'exact' | 'gibbs';
  readonly chainCount: number;
  readonly sweeps: number;
  readonly clampedSweeps: number;
  readonly maxUnits: number;
  private dreamChains: GlauberChains | undefined;
  private chainTensor: Tensor | undefined;
  private readonly offsets: number[];
  private readonly visibleUnits: number;
  /** The units' "off" value (0, or -1 for spins); "on" is 1. */
  private readonly low: number;
  private readonly units: number;

  constructor(readonly model: EnergyModel, options: WakeDreamOptions = {}) {
    const values = checkQuadraticModel(model, 'wake/dream learning');
    this.low = values === 'spin' ? -1 : 0;
    const expectations = options.expectations ?? 'exact';
    if (expectations !== 'exact' && expectations !== 'gibbs') throw new InvalidValueError(`expectations must be "exact" or "gibbs", got ${String(expectations)}`);
    this.expectations = expectations;
    this.chainCount = checkInteger('chains', options.chains ?? 100);
    this.sweeps = checkInteger('sweeps', options.sweeps ?? 1);
    this.clampedSweeps = checkInteger('clampedSweeps', options.clampedSweeps ?? 10);
    this.maxUnits = checkInteger('maxUnits', options.maxUnits ?? 20, 1, 30);
    this.offsets = unitOffsets(model);
    this.visibleUnits = model.layers[0]!.size;
    this.units = model.layers.reduce((n, l) => n + l.size, 0);
    if (expectations === 'exact' && this.units > this.maxUnits) {
      throw new InvalidValueError(`exact wake/dream expectations enumerate 2^${this.units} states of ${this.units} units; the limit is ${this.maxUnits}: use expectations "gibbs"`);
    }
  }

  /**
   * The `Estimator` step: reads the batch and the parameters with `await backend.read` (every
   * backend, asynchronous ones included), computes the statistics on the host and writes grads
   * when it resolves. Do not change the batch or the parameters before it resolves.
   */
  async computeGradients(batch: Tensor, grads: GradientSet, rng: RngState): Promise<void> {
    this.checkBatch(batch);
    const [data, energy] = await Promise.all([this.model.backend.read(batch), graphQuadraticEnergy(this.model)]);
    this.gradientsFrom(data, energy, grads, rng);
  }

  private checkBatch(batch: Tensor): void {
    if (batch.cols !== this.visibleUnits) throw new ShapeError(`batch has ${batch.cols} columns, layer "${this.model.layers[0]!.name}" has ${this.visibleUnits} units`);
  }

  private gradientsFrom(data: Matrix, energy: QuadraticEnergy, grads: GradientSet, rng: RngState): void {
    checkStates(data, this.low);
    const wake = this.expectations === 'exact' ? this.exactWake(energy, data) : this.sampledWake(energy, data, rng);
    const dream = this.expectations === 'exact' ? this.exactDream(energy) : this.sampledDream(energy, rng);
    this.writeGradients(wake, dream, grads);
  }

  private exactWake(energy: QuadraticEnergy, data: Matrix): Moments {
    const n = this.units;
    const out = { mean: new Float64Array(n), correlation: new Float64Array(n * n) };
    const hidden = range(this.visibleUnits, n);
    const state = new Float64Array(n);
    const counts = new Map<string, { row: number; count: number }>();
    for (let r = 0; r < data.rows; r++) {
      const key = data.row(r).join(',');
      const seen = counts.get(key);
      if (seen) seen.count += 1;
      else counts.set(key, { row: r, count: 1 });
    }
    for (const { row, count } of counts.values()) {
      state.set(data.row(row));
      const w = count / data.rows;
      if (hidden.length === 0) {
        addOuter(state, w, out.mean, out.correlation);
        continue;
      }
      const s = exactConditionalStatistics(energy, state, hidden, { maxUnits: this.maxUnits });
      for (let k = 0; k < n; k++) out.mean[k]! += w * s.mean[k]!;
      for (let k = 0; k < n * n; k++) out.correlation[k]! += w * s.correlation[k]!;
    }
    return out;
  }

  private exactDream(energy: QuadraticEnergy): Moments {
    return exactConditionalStatistics(energy, new Float64Array(this.units), range(0, this.units), { maxUnits: this.maxUnits });
  }

  private sampledWake(energy: QuadraticEnergy, data: Matrix, rng: RngState): Moments {
    const n = this.units;
    const nv = this.visibleUnits;
    const out = { mean: new Float64Array(n), correlation: new Float64Array(n * n) };
    if (n === nv) {
      for (let r = 0; r < data.rows; r++) addOuter(data.row(r), 1 / data.rows, out.mean, out.correlation);
      return out;
    }
    const init = Matrix.zeros(data.rows, n, 'float64');
    const key = nextKey(rng);
    for (let r = 0; r < data.rows; r++) {
      init.data.set(data.row(r), r * n);
      for (let j = nv; j < n; j++) init.data[r * n + j] = uniformAt(key, r * n + j) < 0.5 ? this.low : 1;
    }
    const sampler = new GlauberSampler(energy, { clamped: range(0, nv), rng });
    const chains = sampler.createChains(data.rows, init);
    const burnIn = Math.floor(this.clampedSweeps / 2);
    const kept = this.clampedSweeps - burnIn;
    sampler.sweep(chains, burnIn);
    for (let t = 0; t < kept; t++) {
      sampler.sweep(chains, 1);
      for (let r = 0; r < data.rows; r++) addOuter(chains.state(r), 1 / (data.rows * kept), out.mean, out.correlation);
    }
    return out;
  }

  private sampledDream(energy: QuadraticEnergy, rng: RngState): Moments {
    const n = this.units;
    const sampler = new GlauberSampler(energy, { rng });
    this.dreamChains ??= sampler.createChains(this.chainCount);
    const chains = this.dreamChains;
    const out = { mean: new Float64Array(n), correlation: new Float64Array(n * n) };
    for (let t = 0; t < this.sweeps; t++) {
      sampler.sweep(chains, 1);
      for (let r = 0; r < chains.rows; r++) addOuter(chains.state(r), 1 / (chains.rows * this.sweeps), out.mean, out.correlation);
    }
    return out;
  }

  /** grads of each bias: -(wake - dream) means; of each weight block: -(wake - dream) correlations (lateral diagonal 0). */
  private writeGradients(wake: Moments, dream: Moments, grads: GradientSet): void {
    const model = this.model;
    const be = model.backend;
    const n = this.units;
    model.layers.forEach((layer, l) => {
      const g = Matrix.zeros(1, layer.size, be.precision);
      const off = this.offsets[l]!;
      for (let j = 0; j < layer.size; j++) g.data[j] = -(wake.mean[off + j]! - dream.mean[off + j]!);
      be.write(grads.byLayer[l]![0]!, g);
    });
    model.connections.forEach((c, k) => {
      const r0 = this.offsets[model.layers.indexOf(c.from)]!;
      const c0 = this.offsets[model.layers.indexOf(c.to)]!;
      const lateral = c.type === LateralConnection.type;
      const g = Matrix.zeros(c.from.size, c.to.size, be.precision);
      for (let i = 0; i < c.from.size; i++) {
        for (let j = 0; j < c.to.size; j++) {
          if (lateral && i === j) continue;
          const at = (r0 + i) * n + c0 + j;
          g.data[i * c.to.size + j] = -(wake.correlation[at]! - dream.correlation[at]!);
        }
      }
      be.write(grads.byConnection[k]![0]!, g);
    });
  }

  spec(): EstimatorSpec {
    return { type: this.type, expectations: this.expectations, chains: this.chainCount, sweeps: this.sweeps, clampedSweeps: this.clampedSweeps, maxUnits: this.maxUnits };
  }

  /** The persistent dream chains (Gibbs expectations, once started) as "chain.all": chains x units. */
  state(): Record<string, Tensor> {
    if (this.dreamChains === undefined) return {};
    const m = this.dreamChains.toMatrix();
    const be = this.model.backend;
    if (this.chainTensor === undefined || this.chainTensor.rows !== m.rows) {
      if (this.chainTensor) be.dispose(this.chainTensor);
      this.chainTensor = be.upload(m);
    } else {
      be.write(this.chainTensor, m);
    }
    return { 'chain.all': this.chainTensor };
  }

  loadState(state: Readonly<Record<string, Matrix>>): void {
    const names = Object.keys(state);
    if (names.length === 0) return;
    const m = state['chain.all'];
    if (names.length !== 1 || !(m instanceof Matrix)) throw new InvalidValueError(`wake/dream state holds "chain.all" only, got ${names.join(', ')}`);
    if (m.cols !== this.units) throw new ShapeError(`wake/dream chains must have ${this.units} columns, got ${m.cols}`);
    checkStates(m, this.low);
    const chains = new GlauberChains(m.rows, this.units);
    chains.states.set(m.toFloat64().data);
    this.dreamChains = chains;
  }

  dispose(): void {
    if (this.chainTensor) this.model.backend.dispose(this.chainTensor);
    this.chainTensor = undefined;
    this.dreamChains = undefined;
  }
}

function range(from: number, to: number): Uint32Array {
  return Uint32Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** Wake/dream statistics need states: every value must be exactly `low` or 1. */
function checkStates(m: Matrix, low: number): void {
  for (let k = 0; k < m.data.length; k++) {
    const x = m.data[k]!;
    if (x !== low && x !== 1) throw new InvalidValueError(`wake/dream learning needs binary data (${low} or 1), got ${x} at row ${Math.floor(k / m.cols)}, col ${k % m.cols}`);
  }
}
