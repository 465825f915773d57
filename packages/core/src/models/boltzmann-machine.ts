import { CounterRng, InvalidValueError, Matrix, ShapeError, rngState, type Backend, type RngState } from '@boltzmann/tensor';
import type { Connection } from '../connections/connection.js';
import { DenseConnection } from '../connections/dense.js';
import { LateralConnection } from '../connections/lateral.js';
import { RngStreams } from '../rng-streams.js';
import { GlauberSampler } from '../samplers/glauber.js';
import { ParallelDynamics } from '../samplers/parallel-dynamics.js';
import { BernoulliLayer } from '../units/bernoulli.js';
import type { UnitLayer } from '../units/unit-layer.js';
import { checkInteger, checkNumber } from '../validation.js';
import { EnergyModel, type ModelOptions } from './energy-model.js';
import { checkQuadraticModel, graphQuadraticEnergy } from './graph-energy.js';
import { QuadraticEnergy } from './quadratic-energy.js';

/** Options of `BoltzmannMachine.create`. */
export interface BoltzmannMachineOptions {
  /** Visible (data) units. */
  visible: number;
  /** Hidden units; default 0 (a fully visible machine). */
  hidden?: number;
  /**
   * Which layers have lateral weights; default both. Without hidden-hidden weights the hidden
   * units are independent given the visible ones (a semi-restricted machine), so the free
   * energy F(v) has a closed form.
   */
  lateral?: { visible?: boolean; hidden?: boolean };
  /** Standard deviation of the N(0, std) initial weights (symmetric); default 0.01. */
  weightStd?: number;
  /** The full weight matrix M over [visible, hidden] units instead of random weights: symmetric, zero diagonal. */
  weights?: Matrix | ReadonlyArray<ArrayLike<number>>;
  /** The biases of [visible, hidden] units; default zeros. */
  bias?: ArrayLike<number>;
  /** Seed of the weight initialisation and of `sample()`'s default stream; default 0. */
  seed?: number;
}

/** Options of `BoltzmannMachine.sample`. */
export interface BoltzmannSampleOptions {
  /** "glauber" (default; converges to p(s)) or "parallel" (all units at once; see ParallelDynamics). */
  dynamics?: 'glauber' | 'parallel';
  /** Sweeps (Glauber) or steps (parallel) from a uniformly random start; default 100. */
  sweeps?: number;
  /** Default 1. */
  temperature?: number;
  /** Seed of this call; default: the model's own stream, which advances with each call. */
  seed?: number;
  /** Return every unit (visible then hidden) instead of the visible ones; default false. */
  allUnits?: boolean;
}

/**
 * A general Boltzmann machine (Hinton & Sejnowski): binary 0/1 units, visible and optionally
 * hidden, with symmetric weights between every pair of units and none from a unit to itself,
 *
 *   E(s) = -1/2 s^T M s - b^T s,   s = [v, h].
 *
 * As a model graph: layers "visible" and "hidden" (Bernoulli), lateral connections
 * "visible-visible" and "hidden-hidden" (the diagonal blocks of M) and the dense connection
 * "visible-hidden" (the off-diagonal block). Parameters live on the backend like any model's
 * (saveModel / loadModel work); `toQuadraticEnergy()` gives the host float64 form that Glauber
 * dynamics, exact enumeration and wake/dream learning use. Units are numbered visible first.
 */
export class BoltzmannMachine extends EnergyModel {
  override get kind(): string {
    return 'boltzmann-machine';
  }

  constructor(backend: Backend, layers: readonly UnitLayer[], connections: readonly Connection[], options: ModelOptions = {}) {
    super(backend, layers, connections, options);
    if (layers.length < 1 || layers.length > 2 || layers[0]!.name !== 'visible' || (layers.length === 2 && layers[1]!.name !== 'hidden')) {
      throw new InvalidValueError(`a Boltzmann machine has the layers "visible" and optionally "hidden", got ${layers.map((l) => `"${l.name}"`).join(', ')}`);
    }
    checkQuadraticModel(this, 'a Boltzmann machine');
    for (const c of connections) {
      const ok = c.type === LateralConnection.type ? c.from === c.to : c.type === DenseConnection.type && c.from === layers[0] && c.to === layers[1];
      if (!ok) throw new InvalidValueError(`connection "${c.name}" (${c.type}, ${c.from.name} -> ${c.to.name}) does not belong in a Boltzmann machine: it takes lateral connections within a layer and a dense visible -> hidden one`);
    }
  }

