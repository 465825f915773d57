import { InvalidValueError } from '@boltzmann/tensor';
import { QuadraticEnergy } from '../models/quadratic-energy.js';
import { checkInteger, checkNumber } from '../validation.js';
import type { ConstraintProblem } from './constraint-problem.js';

/** Options of {@link NQueens}. */
export interface NQueensOptions {
  /** Weight A of the "exactly one queen per row / per column" penalties; default 1. */
  linePenalty?: number;
  /** Weight B of each pair of queens on a shared diagonal; default 1. */
  diagonalPenalty?: number;
}

/**
 * The N-queens puzzle as a fixed-weight Boltzmann machine (Hopfield & Tank style): one 0/1
 * unit per square (unit r*n + c = a queen at row r, column c) and the energy
 *
 *   E(s) = A sum_rows (sum_c s_rc - 1)^2 + A sum_cols (sum_r s_rc - 1)^2 + B sum_(pairs on a diagonal) s_i s_j,
 *
 * expanded with s^2 = s into M_ij = -2A for two squares of a row or column, -B for two squares
 * of a diagonal, b_i = 2A, and offset 2nA. Every term is >= 0, so E = 0 exactly on the
 * solutions (n queens, none attacking another) and E >= min(A, B) elsewhere.
 */
export class NQueens implements ConstraintProblem<number[]> {
  readonly energy: QuadraticEnergy;

  constructor(readonly n: number, options: NQueensOptions = {}) {
    checkInteger('N-queens board size', n, 1, 64);
    const a = checkNumber('linePenalty', options.linePenalty ?? 1, Number.MIN_VALUE);
    const b = checkNumber('diagonalPenalty', options.diagonalPenalty ?? 1, Number.MIN_VALUE);
    const size = n * n;
    const m = Array.from({ length: size }, () => new Float64Array(size));
    for (let i = 0; i < size; i++) {
      const [ri, ci] = [Math.floor(i / n), i % n];
      for (let j = 0; j < size; j++) {
        if (i === j) continue;
        const [rj, cj] = [Math.floor(j / n), j % n];
        if (ri === rj || ci === cj) m[i]![j] = -2 * a;
        else if (Math.abs(ri - rj) === Math.abs(ci - cj)) m[i]![j] = -b;
      }
    }
    this.energy = new QuadraticEnergy(m, new Float64Array(size).fill(2 * a), { offset: 2 * n * a });
  }

  /** The column of the queen in each row (-1 for a row with none; the first one where a row has several). */
  decode(state: ArrayLike<number>): number[] {
    this.checkSize(state);
    return Array.from({ length: this.n }, (_, r) => {
      for (let c = 0; c < this.n; c++) if (state[r * this.n + c] === 1) return c;
      return -1;
    });
  }

  violations(state: ArrayLike<number>): string[] {
    this.checkSize(state);
    const n = this.n;
    const out: string[] = [];
    const queens: [number, number][] = [];
    for (let i = 0; i < n * n; i++) if (state[i] === 1) queens.push([Math.floor(i / n), i % n]);
    for (let r = 0; r < n; r++) {
      const k = queens.filter(([qr]) => qr === r).length;
      if (k !== 1) out.push(`row ${r} has ${k} queens`);
    }
    for (let c = 0; c < n; c++) {
      const k = queens.filter(([, qc]) => qc === c).length;
      if (k !== 1) out.push(`column ${c} has ${k} queens`);
    }
    for (let x = 0; x < queens.length; x++) {
      for (let y = x + 1; y < queens.length; y++) {
        const [[r1, c1], [r2, c2]] = [queens[x]!, queens[y]!];
        if (Math.abs(r1 - r2) === Math.abs(c1 - c2)) out.push(`queens at (${r1}, ${c1}) and (${r2}, ${c2}) share a diagonal`);
      }
    }
    return out;
  }

  /** The number of solutions by backtracking (92 for n = 8): ground truth for tests. */
  countSolutions(): number {
    const n = this.n;
    const cols = new Array<boolean>(n).fill(false);
    const d1 = new Array<boolean>(2 * n).fill(false);
    const d2 = new Array<boolean>(2 * n).fill(false);
    const place = (r: number): number => {
      if (r === n) return 1;
      let count = 0;
      for (let c = 0; c < n; c++) {
        if (cols[c] || d1[r + c] || d2[r - c + n]) continue;
        cols[c] = d1[r + c] = d2[r - c + n] = true;
        count += place(r + 1);
        cols[c] = d1[r + c] = d2[r - c + n] = false;
      }
      return count;
    };
    return place(0);
  }

  private checkSize(state: ArrayLike<number>): void {
    if (state.length !== this.n * this.n) throw new InvalidValueError(`an ${this.n}-queens state has ${this.n * this.n} units, got ${state.length}`);
  }
}
