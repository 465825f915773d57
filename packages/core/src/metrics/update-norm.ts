import type { Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import type { ParameterRole } from '../parameter.js';
import type { Metric } from './metric.js';

/**
 * The size of a training step: the Frobenius norm of the change of the weights (every
 * parameter of role `roles`, default weights, taken together) over one step, averaged over
 * the steps observed since `reset`. Observe a step by calling `beforeStep()` before it and
 * `update()` after it; steps not bracketed so are not counted, so a trainer can observe a few
 * steps an epoch at no cost to the others. Everything stays on the backend until `value`
 * (one readback). Hinton's guide: updates about 1e-3 of the weights (updateNorm / weightNorm).
 */
export class UpdateNormMetric implements Metric {
  readonly name = 'updateNorm';
  /** Steps observed since the last reset. */
  steps = 0;
  private readonly tracked: Tensor[];
  private readonly previous: Tensor[];
  private readonly stepSquares: Tensor;
  private readonly total: Tensor;
  private armed = false;

  constructor(readonly model: EnergyModel, readonly roles: readonly ParameterRole[] = ['weights']) {
    const be = model.backend;
    this.tracked = model.parameters.filter((p) => roles.includes(p.role)).map((p) => p.tensor);
    this.previous = this.tracked.map((t) => be.zeros(t.rows, t.cols));
    this.stepSquares = be.zeros(1, 1);
    this.total = be.zeros(1, 1);
  }

  reset(): void {
    this.model.backend.fill(this.total, 0);
    this.steps = 0;
    this.armed = false;
  }

  /** Records the weights before the step to be observed. */
  beforeStep(): void {
    this.tracked.forEach((t, i) => this.model.backend.copy(t, this.previous[i]!));
    this.armed = true;
  }

  /** After the observed step (the batch is not used): adds the norm of the weights' change. */
  update(_batch?: Tensor): void {
    if (!this.armed) return;
    const { backend: be, workspace: ws } = this.model;
    be.fill(this.stepSquares, 0);
    this.tracked.forEach((t, i) => {
      const diff = ws.get('metric:update-diff', t.rows, t.cols);
      const columns = ws.get('metric:update-columns', 1, t.cols);
      const one = ws.get('metric:update-one', 1, 1);
      be.binary('sub', t, this.previous[i]!, diff);
      be.unary('square', diff, diff);
      be.sumColumns(diff, columns);
      be.sumRows(columns, one);
      be.axpby(1, this.stepSquares, 1, one, this.stepSquares);
    });
    be.unary('sqrt', this.stepSquares, this.stepSquares);
    be.axpby(1, this.total, 1, this.stepSquares, this.total);
    this.steps += 1;
    this.armed = false;
  }

  /** Mean step norm over the observed steps; NaN when none was observed. */
  async value(): Promise<number> {
    if (this.steps === 0) return NaN;
    return (await this.model.backend.reduce('sum', this.total)) / this.steps;
  }

  dispose(): void {
    for (const t of [...this.previous, this.stepSquares, this.total]) this.model.backend.dispose(t);
  }
}
