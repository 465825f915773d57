import { CounterRng, Matrix, ShapeError, assertFinite, type Backend, type Tensor, type UnaryOp } from '@boltzmann/tensor';
import type { Parameter } from '../parameter.js';
import type { Connection } from './connection.js';
import type { UnitLayer } from '../units/unit-layer.js';
import { checkNumber } from '../validation.js';
import type { Workspace } from '../workspace.js';

/** The JSON description of a connection (parameters are saved separately). */
export interface ConnectionSpec {
  type: string;
  name: string;
  /** Name of the layer whose units index the rows of W. */
  from: string;
  /** Name of the layer whose units index the columns of W. */
  to: string;
  [option: string]: unknown;
}

/** How to fill the weights of a new connection. */
export type WeightInit = { std: number; rng: CounterRng } | { weights: Matrix };

/**
 * Dense weights W (from.size x to.size) between two layers: energy term
 * -interaction(x_from) W interaction(x_to)^T. It sends the field x_from W to `to` and
 * x_to W^T to `from`, fused with the target's bias through `backend.linear`.
 */
export class DenseConnection implements Connection {
  static readonly type = 'dense';
  readonly type = DenseConnection.type;
  readonly weights: Tensor;
  readonly parameters: readonly Parameter[];

  constructor(
    readonly backend: Backend,
    readonly name: string,
    readonly from: UnitLayer,
    readonly to: UnitLayer,
    init: WeightInit,
  ) {
    if (from === to) throw new ShapeError(`connection "${name}" joins layer "${from.name}" to itself: lateral weights need their own connection type`);
    if ('weights' in init) {
      const w = init.weights;
      if (w.rows !== from.size || w.cols !== to.size) {
        throw new ShapeError(`weights of "${name}" must be ${from.size}x${to.size} (${from.name} x ${to.name}), got ${w.rows}x${w.cols}`);
      }
      assertFinite(`weights of "${name}"`, w);
      this.weights = backend.upload(w);
    } else {
      checkNumber(`weight std of "${name}"`, init.std, 0);
      if (init.std === 0) {
        this.weights = backend.zeros(from.size, to.size); // a loaded model's weights: no host copy, no draws
      } else {
        const w = Matrix.zeros(from.size, to.size, backend.precision);
        init.rng.normals(w.data, 0, init.std);
        this.weights = backend.upload(w);
      }
    }
    this.parameters = [{ name: 'weights', role: 'weights', tensor: this.weights }];
  }

  /**
   * out = source W (towards "to") or source W^T (towards "from"), plus `offset` (a 1 x n row,
   * fused) when given; with `accumulate` the product is added to out instead (offset ignored).
   */
  addField(source: Tensor, towards: 'to' | 'from', out: Tensor, offset: Tensor | undefined, accumulate: boolean): void {
    const transposeW = towards === 'from';
    if (!accumulate && offset !== undefined) {
      this.backend.linear(source, this.weights, offset, out, { transposeW });
    } else {
      this.backend.matmul(source, this.weights, out, { transposeB: transposeW, beta: accumulate ? 1 : 0 });
    }
  }

  /** out = activation(source W + offset) (towards "to") or activation(source W^T + offset) (towards "from"): one fused `linear`. */
  addActivatedField(source: Tensor, towards: 'to' | 'from', out: Tensor, offset: Tensor, activation: UnaryOp): void {
    this.backend.linear(source, this.weights, offset, out, { transposeW: towards === 'from', activation });
  }

  /** out (rows x 1) += scale * (-x_from W x_to^T) per row; arguments are interaction states. */
  addInteractionEnergy(xFrom: Tensor, xTo: Tensor, out: Tensor, scale: number, workspace: Workspace): void {
    const field = workspace.get(`${this.name}:field`, xFrom.rows, this.to.size);
    this.backend.matmul(xFrom, this.weights, field);
    this.backend.binary('mul', field, xTo, field);
    this.backend.matmul(field, workspace.onesColumn(this.to.size), out, { alpha: -scale, beta: 1 });
  }

  /** grads[0] = scale * sum over rows of dE/dW = -scale * x_from^T x_to (added when `accumulate`). */
  addEnergyGradients(xFrom: Tensor, xTo: Tensor, scale: number, grads: readonly Tensor[], accumulate: boolean): void {
    this.backend.matmul(xFrom, xTo, grads[0]!, { transposeA: true, alpha: -scale, beta: accumulate ? 1 : 0 });
  }

  spec(): ConnectionSpec {
    return { type: this.type, name: this.name, from: this.from.name, to: this.to.name };
  }

  dispose(): void {
    this.backend.dispose(this.weights);
  }
}
