import { InvalidValueError } from '@boltzmann/tensor';
import { QuadraticEnergy } from '../models/quadratic-energy.js';
import type { ConstraintProblem } from './constraint-problem.js';

/** An undirected weighted edge between two vertices (0-based). */
export interface WeightedEdge {
  from: number;
  to: number;
  /** Default 1. */
  weight?: number;
}

/** A cut: the side (0 or 1) of every vertex and the total weight of the edges it cuts. */
export interface Cut {
  sides: number[];
  value: number;
}

/**
 * Max-cut as a fixed-weight Boltzmann machine of +-1 spins, one per vertex: an edge (i, j) of
 * weight w is cut when s_i != s_j, i.e. contributes w (1 - s_i s_j) / 2, so
 *
 *   E(s) = -cut(s) = sum_edges w s_i s_j / 2 - W / 2   (M_ij = -w / 2, b = 0, offset -W/2),
 *
 * and the ground states are the maximum cuts. No hard constraints: every assignment is a cut.
 */
export class MaxCut implements ConstraintProblem<Cut> {
  readonly energy: QuadraticEnergy;
  readonly edges: readonly Required<WeightedEdge>[];

  constructor(readonly vertices: number, edges: readonly WeightedEdge[]) {
    if (!Number.isInteger(vertices) || vertices < 1) throw new InvalidValueError(`max-cut needs a positive number of vertices, got ${vertices}`);
    const m = Array.from({ length: vertices }, () => new Float64Array(vertices));
    let total = 0;
    this.edges = edges.map((e, k) => {
      const weight = e.weight ?? 1;
      for (const v of [e.from, e.to]) {
        if (!Number.isInteger(v) || v < 0 || v >= vertices) throw new InvalidValueError(`edge ${k} joins vertex ${v}, outside 0..${vertices - 1}`);
      }
      if (e.from === e.to) throw new InvalidValueError(`edge ${k} is a loop at vertex ${e.from}: a loop is never cut`);
      if (!Number.isFinite(weight)) throw new InvalidValueError(`edge ${k} has weight ${weight}`);
      m[e.from]![e.to]! -= weight / 2;
      m[e.to]![e.from]! -= weight / 2;
      total += weight;
      return { from: e.from, to: e.to, weight };
    });
    this.energy = new QuadraticEnergy(m, new Float64Array(vertices), { values: 'spin', offset: -total / 2 });
  }

  /** Spin +1 = side 1, -1 = side 0. */
  decode(state: ArrayLike<number>): Cut {
    const sides = Array.from(state, (s) => (s > 0 ? 1 : 0));
    return { sides, value: this.cutValue(sides) };
  }

  /** Total weight of the edges whose ends are on different sides. */
  cutValue(sides: ArrayLike<number>): number {
    let value = 0;
    for (const e of this.edges) if (sides[e.from] !== sides[e.to]) value += e.weight;
    return value;
  }

  violations(): string[] {
    return [];
  }

  /** The maximum cut by trying all 2^(n-1) cuts (vertex 0 on side 0): ground truth for small graphs (n <= 26). */
  bruteForce(): Cut {
    const n = this.vertices;
    if (n > 26) throw new InvalidValueError(`brute-force max-cut over ${n} vertices tries 2^${n - 1} cuts; at most 26 vertices`);
    const sides = new Array<number>(n).fill(0);
    let best: Cut = { sides: sides.slice(), value: this.cutValue(sides) };
    for (let k = 1; k < 2 ** (n - 1); k++) {
      for (let j = 1; j < n; j++) sides[j] = Math.floor(k / 2 ** (j - 1)) % 2;
      const value = this.cutValue(sides);
      if (value > best.value) best = { sides: sides.slice(), value };
    }
    return best;
  }
}
