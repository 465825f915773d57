import type { EnergyModel } from '../models/energy-model.js';
import { checkNumber } from '../validation.js';
import type { Regularizer, RegularizerSpec } from './regularizer.js';

/**
 * A max-norm constraint (Srivastava et al. 2014, used with dropout): after every optimizer
 * step, each column of every connection's weight matrix - the incoming weights of one unit of
 * the connection's `to` layer, one hidden unit's filter in an RBM - whose L2 norm exceeds
 * `maxNorm` is scaled back to norm `maxNorm`; shorter columns are left alone. On the device:
 * column norms, a factor min(1, maxNorm / norm) per column, one row-vector multiply. A column
 * whose norm overflows is a divergence: it becomes NaN for the trainer's guard to report.
 */
export class MaxNorm implements Regularizer {
  static readonly type = 'max-norm';
  readonly type = MaxNorm.type;
  readonly maxNorm: number;

  constructor(maxNorm: number) {
    this.maxNorm = checkNumber('max-norm "maxNorm" (the largest L2 norm of a unit\'s incoming weights)', maxNorm, Number.MIN_VALUE);
  }

  afterStep(model: EnergyModel): void {
    const be = model.backend;
    const ws = model.workspace;
    for (const c of model.connections) {
      for (const p of c.parameters) {
        if (p.role !== 'weights') continue;
        const w = p.tensor;
        const squares = ws.get('max-norm:squares', w.rows, w.cols);
        const factor = ws.get('max-norm:factor', 1, w.cols);
        const ones = ws.get('max-norm:ones', 1, w.cols);
        const overflow = ws.get('max-norm:overflow', 1, w.cols);
        be.unary('square', w, squares);
        be.sumColumns(squares, factor);
        be.unary('sqrt', factor, factor);
        // A norm that overflowed (Infinity) or is NaN makes the column NaN (norm - norm), so the
        // divergence guard reports it; scaling by maxNorm / Infinity = 0 would silently zero it.
        be.binary('sub', factor, factor, overflow);
        be.unary('reciprocal', factor, factor); // a zero column gives Infinity, and min(Infinity, 1) = 1
        be.affine(factor, this.maxNorm, 0, factor);
        be.fill(ones, 1);
        be.binary('min', factor, ones, factor);
        be.binary('add', factor, overflow, factor);
        be.mulRowVector(w, factor, w);
      }
    }
  }

  spec(): RegularizerSpec {
    return { type: this.type, maxNorm: this.maxNorm };
  }
}
