import { CounterRng, Matrix, ShapeError, assertFinite, type Backend, type Precision, type Tensor } from '@boltzmann/tensor';
import type { Parameter } from '../parameter.js';
import type { UnitLayer } from '../units/unit-layer.js';
import { checkNumber } from '../validation.js';
import type { Workspace } from '../workspace.js';
import type { Connection } from './connection.js';
import type { ConnectionSpec, WeightInit } from './dense.js';
import { checkSymmetricZeroDiagonal } from '../models/quadratic-energy.js';

/**
 * Lateral weights among the units of one layer: a symmetric matrix L (size x size) with a zero
 * diagonal, energy term -1/2 x L x^T (each pair counted once). Its field on the layer is x L.
 *
 * The model graph records an edge at both of its ends; for a lateral edge both ends are the
 * same layer, so the whole field x L goes out through the "to" end and the "from" end adds
 * nothing (it writes the offset when it comes first). A layer with lateral weights cannot be
 * updated as one block (its units depend on each other): block Gibbs sampling refuses such a
 * model (its graph has a self-loop, an odd cycle); use Glauber dynamics (one unit at a time).
 *
 * Gradients: the pair weight L_ij = L_ji enters the energy once, dE/dL_ij = -x_i x_j, so the
 * gradient is -x^T x with its diagonal zeroed: symmetric, and any element-wise optimizer keeps
 * L symmetric with a zero diagonal.
 */
export class LateralConnection implements Connection {
  static readonly type = 'lateral';
  readonly type = LateralConnection.type;
  readonly weights: Tensor;
  readonly parameters: readonly Parameter[];
  /** 1 off the diagonal, 0 on it: masks the diagonal out of gradients. */
  private readonly offDiagonal: Tensor;
  private scratch: Tensor | undefined;

  constructor(
    readonly backend: Backend,
    readonly name: string,
    readonly from: UnitLayer,
    readonly to: UnitLayer,
    init: WeightInit,
  ) {
    if (from !== to) throw new ShapeError(`lateral connection "${name}" must join a layer to itself, got "${from.name}" and "${to.name}": use a dense connection between layers`);
    const n = from.size;
    let w: Matrix;
    if ('weights' in init) {
      w = init.weights;
      if (w.rows !== n || w.cols !== n) throw new ShapeError(`lateral weights of "${name}" must be ${n}x${n} (layer "${from.name}"), got ${w.rows}x${w.cols}`);
      assertFinite(`lateral weights of "${name}"`, w);
      checkSymmetricZeroDiagonal(`lateral weights of "${name}"`, w.data, n);
    } else {
      checkNumber(`weight std of "${name}"`, init.std, 0);
      w = symmetricNormal(n, init.std, init.rng, backend.precision);
    }
    this.weights = backend.upload(w);
    const mask = Matrix.zeros(n, n, backend.precision);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) mask.data[i * n + j] = i === j ? 0 : 1;
    this.offDiagonal = backend.upload(mask);
    this.parameters = [{ name: 'weights', role: 'weights', tensor: this.weights }];
  }

  /** Towards "to": out = x L (+ offset). Towards "from": nothing added (the "to" end carries the field), or the offset when not accumulating. */
  addField(source: Tensor, towards: 'to' | 'from', out: Tensor, offset: Tensor | undefined, accumulate: boolean): void {
    const be = this.backend;
    if (towards === 'to') {
      if (!accumulate && offset !== undefined) be.linear(source, this.weights, offset, out);
      else be.matmul(source, this.weights, out, { beta: accumulate ? 1 : 0 });
      return;
    }
    if (accumulate) return;
    be.fill(out, 0);
    if (offset !== undefined) be.addRowVector(out, offset, out);
  }

  /** out (rows x 1) += scale * (-1/2 x L x^T) per row. */
  addInteractionEnergy(xFrom: Tensor, xTo: Tensor, out: Tensor, scale: number, workspace: Workspace): void {
    const field = workspace.get(`${this.name}:field`, xFrom.rows, this.to.size);
    this.backend.matmul(xFrom, this.weights, field);
    this.backend.binary('mul', field, xTo, field);
    this.backend.matmul(field, workspace.onesColumn(this.to.size), out, { alpha: -0.5 * scale, beta: 1 });
  }

  /** grads[0] = scale * sum over rows of dE/dL = -scale * x^T x off the diagonal (added when `accumulate`). */
  addEnergyGradients(xFrom: Tensor, xTo: Tensor, scale: number, grads: readonly Tensor[], accumulate: boolean): void {
    const be = this.backend;
    const g = grads[0]!;
    if (!accumulate) {
      be.matmul(xFrom, xTo, g, { transposeA: true, alpha: -scale });
      be.binary('mul', g, this.offDiagonal, g);
      return;
    }
    const n = this.from.size;
    this.scratch ??= be.zeros(n, n);
    be.matmul(xFrom, xTo, this.scratch, { transposeA: true, alpha: -scale });
    be.binary('mul', this.scratch, this.offDiagonal, this.scratch);
    be.binary('add', g, this.scratch, g);
  }

  spec(): ConnectionSpec {
    return { type: this.type, name: this.name, from: this.from.name, to: this.to.name };
  }

  /**
   * Throws an InvalidValueError unless `values.weights` (a host n x n matrix, e.g. from a model
   * file; `setParams` checked its shape) is symmetric with a zero diagonal, naming the connection, the first offending (i, j)
   * and the values there.
   */
  checkParameters(values: Readonly<Record<string, Matrix>>): void {
    checkSymmetricZeroDiagonal(`weight matrix of lateral connection "${this.name}" (parameter "${this.name}.weights")`, values['weights']!.data, this.from.size);
  }

  dispose(): void {
    this.backend.dispose(this.weights);
    this.backend.dispose(this.offDiagonal);
    if (this.scratch) this.backend.dispose(this.scratch);
  }
}

/** A symmetric matrix with N(0, std) entries above the diagonal, mirrored below, zero diagonal. */
function symmetricNormal(n: number, std: number, rng: CounterRng, precision: Precision): Matrix {
  const draws = rng.normals(new Float64Array(n * n), 0, std);
  const w = Matrix.zeros(n, n, precision);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      // Round once so both halves hold the identical value in float32 too.
      w.data[i * n + j] = draws[i * n + j]!;
      w.data[j * n + i] = w.data[i * n + j]!;
    }
  }
  return w;
}
