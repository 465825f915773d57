import { CounterRng, InvalidValueError, Matrix } from '@boltzmann/tensor';

/** Options of `DriftingPatterns`. */
export interface DriftingPatternsOptions {
  /** Units per row. */
  cols: number;
  /** Prototypes per phase. */
  patterns: number;
  /** Rows per phase: row i belongs to phase floor(i / rowsPerPhase). */
  rowsPerPhase: number;
  /** Probability that a unit of a row differs from its prototype. */
  noise: number;
  /** Seed of the prototypes (each phase draws its own). */
  seed: number;
}

/**
 * A stream of binary rows with planted patterns that drift: row i is a noisy copy of one of the
 * prototypes of its phase, and every `rowsPerPhase` rows the prototypes are replaced by new ones.
 * Row i is a pure function of (seed, i) and the per-row random source, so the stream can be
 * replayed from any row (what a resumed run needs).
 */
export class DriftingPatterns {
  private readonly phases = new Map<number, Uint8Array[]>();

  constructor(readonly options: DriftingPatternsOptions) {
    const { cols, patterns, rowsPerPhase, noise } = options;
    for (const [name, v] of [['cols', cols], ['patterns', patterns], ['rowsPerPhase', rowsPerPhase]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new InvalidValueError(`${name} must be a positive integer, got ${v}`);
    }
    if (!(noise >= 0 && noise < 0.5)) throw new InvalidValueError(`noise must lie in [0, 0.5), got ${noise}`);
  }

  /** The phase of row `index`. */
  phaseOf(index: number): number {
    return Math.floor(index / this.options.rowsPerPhase);
  }

  /** The prototypes of a phase (drawn once, from the seed and the phase number). */
  prototypes(phase: number): Uint8Array[] {
    let protos = this.phases.get(phase);
    if (protos === undefined) {
      const rng = new CounterRng(this.options.seed, 1000 + phase);
      protos = Array.from({ length: this.options.patterns }, () => Uint8Array.from(rng.uniforms(new Float64Array(this.options.cols)), (u) => (u < 0.5 ? 1 : 0)));
      this.phases.set(phase, protos);
    }
    return protos;
  }

  /** Row `index` as a 1 x cols matrix, drawn with `rng` (the generator stream's per-row source). */
  row(index: number, rng: CounterRng): Matrix {
    const { cols, patterns, noise } = this.options;
    const u = rng.uniforms(new Float64Array(cols + 1));
    const proto = this.prototypes(this.phaseOf(index))[Math.min(patterns - 1, Math.floor(u[0]! * patterns))]!;
    return new Matrix(1, cols, Float32Array.from(proto, (p, j) => (u[j + 1]! < noise ? 1 - p : p)));
  }
}
