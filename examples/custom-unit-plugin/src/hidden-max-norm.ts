import { type EnergyModel, type Regularizer, type RegularizerSpec } from '@boltzmann/core';
import { InvalidValueError } from '@boltzmann/tensor';

/**
 * A max-norm constraint (as used with dropout by Srivastava et al., 2014): after every
 * optimizer step, each column of every weight matrix - the weights into one unit of the
 * connection's `to` layer, i.e. one hidden unit's filter in an RBM - whose L2 norm exceeds `maxNorm`
 * is scaled back to norm `maxNorm`; shorter columns are left alone. Runs on the device:
 * column norms, a per-column factor min(1, maxNorm / norm), one row-vector multiply.
 */
export class HiddenMaxNorm implements Regularizer {
  static readonly type = 'hidden-max-norm';
  readonly type = HiddenMaxNorm.type;
  readonly maxNorm: number;

  constructor(maxNorm: number) {
    if (typeof maxNorm !== 'number' || !Number.isFinite(maxNorm) || maxNorm <= 0) {
      throw new InvalidValueError(`hidden-max-norm "maxNorm" must be a finite number > 0, got ${String(maxNorm)}`);
    }
    this.maxNorm = maxNorm;
  }

  /** From a spec { "type": "hidden-max-norm", "maxNorm": 1 }. */
  static fromSpec(spec: RegularizerSpec): HiddenMaxNorm {
    for (const key of Object.keys(spec)) {
      if (key !== 'type' && key !== 'maxNorm') throw new InvalidValueError(`hidden-max-norm has no option "${key}" (options: maxNorm)`);
    }
    if (spec['maxNorm'] === undefined) throw new InvalidValueError('hidden-max-norm needs "maxNorm", the largest L2 norm of a unit\'s incoming weights');
    return new HiddenMaxNorm(spec['maxNorm'] as number);
  }

  afterStep(model: EnergyModel): void {
    const be = model.backend;
    const ws = model.workspace;
    for (const p of model.parameters) {
      if (p.role !== 'weights') continue;
      const w = p.tensor;
      const squares = ws.get('hidden-max-norm:squares', w.rows, w.cols);
      const factor = ws.get('hidden-max-norm:factor', 1, w.cols);
      const ones = ws.get('hidden-max-norm:ones', 1, w.cols);
      be.unary('square', w, squares);
      be.sumColumns(squares, factor);
      be.unary('sqrt', factor, factor);
      be.unary('reciprocal', factor, factor); // a zero column gives Infinity, and min(Infinity, 1) = 1
      be.affine(factor, this.maxNorm, 0, factor);
      be.fill(ones, 1);
      be.binary('min', factor, ones, factor);
      be.mulRowVector(w, factor, w);
    }
  }

  spec(): RegularizerSpec {
    return { type: this.type, maxNorm: this.maxNorm };
  }
}
