import { Matrix, assertDimension, assertRange, type Backend, type RngState, type Tensor } from '@boltzmann/tensor';
import type { Parameter } from '../parameter.js';
import { checkMatrix } from '../validation.js';
import { Workspace } from '../workspace.js';
import { checkUnitOptions, type UnitLayer, type UnitSpec } from './unit-layer.js';

const PI2_OVER_12 = (Math.PI * Math.PI) / 12;

/**
 * Noisy rectified linear units (Nair & Hinton, 2010). A ReLU unit stands for infinitely many
 * binary copies sharing its weights, with biases b - 1/2, b - 3/2, b - 5/2, ...; the number of
 * copies on has mean sum_k sigmoid(x - k + 1/2) ~ softplus(x) ~ max(0, x) and variance ~
 * sigmoid(x), x being the input. As in the paper the layer uses
 *
 *   mean   max(0, x)
 *   sample max(0, x + N(0, sigmoid(x)))   (variance sigmoid(x))
 *   E_l(x) = -b.x,   interaction(x) = x.
 *
 * Log-partition: the *stepped-sigmoid approximation* A(x) = integral_{-inf}^x softplus(u) du
 * = -Li2(-e^x) (the dilogarithm), i.e. the log-partition whose derivative is the stepped-sigmoid
 * mean softplus(x) and whose second derivative is the variance sigmoid(x). It is computed to
 * float64 rounding as relu(x)^2 / 2 + pi^2/12 + sign(x) (pi^2/12 - P(t)), t = softplus(-|x|),
 * P(t) = -Li2(-(e^t - 1)) = t + t^2/4 + t^3/36 - t^5/3600 + t^7/211680 - t^9/10886400 + t^11/526901760
 * (Landen's identity and the Bernoulli-number series; t <= log 2). The exact log-partition of
 * the infinitely many copies, sum_k softplus(x - k + 1/2), lies below A by sigmoid(x)/24 up to
 * O(1e-4): within 1/24 nat per unit. So free energies that sum a ReLU layer out are
 * approximations, and the exact metrics refuse ReLU models (`approximateLogPartition`).
 *
 * A clamped ReLU state has energy -b.x: the copies' base measure (which depends on x alone) is
 * left out, so free energies of different ReLU states are comparable only up to that term.
 * Valid data: finite values >= 0. Continuous (`stateCount` Infinity), so never enumerated.
 */
export class ReLULayer implements UnitLayer {
  static readonly type = 'relu';
  readonly type = ReLULayer.type;
  readonly name: string;
  readonly size: number;
  /** 1 x size. */
  readonly bias: Tensor;
  readonly parameters: readonly Parameter[];
  readonly stateCount = Infinity;
  readonly netActivation = 'relu';
  readonly approximateLogPartition =
    'ReLU units sum out with the stepped-sigmoid approximation -Li2(-e^x) of the log-partition of their infinitely many binary copies (within 1/24 nat per unit), so no exact log Z exists here';
  /** Scratch for sampling. */
  private readonly scratch: Workspace;

  constructor(readonly backend: Backend, spec: UnitSpec) {
    if (typeof spec.name !== 'string' || spec.name === '') throw new TypeError('a layer needs a non-empty name');
    assertDimension(`size of layer "${spec.name}"`, spec.size);
    checkUnitOptions(spec, []);
    this.name = spec.name;
    this.size = spec.size;
    this.bias = backend.zeros(1, spec.size);
    this.parameters = [{ name: 'bias', role: 'bias', tensor: this.bias }];
    this.scratch = new Workspace(backend, 2);
  }

  get fieldOffset(): Tensor {
    return this.bias;
  }

  interaction(state: Tensor): Tensor {
    return state;
  }

  mean(input: Tensor, out: Tensor): void {
    this.backend.unary('relu', input, out);
  }

  sample(input: Tensor, _mean: Tensor, rng: RngState, out: Tensor): void {
    const be = this.backend;
    const std = this.scratch.get('std', input.rows, this.size);
    const zero = this.scratch.get('zero', input.rows, this.size);
    be.unary('sigmoid', input, std);
    be.unary('sqrt', std, std);
    be.fill(zero, 0);
    be.sampleGaussian(zero, 1, rng, out);
    be.binary('mul', out, std, out);
    be.binary('add', out, input, out);
    be.unary('relu', out, out);
  }

  addEnergy(state: Tensor, out: Tensor, scale: number): void {
    this.backend.matmul(state, this.bias, out, { transposeB: true, alpha: -scale, beta: 1 });
  }

  addLogPartition(input: Tensor, out: Tensor, scale: number, workspace: Workspace): void {
    const be = this.backend;
    const { rows } = input;
    const t = workspace.get(`${this.name}:lp-t`, rows, this.size);
    const u = workspace.get(`${this.name}:lp-u`, rows, this.size);
    const p = workspace.get(`${this.name}:lp-p`, rows, this.size);
    // t = softplus(-|x|) in (0, log 2]; u = t^2
    be.unary('abs', input, t);
    be.unary('neg', t, t);
    be.unary('softplus', t, t);
    be.unary('square', t, u);
    // p = P(t) = t + t^2/4 + t^3 (1/36 + u (-1/3600 + u (1/211680 + u (-1/10886400 + u / 526901760))))
    be.affine(u, 1 / 526901760, -1 / 10886400, p);
    be.binary('mul', p, u, p);
    be.affine(p, 1, 1 / 211680, p);
    be.binary('mul', p, u, p);
    be.affine(p, 1, -1 / 3600, p);
    be.binary('mul', p, u, p);
    be.affine(p, 1, 1 / 36, p);
    be.binary('mul', p, u, p);
    be.binary('mul', p, t, p);
    be.axpby(1, p, 0.25, u, p);
    be.binary('add', p, t, p);
    // A = relu(x)^2 / 2 + sign(x) (pi^2/12 - P) + pi^2/12
    be.affine(p, -1, PI2_OVER_12, p);
    be.unary('sign', input, t);
    be.binary('mul', p, t, p);
    be.unary('relu', input, u);
    be.unary('square', u, u);
    be.axpby(1, p, 0.5, u, p);
    be.matmul(p, workspace.onesColumn(this.size), out, { alpha: scale, beta: 1 });
    be.affine(out, 1, scale * this.size * PI2_OVER_12, out);
  }

  addEnergyGradient(state: Tensor, scale: number, grads: readonly Tensor[], accumulate: boolean, _input: () => Tensor): void {
    // dE/db = -x
    this.backend.sumColumns(state, grads[0]!, -scale, accumulate ? 1 : 0);
  }

  validate(data: Matrix, what: string): void {
    checkMatrix(what, data, this.size);
    assertRange(`${what} (ReLU units of layer "${this.name}")`, data, 0, Infinity);
  }

  spec(): UnitSpec {
    return { type: this.type, name: this.name, size: this.size };
  }

  dispose(): void {
    this.scratch.clear();
    this.backend.dispose(this.bias);
  }
}
