import { InvalidValueError, Matrix, assertDimension, type Backend, type RngState, type Tensor } from '@boltzmann/tensor';
import type { Parameter } from '../parameter.js';
import { checkMatrix } from '../validation.js';
import { Workspace } from '../workspace.js';
import { checkUnitOptions, type UnitLayer, type UnitSpec } from './unit-layer.js';

/** How a Gaussian layer treats its standard deviations. */
export type GaussianVariance = 'unit' | 'learned';

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Gaussian (linear) units x in R, with means b and standard deviations sigma (Hinton's guide,
 * section 13.2; monsta-hd's and paysage's Gaussian layers):
 *
 *   E_l(x) = sum_i (x_i - b_i)^2 / (2 sigma_i^2),   interaction(x) = x / sigma,
 *
 * so given the field f its connections send (W h for an RBM's visible layer),
 * x_i ~ N(b_i + sigma_i f_i, sigma_i^2), and summing the layer out is a Gaussian integral:
 *
 *   log integral exp(-E_l(x) + (x / sigma).f) dx = sum_i b_i f_i / sigma_i + f_i^2 / 2 + log sigma_i + log(2 pi) / 2.
 *
 * The log(2 pi) / 2 terms are kept, so log Z of a Gaussian-Bernoulli RBM is the log normaliser
 * of its density over R^n and exact log-likelihoods are log densities.
 *
 * Options (`{ type: 'gaussian', size, variance }`):
 * - `variance: 'unit'` (default): sigma = 1, parameters [bias]. The bias is the layer's field
 *   offset (input = f + b, mean = input). For standardised data; with CD use the mean
 *   reconstruction (the default), as Hinton recommends.
 * - `variance: 'learned'`: sigma_i = exp(logSigma_i), parameters [bias, logSigma] (logSigma has
 *   role "scale", so weight decay leaves it alone). No field offset: input = f, mean = b + sigma f.
 *   Its gradient dE/dlogSigma_i = -(x_i - b_i)^2 / sigma_i^2 + (x_i / sigma_i) f_i needs the field and
 *   is not linear in x, so estimators use samples of this layer, never its means
 *   (`needsSampledStatistics`).
 *
 * Any finite real data is valid. The layer is continuous (`stateCount` Infinity): exact log Z
 * enumerates the other side of an RBM and integrates this one out.
 */
export class GaussianLayer implements UnitLayer {
  static readonly type = 'gaussian';
  readonly type = GaussianLayer.type;
  readonly name: string;
  readonly size: number;
  readonly variance: GaussianVariance;
  /** 1 x size: the means at zero field. */
  readonly bias: Tensor;
  /** 1 x size: log sigma ('learned' only). */
  readonly logSigma: Tensor | undefined;
  readonly parameters: readonly Parameter[];
  readonly needsSampledStatistics: boolean;
  readonly stateCount = Infinity;
  /** Affine in the bias for a fixed sigma (annealing keeps the target's sigma). Not temperable: tempering would change the variance. */
  readonly annealable = true;
  /** With unit variance the mean is the input itself. */
  readonly netActivation: 'identity' | undefined;
  /** Rows derived from the parameters, recomputed before each use (the optimizer changes the parameters in place). */
  private readonly derived: { sigma: Tensor; inverseSigma: Tensor; inverseVariance: Tensor; negativeBias: Tensor; biasOverSigma: Tensor; scalar: Tensor };
  /** Scratch for `addEnergyGradient`, which is given no workspace. */
  private readonly scratch: Workspace;

  constructor(readonly backend: Backend, spec: UnitSpec) {
    if (typeof spec.name !== 'string' || spec.name === '') throw new TypeError('a layer needs a non-empty name');
    assertDimension(`size of layer "${spec.name}"`, spec.size);
    checkUnitOptions(spec, ['variance']);
    const variance = spec.variance ?? 'unit';
    if (variance !== 'unit' && variance !== 'learned') {
      throw new InvalidValueError(`layer "${spec.name}": variance of Gaussian units must be "unit" or "learned", got ${JSON.stringify(variance)}`);
    }
    this.name = spec.name;
    this.size = spec.size;
    this.variance = variance;
    this.bias = backend.zeros(1, spec.size);
    this.logSigma = variance === 'learned' ? backend.zeros(1, spec.size) : undefined;
    this.parameters = [
      { name: 'bias', role: 'bias', tensor: this.bias },
      ...(this.logSigma ? [{ name: 'logSigma', role: 'scale' as const, tensor: this.logSigma }] : []),
    ];
    this.needsSampledStatistics = variance === 'learned';
    this.netActivation = variance === 'unit' ? 'identity' : undefined;
    const row = () => backend.zeros(1, spec.size);
    this.derived = { sigma: row(), inverseSigma: row(), inverseVariance: row(), negativeBias: row(), biasOverSigma: row(), scalar: backend.zeros(1, 1) };
    this.scratch = new Workspace(backend, 2);
  }

  get fieldOffset(): Tensor | undefined {
    return this.logSigma ? undefined : this.bias;
  }

  interaction(state: Tensor, workspace: Workspace): Tensor {
    if (!this.logSigma) return state;
    const out = workspace.get(`${this.name}:interaction`, state.rows, this.size);
    this.backend.mulRowVector(state, this.refresh().inverseSigma, out);
    return out;
  }

  mean(input: Tensor, out: Tensor): void {
    if (!this.logSigma) {
      this.backend.copy(input, out);
      return;
    }
    this.backend.mulRowVector(input, this.refresh().sigma, out);
    this.backend.addRowVector(out, this.bias, out);
  }

  sample(_input: Tensor, mean: Tensor, rng: RngState, out: Tensor): void {
    this.backend.sampleGaussian(mean, this.logSigma ? this.refresh().sigma : 1, rng, out);
  }

  addEnergy(state: Tensor, out: Tensor, scale: number, workspace: Workspace): void {
    // sum_i ((x_i - b_i) / sigma_i)^2 / 2 per row.
    const d = this.refresh();
    const t = workspace.get(`${this.name}:energy`, state.rows, this.size);
    this.backend.addRowVector(state, d.negativeBias, t);
    if (this.logSigma) this.backend.mulRowVector(t, d.inverseSigma, t);
    this.backend.unary('square', t, t);
    this.backend.matmul(t, workspace.onesColumn(this.size), out, { alpha: scale / 2, beta: 1 });
  }

  addLogPartition(input: Tensor, out: Tensor, scale: number, workspace: Workspace): void {
    const be = this.backend;
    const d = this.refresh();
    const t = workspace.get(`${this.name}:log-partition`, input.rows, this.size);
    be.unary('square', input, t);
    be.matmul(t, workspace.onesColumn(this.size), out, { alpha: scale / 2, beta: 1 });
    const constant = scale * this.size * HALF_LOG_TWO_PI;
    if (this.logSigma) {
      // input = f: sum_i b_i f_i / sigma_i + f_i^2 / 2 + log sigma_i + log(2 pi) / 2
      be.matmul(input, d.biasOverSigma, out, { transposeB: true, alpha: scale, beta: 1 });
      be.matmul(this.logSigma, workspace.onesColumn(this.size), d.scalar);
      be.affine(d.scalar, scale, constant, d.scalar);
    } else {
      // input = f + b: b.f + f^2 / 2 = ((f + b)^2 - b^2) / 2, plus log(2 pi) / 2 per unit
      be.matmul(this.bias, this.bias, d.scalar, { transposeB: true });
      be.affine(d.scalar, -scale / 2, constant, d.scalar);
    }
    be.addRowVector(out, d.scalar, out);
  }

  addEnergyGradient(state: Tensor, scale: number, grads: readonly Tensor[], accumulate: boolean, input: () => Tensor): void {
    const be = this.backend;
    const beta = accumulate ? 1 : 0;
    if (!this.logSigma) {
      // dE/db = -(x - b): -scale * (sum_rows x - rows * b)
      be.sumColumns(state, grads[0]!, -scale, beta);
      be.axpby(1, grads[0]!, scale * state.rows, this.bias, grads[0]!);
      return;
    }
    const d = this.refresh();
    const t = this.scratch.get('gradient', state.rows, this.size);
    // dE/db = -(x - b) / sigma^2
    be.addRowVector(state, d.negativeBias, t);
    be.mulRowVector(t, d.inverseVariance, t);
    be.sumColumns(t, grads[0]!, -scale, beta);
    // dE/dlogSigma = -((x - b) / sigma)^2 + (x / sigma) f; the second term is the coupling's
    be.mulRowVector(t, d.sigma, t);
    be.unary('square', t, t);
    be.sumColumns(t, grads[1]!, -scale, beta);
    be.binary('mul', state, input(), t);
    be.mulRowVector(t, d.inverseSigma, t);
    be.sumColumns(t, grads[1]!, scale, 1);
  }

  validate(data: Matrix, what: string): void {
    checkMatrix(what, data, this.size);
  }

  /** Sets the means b to the data's column means (sigma is left as it is). */
  initializeFromData(columnMeans: Float64Array): void {
    const b = Matrix.zeros(1, this.size, this.backend.precision);
    b.data.set(columnMeans.subarray(0, this.size));
    this.backend.write(this.bias, b);
  }

  spec(): UnitSpec {
    return { type: this.type, name: this.name, size: this.size, variance: this.variance };
  }

  dispose(): void {
    this.scratch.clear();
    for (const t of Object.values(this.derived)) this.backend.dispose(t);
    this.backend.dispose(this.bias);
    if (this.logSigma) this.backend.dispose(this.logSigma);
  }

  /** Recomputes sigma, 1/sigma, 1/sigma^2, -b and b/sigma from the current parameters. */
  private refresh(): GaussianLayer['derived'] {
    const be = this.backend;
    const d = this.derived;
    be.affine(this.bias, -1, 0, d.negativeBias);
    if (this.logSigma) {
      be.unary('exp', this.logSigma, d.sigma);
      be.unary('reciprocal', d.sigma, d.inverseSigma);
      be.unary('square', d.inverseSigma, d.inverseVariance);
      be.binary('mul', this.bias, d.inverseSigma, d.biasOverSigma);
    }
    return d;
  }
}
