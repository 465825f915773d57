import { checkNumber, checkOptionKeys, type Regularizer, type RegularizerContext, type RegularizerSpec } from '@boltzmann/core';
import { InvalidValueError } from '@boltzmann/tensor';

/**
 * A smooth L1 penalty on the weights: coefficient * width * sum log cosh(w / width). Like L1 it
 * pulls small weights to zero with a force that stops growing (coefficient) for |w| >> width,
 * but its gradient, coefficient * tanh(w / width), is smooth at 0, so weights do not flip sign
 * from step to step. `addGradient` adds that gradient of the penalty to the gradient of the
 * loss (which the optimizer descends), as every regularizer does.
 */
export class SmoothL1 implements Regularizer {
  static readonly type = 'smooth-l1';
  readonly type = SmoothL1.type;

  readonly coefficient: number;
  readonly width: number;

  constructor(coefficient: unknown, width: unknown) {
    this.coefficient = checkNumber('smooth-l1 "coefficient"', coefficient, 0);
    this.width = checkNumber('smooth-l1 "width"', width, 0);
    if (this.width === 0) throw new InvalidValueError('smooth-l1 "width" must be above 0, got 0');
  }

  /** From a spec `{ "type": "smooth-l1", "coefficient": 1e-4, "width": 0.01 }` (both optional). */
  static fromSpec(spec: RegularizerSpec): SmoothL1 {
    checkOptionKeys('regularizer "smooth-l1"', spec, ['coefficient', 'width']);
    return new SmoothL1(spec['coefficient'] ?? 1e-4, spec['width'] ?? 0.01);
  }

  addGradient({ model, grads }: RegularizerContext): void {
    if (this.coefficient === 0) return;
    const be = model.backend;
    model.parameters.forEach((p, i) => {
      if (p.role !== 'weights') return;
      const g = grads.tensors[i]!;
      const t = model.workspace.get('smooth-l1:tanh', p.tensor.rows, p.tensor.cols);
      be.affine(p.tensor, 1 / this.width, 0, t);
      be.unary('tanh', t, t);
      be.axpby(1, g, this.coefficient, t, g);
    });
  }

  spec(): RegularizerSpec {
    return { type: this.type, coefficient: this.coefficient, width: this.width };
  }
}
