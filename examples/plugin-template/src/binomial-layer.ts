import { Workspace, checkInteger, checkMatrix, checkUnitOptions, type Parameter, type UnitLayer, type UnitSpec } from '@boltzmann/core';
import { InvalidValueError, Matrix, assertDimension, type Backend, type Precision, type RngState, type Tensor } from '@boltzmann/tensor';

/** How far inside (0, 1) the data means are kept when the bias is set to their logit. */
const MEAN_BOUND = 1e-3;

/**
 * Binomial units: each unit counts successes x in {0, ..., n} of `trials` = n Bernoulli copies
 * that share its bias and weights (for count data: votes, ratings, pixel intensities coded
 * as counts). With bias b, E_l(x) = -b.x - sum_j log C(n, x_j), so given the input a
 * (connection field + b) a unit is Binomial(n, sigmoid(a)): E[x | a] = n sigmoid(a), and
 * log sum_x C(n, x) e^(x a) = n softplus(a).
 */
export class BinomialLayer implements UnitLayer {
  static readonly type = 'binomial';
  readonly type = BinomialLayer.type;
  /** Energy -input . x - log C(n, x): tempering scales the input only, so it may be tempered. */
  readonly temperable = true;
  /** The energy is affine in the bias (its only parameter), so AIS may anneal it. */
  readonly annealable = true;
  readonly name: string;
  readonly size: number;
  /** Copies per unit: the largest count. */
  readonly trials: number;
  /** 1 x size. */
  readonly bias: Tensor;
  readonly parameters: readonly Parameter[];
  /** log C(n, k) - log C(n, k - 1) = log((n - k + 1) / k), for k = 1..n. */
  private readonly logBinomialSteps: number[];
  /** Scratch tensors of `sample` (which gets no workspace). */
  private readonly scratch: Workspace;

  constructor(readonly backend: Backend, spec: UnitSpec) {
    if (typeof spec.name !== 'string' || spec.name === '') throw new InvalidValueError('a layer needs a non-empty name');
    assertDimension(`size of layer "${spec.name}"`, spec.size);
    checkUnitOptions(spec, ['trials']);
    this.name = spec.name;
    this.size = spec.size;
    this.trials = checkInteger(`trials of layer "${spec.name}" (copies per binomial unit)`, spec.trials ?? 4, 1, 1000);
    this.bias = backend.zeros(1, spec.size);
    this.parameters = [{ name: 'bias', role: 'bias', tensor: this.bias }];
    this.scratch = new Workspace(backend);
    this.logBinomialSteps = Array.from({ length: this.trials }, (_, i) => Math.log((this.trials - i) / (i + 1)));
  }

  get fieldOffset(): Tensor {
    return this.bias;
  }

  get stateCount(): number {
    return (this.trials + 1) ** this.size;
  }

  interaction(state: Tensor): Tensor {
    return state;
  }

  mean(input: Tensor, out: Tensor): void {
    this.backend.unary('sigmoid', input, out);
    this.backend.affine(out, this.trials, 0, out);
  }

  /** The sum of `trials` Bernoulli draws of p = mean / trials: one key of `rng` per draw. */
  sample(_input: Tensor, mean: Tensor, rng: RngState, out: Tensor): void {
    const p = this.scratch.get('p', mean.rows, mean.cols);
    const draw = this.scratch.get('draw', mean.rows, mean.cols);
    this.backend.affine(mean, 1 / this.trials, 0, p);
    this.backend.fill(out, 0);
    for (let t = 0; t < this.trials; t++) {
      this.backend.sampleBernoulli(p, rng, draw);
      this.backend.binary('add', out, draw, out);
    }
  }

  addEnergy(state: Tensor, out: Tensor, scale: number, workspace: Workspace): void {
    this.backend.matmul(state, this.bias, out, { transposeB: true, alpha: -scale, beta: 1 }); // -b.x
    // -log C(n, x) = -sum over k <= x of log((n - k + 1) / k); for integer x, [x >= k] = relu(x - k + 1) - relu(x - k).
    const atLeast = workspace.get(`${this.name}:at-least`, state.rows, this.size);
    const step = workspace.get(`${this.name}:step`, state.rows, this.size);
    const ones = workspace.onesColumn(this.size);
    this.logBinomialSteps.forEach((logStep, i) => {
      const k = i + 1;
      this.backend.affine(state, 1, 1 - k, atLeast);
      this.backend.unary('relu', atLeast, atLeast);
      this.backend.affine(state, 1, -k, step);
      this.backend.unary('relu', step, step);
      this.backend.binary('sub', atLeast, step, atLeast);
      this.backend.matmul(atLeast, ones, out, { alpha: -scale * logStep, beta: 1 });
    });
  }

  addLogPartition(input: Tensor, out: Tensor, scale: number, workspace: Workspace): void {
    const t = workspace.get(`${this.name}:softplus`, input.rows, input.cols);
    this.backend.unary('softplus', input, t);
    this.backend.matmul(t, workspace.onesColumn(input.cols), out, { alpha: scale * this.trials, beta: 1 });
  }

  addEnergyGradient(state: Tensor, scale: number, grads: readonly Tensor[], accumulate: boolean): void {
    this.backend.sumColumns(state, grads[0]!, -scale, accumulate ? 1 : 0); // dE/db = -x
  }

  validate(data: Matrix, what: string): void {
    checkMatrix(what, data, this.size);
    for (let i = 0; i < data.data.length; i++) {
      const x = data.data[i]!;
      // Counts, or their means (a reconstruction): any value in [0, trials].
      if (!(x >= 0 && x <= this.trials)) {
        const row = Math.floor(i / this.size);
        throw new InvalidValueError(`${what}: row ${row}, column ${i - row * this.size} is ${x}, outside [0, ${this.trials}] (binomial units of layer "${this.name}" with ${this.trials} trials)`);
      }
    }
  }

  enumerateStates(start: number, count: number, precision: Precision): Matrix {
    const m = Matrix.zeros(count, this.size, precision);
    for (let r = 0; r < count; r++) {
      let s = start + r;
      for (let j = 0; j < this.size; j++) {
        m.data[r * this.size + j] = s % (this.trials + 1);
        s = Math.floor(s / (this.trials + 1));
      }
    }
    return m;
  }

  initializeFromData(columnMeans: Float64Array): void {
    // With no field E[x] = n sigmoid(b), so b = logit(mean / n) reproduces the data means.
    const b = Matrix.zeros(1, this.size, this.backend.precision);
    for (let j = 0; j < this.size; j++) {
      const p = Math.min(1 - MEAN_BOUND, Math.max(MEAN_BOUND, columnMeans[j]! / this.trials));
      b.data[j] = Math.log(p / (1 - p));
    }
    this.backend.write(this.bias, b);
  }

  spec(): UnitSpec {
    return { type: this.type, name: this.name, size: this.size, trials: this.trials };
  }

  dispose(): void {
    this.backend.dispose(this.bias);
    this.scratch.clear();
  }
}
