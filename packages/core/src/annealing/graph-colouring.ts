import { InvalidValueError } from '@boltzmann/tensor';
import { QuadraticEnergy } from '../models/quadratic-energy.js';
import { checkInteger, checkNumber } from '../validation.js';
import type { ConstraintProblem } from './constraint-problem.js';

/** Options of {@link GraphColouring}. */
export interface GraphColouringOptions {
  /** Weight A of "exactly one colour per vertex"; default 1. */
  onePenalty?: number;
  /** Weight B of two adjacent vertices sharing a colour; default 1. */
  conflictPenalty?: number;
}

/**
 * Graph colouring with k colours as a fixed-weight Boltzmann machine: one 0/1 unit per
 * (vertex, colour), unit v*k + c, and
 *
 *   E(s) = A sum_v (sum_c s_vc - 1)^2 + B sum_(edges u-v) sum_c s_uc s_vc,
 *
 * i.e. M = -2A between the colours of one vertex, -B between the same colour of adjacent
 * vertices, b = A, offset nA. E = 0 exactly on proper colourings.
 */
export class GraphColouring implements ConstraintProblem<number[]> {
  readonly energy: QuadraticEnergy;
  readonly edges: readonly [number, number][];

  constructor(readonly vertices: number, edges: readonly (readonly [number, number])[], readonly colours: number, options: GraphColouringOptions = {}) {
    checkInteger('vertices', vertices);
    checkInteger('colours', colours);
    const a = checkNumber('onePenalty', options.onePenalty ?? 1, Number.MIN_VALUE);
    const b = checkNumber('conflictPenalty', options.conflictPenalty ?? 1, Number.MIN_VALUE);
    const size = vertices * colours;
    const m = Array.from({ length: size }, () => new Float64Array(size));
    for (let v = 0; v < vertices; v++) {
      for (let c = 0; c < colours; c++) for (let d = 0; d < colours; d++) if (c !== d) m[v * colours + c]![v * colours + d] = -2 * a;
    }
    this.edges = edges.map(([u, v], k) => {
      for (const x of [u, v]) if (!Number.isInteger(x) || x < 0 || x >= vertices) throw new InvalidValueError(`edge ${k} joins vertex ${x}, outside 0..${vertices - 1}`);
      if (u === v) throw new InvalidValueError(`edge ${k} is a loop at vertex ${u}: no colouring can satisfy it`);
      for (let c = 0; c < colours; c++) {
        m[u * colours + c]![v * colours + c]! -= b;
        m[v * colours + c]![u * colours + c]! -= b;
      }
      return [u, v] as [number, number];
    });
    this.energy = new QuadraticEnergy(m, new Float64Array(size).fill(a), { offset: vertices * a });
  }

  /** The colour of each vertex (-1 when it has none; the first when several). */
  decode(state: ArrayLike<number>): number[] {
    return Array.from({ length: this.vertices }, (_, v) => {
      for (let c = 0; c < this.colours; c++) if (state[v * this.colours + c] === 1) return c;
      return -1;
    });
  }

  violations(state: ArrayLike<number>): string[] {
    const out: string[] = [];
    for (let v = 0; v < this.vertices; v++) {
      let k = 0;
      for (let c = 0; c < this.colours; c++) k += state[v * this.colours + c] === 1 ? 1 : 0;
      if (k !== 1) out.push(`vertex ${v} has ${k} colours`);
    }
    for (const [u, v] of this.edges) {
      for (let c = 0; c < this.colours; c++) {
        if (state[u * this.colours + c] === 1 && state[v * this.colours + c] === 1) out.push(`adjacent vertices ${u} and ${v} both have colour ${c}`);
      }
    }
    return out;
  }
}
