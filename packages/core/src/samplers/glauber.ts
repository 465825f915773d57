import { InvalidValueError, Matrix, ShapeError, nextKey, rngState, uniformAt, type RngState } from '@boltzmann/tensor';
import type { QuadraticEnergy } from '../models/quadratic-energy.js';
import { checkInteger, checkNumber } from '../validation.js';

/** Options of a {@link GlauberSampler}. */
export interface GlauberOptions {
  /**
   * T in p(s) proportional to exp(-E(s)/T); default 1. 0 is allowed: zero-temperature dynamics,
   * each update moves the unit to its lower-energy value (a fair coin on a tie).
   */
  temperature?: number;
  /**
   * Units that are never updated: they keep the values the chains were given (the clamped
   * visible units of the wake phase). Default none.
   */
  clamped?: ArrayLike<number>;
  /** Seed of the sampler's own random stream (stream 0); default 0. Ignored when `rng` is given. */
  seed?: number;
  /** A random stream to share (e.g. a trainer's); it advances by one per chain and call of `sweep`. */
  rng?: RngState;
}

/**
 * `rows` independent Markov chains over the units of one energy: their states, and the fields
 * and energies the sampler keeps up to date as units change (recomputed whenever the chains
 * meet another energy object, or after `setState`).
 */
export class GlauberChains {
  /** rows x size, row-major. Change it through `setState` (which invalidates the cached fields). */
  readonly states: Float64Array;
  /** Field of every unit of every chain, valid for `fieldsOf`. */
  readonly fields: Float64Array;
  /** E(s) of every chain, valid for `fieldsOf`. */
  readonly energies: Float64Array;
  /** The energy the fields were computed for; undefined when they must be recomputed. */
  fieldsOf: QuadraticEnergy | undefined;

  constructor(readonly rows: number, readonly size: number) {
    this.states = new Float64Array(rows * size);
    this.fields = new Float64Array(rows * size);
    this.energies = new Float64Array(rows);
  }

  /** A view of chain r's state (do not write to it; use `setState`). */
  state(r: number): Float64Array {
    return this.states.subarray(r * this.size, (r + 1) * this.size);
  }

  /** Overwrites chain r's state. */
  setState(r: number, state: ArrayLike<number>): void {
    if (state.length !== this.size) throw new ShapeError(`a chain state has ${this.size} values, got ${state.length}`);
    this.states.set(state, r * this.size);
    this.fieldsOf = undefined;
  }

  /** The states as a float64 matrix (rows x size), or only the first `units` units of each. */
  toMatrix(units = this.size): Matrix {
    const m = Matrix.zeros(this.rows, units, 'float64');
    for (let r = 0; r < this.rows; r++) m.data.set(this.states.subarray(r * this.size, r * this.size + units), r * units);
    return m;
  }
}

/**
 * Glauber dynamics (heat bath, one unit at a time): each update picks one free unit uniformly
 * at random and redraws it from its conditional given all the others,
 *
 *   p(s_i = high | rest) = sigmoid((high - low) f_i / T),  f_i = sum_j M_ij s_j + b_i.
 *
 * This chain satisfies detailed balance with p(s) proportional to exp(-E(s)/T) and, at T > 0,
 * reaches every state, so it converges to the Boltzmann-Gibbs distribution (of the free units
 * given the clamped ones). The updates are inherently sequential, so it runs on the host in
 * float64 over many independent chains, keeping each unit's field up to date in O(N) per flip.
 * A "sweep" is as many updates as there are free units.
 */
export class GlauberSampler {
  /** The units that are updated, ascending. */
  readonly free: Uint32Array;
  readonly rng: RngState;
  private temperatureValue: number;

  constructor(readonly energy: QuadraticEnergy, options: GlauberOptions = {}) {
    this.temperatureValue = checkNumber('temperature', options.temperature ?? 1, 0);
    this.rng = options.rng ?? rngState(checkInteger('seed', options.seed ?? 0, 0, 0xffffffff), 0);
    const clamped = new Set<number>();
    for (const i of Array.from(options.clamped ?? [])) {
      if (!Number.isInteger(i) || i < 0 || i >= energy.size) throw new InvalidValueError(`clamped unit ${i} is not a unit of a machine with ${energy.size} units`);
      clamped.add(i);
    }
    this.free = Uint32Array.from({ length: energy.size }, (_, i) => i).filter((i) => !clamped.has(i));
  }

  get temperature(): number {
    return this.temperatureValue;
  }

  /** Changes T between sweeps (annealing); must be finite and >= 0. */
  set temperature(t: number) {
    this.temperatureValue = checkNumber('temperature', t, 0);
  }