  /** A new machine: N(0, weightStd) symmetric weights (seeded) and zero biases, or the given M and b. */
  static create(backend: Backend, options: BoltzmannMachineOptions): BoltzmannMachine {
    const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff);
    const nv = checkInteger('visible units', options.visible);
    const nh = checkInteger('hidden units', options.hidden ?? 0, 0);
    const lateralVisible = options.lateral?.visible ?? true;
    const lateralHidden = options.lateral?.hidden ?? true;
    const std = checkNumber('weightStd', options.weightStd ?? 0.01, 0);
    const n = nv + nh;
    let full: QuadraticEnergy | undefined;
    if (options.weights !== undefined || options.bias !== undefined) {
      const zeros = Array.from({ length: n }, () => new Float64Array(n));
      full = new QuadraticEnergy(options.weights ?? zeros, options.bias ?? new Float64Array(n));
      if (full.size !== n) throw new ShapeError(`weights and bias cover ${full.size} units, the machine has ${nv} visible + ${nh} hidden = ${n}`);
    }
    const rng = new CounterRng(seed, RngStreams.init);
    const visible = new BernoulliLayer(backend, { name: 'visible', size: nv });
    const layers: UnitLayer[] = [visible];
    const connections: Connection[] = [];
    const block = (r0: number, rows: number, c0: number, cols: number) => {
      const m = Matrix.zeros(rows, cols, backend.precision);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.data[i * cols + j] = full!.weight(r0 + i, c0 + j);
      return m;
    };
    const init = (r0: number, rows: number, c0: number, cols: number) => (full ? { weights: block(r0, rows, c0, cols) } : { std, rng });
    if (lateralVisible) connections.push(new LateralConnection(backend, 'visible-visible', visible, visible, init(0, nv, 0, nv)));
    if (nh > 0) {
      const hidden = new BernoulliLayer(backend, { name: 'hidden', size: nh });
      layers.push(hidden);
      if (lateralHidden) connections.push(new LateralConnection(backend, 'hidden-hidden', hidden, hidden, init(nv, nh, nv, nh)));
      connections.push(new DenseConnection(backend, 'visible-hidden', visible, hidden, init(0, nv, nv, nh)));
    }
    const bm = new BoltzmannMachine(backend, layers, connections, { seed });
    if (full) {
      const missing = bm.missingBlockEntry(full);
      if (missing) {
        bm.dispose();
        throw new InvalidValueError(`weight ${missing} is non-zero but the machine has no lateral connection there (see options.lateral)`);
      }
      bm.layers.forEach((layer, l) => {
        const b = Matrix.zeros(1, layer.size, backend.precision);
        for (let j = 0; j < layer.size; j++) b.data[j] = full!.bias[bm.unitOffset(l) + j]!;
        backend.write(layer.parameters[0]!.tensor, b);
      });
    }
    return bm;
  }

  get visible(): UnitLayer {
    return this.layers[0]!;
  }

  /** The hidden layer, or undefined for a fully visible machine. */
  get hidden(): UnitLayer | undefined {
    return this.layers[1];
  }

  /** Visible + hidden units. */
  get size(): number {
    return this.layers.reduce((n, l) => n + l.size, 0);
  }

  /** Index of layer l's first unit in the numbering of M (visible first). */
  unitOffset(l: number): number {
    return l === 0 ? 0 : this.layers[0]!.size;
  }

  /** The connection holding the (visible or hidden) lateral block, if any. */
  lateral(layer: 'visible' | 'hidden'): Connection | undefined {
    return this.connections.find((c) => c.type === LateralConnection.type && c.from.name === layer);
  }

  /** The energy as a host float64 {@link QuadraticEnergy}: M and b over [visible, hidden] units. */
  async toQuadraticEnergy(): Promise<QuadraticEnergy> {
    return graphQuadraticEnergy(this);
  }

  /**
   * `n` samples by Glauber dynamics (default) or parallel dynamics, each from its own chain
   * started uniformly at random and run for `sweeps` sweeps at `temperature`. Returns the
   * visible units (or all units) as 0/1 rows, float64.
   */
  async sample(n: number, options: BoltzmannSampleOptions = {}): Promise<Matrix> {
    checkInteger('number of samples', n);
    const sweeps = checkInteger('sweeps', options.sweeps ?? 100, 0);
    const temperature = checkNumber('temperature', options.temperature ?? 1, Number.MIN_VALUE);
    const rng: RngState = options.seed === undefined ? this.sampleRng : rngState(checkInteger('seed', options.seed, 0, 0xffffffff), RngStreams.sample);
    const units = options.allUnits ? this.size : this.visible.size;
    const dynamics = options.dynamics ?? 'glauber';
    if (dynamics === 'glauber') {
      const sampler = new GlauberSampler(await this.toQuadraticEnergy(), { temperature, rng });
      const chains = sampler.createChains(n);
      sampler.sweep(chains, sweeps);
      return chains.toMatrix(units);
    }
    if (dynamics !== 'parallel') throw new InvalidValueError(`unknown dynamics "${String(dynamics)}"; use "glauber" or "parallel"`);
    const parallel = new ParallelDynamics(this, { temperature });
    const chain = parallel.createChain(n);
    try {
      parallel.initializeUniform(chain, rng);
      for (let s = 0; s < sweeps; s++) parallel.step(chain, rng);
      const out = Matrix.zeros(n, units, 'float64');
      for (let l = 0; l < this.layers.length && this.unitOffset(l) < units; l++) {
        const m = await this.backend.read(chain.states[l]!);
        const size = this.layers[l]!.size;
        for (let r = 0; r < n; r++) for (let j = 0; j < size; j++) out.data[r * units + this.unitOffset(l) + j] = m.data[r * size + j]!;
      }
      return out;
    } finally {
      chain.dispose();
    }
  }

  /** The first non-zero entry of `full` in a block this machine has no connection for, as "(i, j)". */
  private missingBlockEntry(full: QuadraticEnergy): string | undefined {
    const nv = this.visible.size;
    const n = this.size;
    const has = (i: number, j: number) => {
      const li = i < nv ? 'visible' : 'hidden';
      const lj = j < nv ? 'visible' : 'hidden';
      return li !== lj || this.lateral(li) !== undefined;
    };
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (full.weight(i, j) !== 0 && !has(i, j)) return `(${i}, ${j})`;
    return undefined;
  }
}
