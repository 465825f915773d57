import { Matrix, assertDimension, assertRange, type Backend, type Precision, type RngState, type Tensor, type UnaryOp } from '@boltzmann/tensor';
import type { Parameter } from '../parameter.js';
import { checkMatrix } from '../validation.js';
import type { Workspace } from '../workspace.js';
import { checkUnitOptions, type UnitLayer, type UnitSpec } from './unit-layer.js';

/**
 * How far from 0 and 1 the data means are kept when the bias is set to their logit, so an
 * always-off pixel gets bias logit(1e-3) = -6.9 rather than -Infinity. This bounds the
 * initial bias; it never touches the data.
 */
export const BIAS_INIT_EPSILON = 1e-3;

/**
 * Binary units x in {0, 1} with bias b: E_l(x) = -b.x, p(x = 1 | input) = sigmoid(input)
 * where input = field + b, and log sum_x exp(x . input) = sum softplus(input). Data may hold
 * probabilities (values in [0, 1], e.g. grey levels / 255), as scikit-learn allows.
 */
export class BernoulliLayer implements UnitLayer {
  static readonly type = 'bernoulli';
  readonly type = BernoulliLayer.type;
  readonly name: string;
  readonly size: number;
  /** 1 x size. */
  readonly bias: Tensor;
  readonly parameters: readonly Parameter[];
  /** The mean is sigmoid(input) and a sample reads only the mean: a fusing sampler gets it from one `linear`. */
  readonly meanActivation: UnaryOp = 'sigmoid';
  readonly temperable = true;
  readonly annealable = true;
  readonly twoValued = 'binary';
  readonly netActivation = 'sigmoid';

  constructor(readonly backend: Backend, spec: Pick<UnitSpec, 'name' | 'size'>) {
    if (typeof spec.name !== 'string' || spec.name === '') throw new TypeError('a layer needs a non-empty name');
    assertDimension(`size of layer "${spec.name}"`, spec.size);
    checkUnitOptions({ ...spec, type: BernoulliLayer.type }, []);
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
    this.backend.unary('sigmoid', input, out);
  }

  sample(_input: Tensor, mean: Tensor, rng: RngState, out: Tensor): void {
    this.backend.sampleBernoulli(mean, rng, out);
  }

  addEnergy(state: Tensor, out: Tensor, scale: number): void {
    // -b.x for every row in one product: state (rows x n) times bias^T (n x 1).
    this.backend.matmul(state, this.bias, out, { transposeB: true, alpha: -scale, beta: 1 });
  }

  addLogPartition(input: Tensor, out: Tensor, scale: number, workspace: Workspace): void {
    const soft = workspace.get(`${this.name}:softplus`, input.rows, input.cols);
    this.backend.unary('softplus', input, soft);
    this.backend.matmul(soft, workspace.onesColumn(input.cols), out, { alpha: scale, beta: 1 });
  }

  addEnergyGradient(state: Tensor, scale: number, grads: readonly Tensor[], accumulate: boolean, _input: () => Tensor): void {
    // dE/db = -x; the field is not needed (the interaction holds no parameter of the layer).
    this.backend.sumColumns(state, grads[0]!, -scale, accumulate ? 1 : 0);
  }

  validate(data: Matrix, what: string): void {
    checkMatrix(what, data, this.size);
    assertRange(`${what} (Bernoulli units of layer "${this.name}")`, data, 0, 1);
  }

  enumerateStates(start: number, count: number, precision: Precision): Matrix {
    const m = Matrix.zeros(count, this.size, precision);
    for (let r = 0; r < count; r++) {
      let s = start + r;
      for (let j = 0; j < this.size && s > 0; j++) {
        m.data[r * this.size + j] = s % 2;
        s = Math.floor(s / 2);
      }
    }
    return m;
  }

  initializeFromData(columnMeans: Float64Array): void {
    const b = Matrix.zeros(1, this.size, this.backend.precision);
    for (let j = 0; j < this.size; j++) {
      const p = Math.min(1 - BIAS_INIT_EPSILON, Math.max(BIAS_INIT_EPSILON, columnMeans[j]!));
      b.data[j] = Math.log(p / (1 - p));
    }
    this.backend.write(this.bias, b);
  }

  spec(): UnitSpec {
    return { type: this.type, name: this.name, size: this.size };
  }

  dispose(): void {
    this.backend.dispose(this.bias);
  }
}
