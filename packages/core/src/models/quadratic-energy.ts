import { InvalidValueError, Matrix, ShapeError } from '@boltzmann/tensor';

/** The two values a unit of a general Boltzmann machine takes: 0/1 ("binary") or -1/+1 ("spin", Ising). */
export type UnitValues = 'binary' | 'spin';

/** Options of a {@link QuadraticEnergy}. */
export interface QuadraticEnergyOptions {
  /** 0/1 units (default) or -1/+1 Ising spins. */
  values?: UnitValues;
  /** A constant added to every energy (problem encodings use it so a valid solution has a known energy). */
  offset?: number;
}

/**
 * The energy of a general (fully connected) Boltzmann machine over N two-valued units,
 *
 *   E(s) = -1/2 s^T M s - b^T s + offset,
 *
 * with M symmetric and zero on the diagonal (no unit talks to itself), held on the host in
 * float64. This is the form Glauber dynamics, exact enumeration, wake/dream learning and the
 * annealing solver work on; `BoltzmannMachine.toQuadraticEnergy()` gives it for a model whose
 * parameters live on a backend. The field of unit i is f_i = sum_j M_ij s_j + b_i, and
 * E(s_i = high) - E(s_i = low) = -(high - low) f_i.
 */
export class QuadraticEnergy {
  readonly size: number;
  /** M, row-major size x size: symmetric, zero diagonal. Do not modify (samplers cache fields from it). */
  readonly weights: Float64Array;
  /** b, length size. */
  readonly bias: Float64Array;
  readonly values: UnitValues;
  /** The unit's "off" value: 0 for binary units, -1 for spins. */
  readonly low: number;
  /** The unit's "on" value: 1. */
  readonly high = 1;
  readonly offset: number;

  /**
   * @param weights M (size x size), as a Matrix or nested arrays; must be exactly symmetric with
   *   a zero diagonal and finite, or an InvalidValueError names the first offending entry.
   * @param bias b, one value a unit.
   */
  constructor(weights: Matrix | ReadonlyArray<ArrayLike<number>>, bias: ArrayLike<number>, options: QuadraticEnergyOptions = {}) {
    const m = weights instanceof Matrix ? weights : float64Rows(weights);
    if (m.rows !== m.cols) throw new ShapeError(`the weight matrix of a Boltzmann machine must be square, got ${m.rows}x${m.cols}`);
    const n = m.rows;
    if (bias.length !== n) throw new ShapeError(`the bias has ${bias.length} values but the weight matrix has ${n} units`);
    this.size = n;
    this.weights = Float64Array.from(m.data);
    this.bias = Float64Array.from(bias);
    checkSymmetricZeroDiagonal('weight matrix', this.weights, n);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(this.bias[i]!)) throw new InvalidValueError(`bias of unit ${i} is ${this.bias[i]}`);
    }
    const values = options.values ?? 'binary';
    if (values !== 'binary' && values !== 'spin') throw new InvalidValueError(`unit values must be "binary" or "spin", got ${String(values)}`);
    this.values = values;
    this.low = values === 'spin' ? -1 : 0;
    this.offset = options.offset ?? 0;
    if (!Number.isFinite(this.offset)) throw new InvalidValueError(`energy offset must be finite, got ${this.offset}`);
  }

  /** M_ij. */
  weight(i: number, j: number): number {
    return this.weights[i * this.size + j]!;
  }

  /** E(s) for one state (length size, every value low or high). */
  energy(state: ArrayLike<number>): number {
    this.checkState(state);
    const n = this.size;
    let e = this.offset;
    for (let i = 0; i < n; i++) {
      const si = state[i]!;
      if (si === 0) continue;
      let f = this.bias[i]!;
      // 1/2 s^T M s = sum_{j < i} s_i M_ij s_j (symmetric, zero diagonal)
      for (let j = 0; j < i; j++) f += this.weights[i * n + j]! * state[j]!;
      e -= si * f;
    }
    return e;
  }

  /** f_i = sum_j M_ij s_j + b_i: what unit i feels from the others. */
  field(i: number, state: ArrayLike<number>): number {
    const n = this.size;
    let f = this.bias[i]!;
    for (let j = 0; j < n; j++) f += this.weights[i * n + j]! * state[j]!;
    return f;
  }

  /** The state with index `index`: bit j set = unit j high (the enumeration order of the exact metrics). */
  stateOf(index: number, out = new Float64Array(this.size)): Float64Array {
    let s = index;
    for (let j = 0; j < this.size; j++) {
      out[j] = s % 2 === 1 ? this.high : this.low;
      s = Math.floor(s / 2);
    }
    return out;
  }

  /** The index of a state (inverse of `stateOf`). */
  indexOf(state: ArrayLike<number>): number {
    let index = 0;
    for (let j = this.size - 1; j >= 0; j--) index = index * 2 + (state[j] === this.high ? 1 : 0);
    return index;
  }

  /** Throws unless `state` has `size` values, each low or high. */
  checkState(state: ArrayLike<number>, what = 'state'): void {
    if (state.length !== this.size) throw new ShapeError(`${what} has ${state.length} values, the machine has ${this.size} units`);
    for (let j = 0; j < this.size; j++) {
      const x = state[j]!;
      if (x !== this.low && x !== this.high) throw new InvalidValueError(`${what} has ${x} at unit ${j}; ${this.values} units take ${this.low} or ${this.high}`);
    }
  }
}

/** Nested arrays as a float64 matrix (no float32 detour: energies are compared to 1e-12). */
function float64Rows(rows: ReadonlyArray<ArrayLike<number>>): Matrix {
  const cols = rows[0]?.length ?? 0;
  const m = Matrix.zeros(Math.max(1, rows.length), Math.max(1, cols), 'float64');
  if (rows.length === 0 || cols === 0) throw new ShapeError('the weight matrix of a Boltzmann machine needs at least one unit');
  rows.forEach((row, r) => {
    if (row.length !== cols) throw new ShapeError(`row ${r} of the weight matrix has ${row.length} values, row 0 has ${cols}`);
    for (let c = 0; c < cols; c++) m.data[r * cols + c] = row[c]!;
  });
  return m;
}

/**
 * Throws an InvalidValueError naming the first entry that breaks symmetry, a non-zero diagonal
 * entry, or a NaN/Inf in an n x n row-major matrix.
 */
export function checkSymmetricZeroDiagonal(what: string, m: ArrayLike<number>, n: number): void {
  for (let i = 0; i < n; i++) {
    const d = m[i * n + i]!;
    if (d !== 0) throw new InvalidValueError(`${what} has ${d} on the diagonal at (${i}, ${i}): a unit has no weight to itself, the diagonal must be 0`);
    for (let j = 0; j < i; j++) {
      const a = m[i * n + j]!;
      const b = m[j * n + i]!;
      if (!Number.isFinite(a) || !Number.isFinite(b)) throw new InvalidValueError(`${what} has ${Number.isFinite(a) ? b : a} at (${Number.isFinite(a) ? `${j}, ${i}` : `${i}, ${j}`})`);
      if (a !== b) throw new InvalidValueError(`${what} is not symmetric: (${i}, ${j}) is ${a} but (${j}, ${i}) is ${b}`);
    }
  }
}
