import { checkMatrix, type Parameter, type UnitLayer, type UnitSpec, type Workspace } from '@boltzmann/core';
import { Matrix, assertDimension, assertRange, type Backend, type Precision, type RngState, type Tensor } from '@boltzmann/tensor';

/** How far inside (-1, 1) the data means are kept when the bias is set to their atanh (bounds the initial bias only). */
const MEAN_BOUND = 1 - 2e-3;

/**
 * Ising units: spins s in {-1, +1} with bias b, E_l(s) = -b.s. Given its input
 * x = field + b, a spin is +1 with probability e^x / (e^x + e^-x) = sigmoid(2x), so
 * E[s | x] = tanh(x), and log sum_{s = +-1} e^(s x) = log(2 cosh x) = softplus(2x) - x.
 * Data may hold spin means (values in [-1, 1]).
 */
export class IsingLayer implements UnitLayer {
  static readonly type = 'ising';
  readonly type = IsingLayer.type;
  readonly name: string;
  readonly size: number;
  /** 1 x size. */
  readonly bias: Tensor;
  readonly parameters: readonly Parameter[];
  // What the type can take part in, declared here (core checks these, never the type's name):
  /** Energy -input . s: beta scales the input, so parallel tempering can temper it. */
  readonly temperable = true;
  /** Energy affine in the bias: annealed importance sampling can anneal it. */
  readonly annealable = true;
  /** Two values, -1 and +1, energy -b.s: Glauber dynamics, wake/dream and the pseudo-likelihood apply. */
  readonly twoValued = 'spin';
  /** The mean is tanh(input): a DBN can fine-tune through it. */
  readonly netActivation = 'tanh';

  constructor(readonly backend: Backend, spec: Pick<UnitSpec, 'name' | 'size'>) {
    if (typeof spec.name !== 'string' || spec.name === '') throw new TypeError('a layer needs a non-empty name');
    assertDimension(`size of layer "${spec.name}"`, spec.size);
    this.name = spec.name;
    this.size = spec.size;
    this.bias = backend.zeros(1, spec.size);
    this.parameters = [{ name: 'bias', role: 'bias', tensor: this.bias }];
  }

  get fieldOffset(): Tensor {
    return this.bias;
  }

  get stateCount(): number {
    return 2 ** this.size;
  }

  interaction(state: Tensor): Tensor {
    return state;
  }

  mean(input: Tensor, out: Tensor): void {
    this.backend.unary('tanh', input, out);
  }

  sample(_input: Tensor, mean: Tensor, rng: RngState, out: Tensor): void {
    // p(+1) = (1 + tanh x) / 2; draw 0/1 with it, then map to -1/+1.
    this.backend.affine(mean, 0.5, 0.5, out);
    this.backend.sampleBernoulli(out, rng, out);
    this.backend.affine(out, 2, -1, out);
  }

  addEnergy(state: Tensor, out: Tensor, scale: number): void {
    this.backend.matmul(state, this.bias, out, { transposeB: true, alpha: -scale, beta: 1 });
  }

  addLogPartition(input: Tensor, out: Tensor, scale: number, workspace: Workspace): void {
    const t = workspace.get(`${this.name}:log-2cosh`, input.rows, input.cols);
    this.backend.affine(input, 2, 0, t);
    this.backend.unary('softplus', t, t);
    this.backend.binary('sub', t, input, t); // log(2 cosh x) = softplus(2x) - x, stable for any |x|
    this.backend.matmul(t, workspace.onesColumn(input.cols), out, { alpha: scale, beta: 1 });
  }

  addEnergyGradient(state: Tensor, scale: number, grads: readonly Tensor[], accumulate: boolean): void {
    this.backend.sumColumns(state, grads[0]!, -scale, accumulate ? 1 : 0); // dE/db = -s
  }

  validate(data: Matrix, what: string): void {
    checkMatrix(what, data, this.size);
    assertRange(`${what} (Ising units of layer "${this.name}")`, data, -1, 1);
  }

  enumerateStates(start: number, count: number, precision: Precision): Matrix {
    const m = Matrix.zeros(count, this.size, precision);
    for (let r = 0; r < count; r++) {
      let s = start + r;
      for (let j = 0; j < this.size; j++) {
        m.data[r * this.size + j] = s % 2 === 1 ? 1 : -1;
        s = Math.floor(s / 2);
      }
    }
    return m;
  }

  initializeFromData(columnMeans: Float64Array): void {
    // With no field E[s] = tanh(b), so b = atanh(mean) reproduces the data means.
    const b = Matrix.zeros(1, this.size, this.backend.precision);
    for (let j = 0; j < this.size; j++) b.data[j] = Math.atanh(Math.min(MEAN_BOUND, Math.max(-MEAN_BOUND, columnMeans[j]!)));
    this.backend.write(this.bias, b);
  }

  spec(): UnitSpec {
    return { type: this.type, name: this.name, size: this.size };
  }

  dispose(): void {
    this.backend.dispose(this.bias);
  }
}