  /**
   * `rows` chains. With `init` (rows x size, or one row for all) they start there; otherwise
   * every unit starts low or high with probability 1/2 (clamped ones too: give `init` to clamp
   * them to data).
   */
  createChains(rows: number, init?: Matrix): GlauberChains {
    checkInteger('number of chains', rows);
    const n = this.energy.size;
    const chains = new GlauberChains(rows, n);
    if (init !== undefined) {
      if (init.cols !== n || (init.rows !== rows && init.rows !== 1)) throw new ShapeError(`initial states must be ${rows}x${n} or 1x${n}, got ${init.rows}x${init.cols}`);
      for (let r = 0; r < rows; r++) {
        const row = init.row(init.rows === 1 ? 0 : r);
        this.energy.checkState(row, `initial state of chain ${r}`);
        chains.states.set(row, r * n);
      }
    } else {
      const key = nextKey(this.rng);
      for (let k = 0; k < rows * n; k++) chains.states[k] = uniformAt(key, k) < 0.5 ? this.energy.low : this.energy.high;
    }
    return chains;
  }

  /** Runs `sweeps` sweeps (sweeps x free units single-unit updates) on every chain. */
  sweep(chains: GlauberChains, sweeps = 1): void {
    checkInteger('sweeps', sweeps, 0);
    if (chains.size !== this.energy.size) throw new ShapeError(`chains over ${chains.size} units cannot run on a machine of ${this.energy.size}`);
    this.refresh(chains);
    const updates = sweeps * this.free.length;
    for (let r = 0; r < chains.rows; r++) this.updateChain(chains, r, updates);
  }

  /**
   * `n` samples from `chains` independent chains (default n: one sample per chain): each chain
   * runs `burnIn` sweeps (default 100), then gives a sample every `thin` sweeps (default 1).
   * Returns n x size states in float64 (rows chain-major).
   */
  sample(n: number, options: { chains?: number; burnIn?: number; thin?: number; init?: Matrix } = {}): Matrix {
    checkInteger('number of samples', n);
    const chainCount = checkInteger('chains', options.chains ?? n);
    const burnIn = checkInteger('burnIn', options.burnIn ?? 100, 0);
    const thin = checkInteger('thin', options.thin ?? 1);
    const perChain = Math.ceil(n / chainCount);
    const chains = this.createChains(chainCount, options.init);
    const size = this.energy.size;
    const out = Matrix.zeros(n, size, 'float64');
    this.sweep(chains, burnIn);
    let row = 0;
    for (let t = 0; t < perChain && row < n; t++) {
      if (t > 0) this.sweep(chains, thin);
      for (let r = 0; r < chainCount && row < n; r++, row++) out.data.set(chains.state(r), row * size);
    }
    return out;
  }

  /**
   * p(s_i = high | the other units) of unit `i` in chain `r` at the sampler's temperature, from
   * the chain's field (up to date after `sweep` or `refresh`).
   */
  probabilityHigh(chains: GlauberChains, r: number, i: number): number {
    return heatBath(this.energy.high - this.energy.low, chains.fields[r * chains.size + i]!, this.temperatureValue);
  }

  /** Recomputes the fields and energies of every chain unless they were kept for this energy. */
  refresh(chains: GlauberChains): void {
    if (chains.fieldsOf === this.energy) return;
    const n = this.energy.size;
    for (let r = 0; r < chains.rows; r++) {
      const s = chains.state(r);
      for (let i = 0; i < n; i++) chains.fields[r * n + i] = this.energy.field(i, s);
      chains.energies[r] = this.energy.energy(s);
    }
    chains.fieldsOf = this.energy;
  }

  private updateChain(chains: GlauberChains, r: number, updates: number): void {
    const energy = this.energy;
    const n = energy.size;
    const w = energy.weights;
    const low = energy.low;
    const high = energy.high;
    const gap = high - low;
    const free = this.free;
    const f = free.length;
    if (f === 0 || updates === 0) return;
    const t = this.temperatureValue;
    const s = chains.states;
    const fields = chains.fields;
    const base = r * n;
    const key = nextKey(this.rng);
    let e = chains.energies[r]!;
    for (let u = 0; u < updates; u++) {
      const i = free[Math.floor(uniformAt(key, 2 * u) * f)]!;
      const field = fields[base + i]!;
      const next = uniformAt(key, 2 * u + 1) < heatBath(gap, field, t) ? high : low;
      const d = next - s[base + i]!;
      if (d === 0) continue;
      s[base + i] = next;
      e -= d * field;
      const row = i * n;
      for (let j = 0; j < n; j++) fields[base + j]! += w[row + j]! * d;
    }
    chains.energies[r] = e;
  }
}

/**
 * The heat-bath probability of the high value, sigmoid(gap f / T), for a unit whose values are
 * `gap` apart and whose field is `field`. At T = 0, gap f / T is +-Infinity (a step), or NaN on
 * a tie, which gets a fair coin (1/2).
 */
function heatBath(gap: number, field: number, temperature: number): number {
  const x = (gap * field) / temperature;
  return Number.isNaN(x) ? 0.5 : 1 / (1 + Math.exp(-x));
}
