import { InvalidValueError, Matrix, assertDimension, type Backend, type Precision, type RngState, type Tensor } from '@boltzmann/tensor';
import type { Parameter } from '../parameter.js';
import { checkInteger, checkMatrix } from '../validation.js';
import { Workspace } from '../workspace.js';
import { checkUnitOptions, type UnitLayer, type UnitSpec } from './unit-layer.js';

/** Floor of the category frequencies whose log sets the initial bias (bounds it; never touches data). */
const FREQUENCY_EPSILON = 1e-3;

/**
 * Softmax / multinomial units: the layer is `size / groupSize` groups of `groupSize` columns,
 * and each group holds one categorical variable written one-hot (a rating out of K, a word of a
 * K-word vocabulary). With `samples: n` a group holds the counts of n independent draws that
 * share the group's weights (the replicated softmax of Salakhutdinov & Hinton; monsta-hd's
 * `n_samples`), so its values are non-negative integers summing to n.
 *
 *   E_l(x) = -b.x,   interaction(x) = x,   p(draw = k | input) = softmax(input over the group)_k
 *   E[x | input] = n softmax(input),   log-partition = n * sum over groups of logsumexp(input).
 *
 * The log-partition sums over every ordered sequence of the n draws, and `enumerateStates` lists
 * those sequences (K^n per group, as count vectors, so a count vector appears once for each
 * order of its draws). Hence exact log-likelihoods of count data are those of one ordered
 * sequence of draws, as in the replicated softmax; add log(n! / prod_k c_k!) per group for the
 * probability of the counts themselves. With n = 1 the two coincide.
 *
 * Options (`{ type: 'multinomial', size, groupSize, samples }`, also registered as "softmax"):
 * `groupSize` K >= 2 divides `size` (default: `size`, one group); `samples` n >= 1 (default 1).
 * `validate` accepts exactly one-hot groups (n = 1) or counts summing to n, and names the row
 * and group that breaks the rule.
 */
export class MultinomialLayer implements UnitLayer {
  static readonly type = 'multinomial';
  readonly type = MultinomialLayer.type;
  readonly name: string;
  readonly size: number;
  /** Categories per group (K). */
  readonly groupSize: number;
  /** Number of groups (size / K). */
  readonly groups: number;
  /** Draws per group (n); 1 for one-hot groups. */
  readonly samples: number;
  /** 1 x size. */
  readonly bias: Tensor;
  readonly parameters: readonly Parameter[];
  readonly temperable = true;
  readonly annealable = true;
  /** Scratch for sampling n > 1 draws. */
  private readonly scratch: Workspace;

  constructor(readonly backend: Backend, spec: UnitSpec) {
    if (typeof spec.name !== 'string' || spec.name === '') throw new TypeError('a layer needs a non-empty name');
    assertDimension(`size of layer "${spec.name}"`, spec.size);
    checkUnitOptions(spec, ['groupSize', 'samples']);
    const groupSize = checkInteger(`groupSize of layer "${spec.name}" (categories per one-hot group)`, spec.groupSize ?? spec.size, 2);
    if (spec.size % groupSize !== 0) {
      throw new InvalidValueError(`layer "${spec.name}": groupSize ${groupSize} does not divide its ${spec.size} units into whole one-hot groups`);
    }
    this.samples = checkInteger(`samples of layer "${spec.name}" (draws per group)`, spec.samples ?? 1, 1);
    this.name = spec.name;
    this.size = spec.size;
    this.groupSize = groupSize;
    this.groups = spec.size / groupSize;
    this.bias = backend.zeros(1, spec.size);
    this.parameters = [{ name: 'bias', role: 'bias', tensor: this.bias }];
    this.scratch = new Workspace(backend, 2);
  }

  get fieldOffset(): Tensor {
    return this.bias;
  }

  /** K^(n * groups): every ordered sequence of draws in every group. */
  get stateCount(): number {
    return this.groupSize ** (this.samples * this.groups);
  }

  interaction(state: Tensor): Tensor {
    return state;
  }

  mean(input: Tensor, out: Tensor): void {
    this.backend.softmaxGroups(input, this.groupSize, out);
    if (this.samples !== 1) this.backend.affine(out, this.samples, 0, out);
  }

  /** One categorical op per draw: n keys of `rng`. */
  sample(_input: Tensor, mean: Tensor, rng: RngState, out: Tensor): void {
    const be = this.backend;
    if (this.samples === 1) {
      be.sampleCategorical(mean, this.groupSize, rng, out);
      return;
    }
    const p = this.scratch.get('probabilities', mean.rows, this.size);
    const draw = this.scratch.get('draw', mean.rows, this.size);
    be.affine(mean, 1 / this.samples, 0, p);
    be.fill(out, 0);
    for (let i = 0; i < this.samples; i++) {
      be.sampleCategorical(p, this.groupSize, rng, draw);
      be.binary('add', out, draw, out);
    }
  }

  addEnergy(state: Tensor, out: Tensor, scale: number): void {
    this.backend.matmul(state, this.bias, out, { transposeB: true, alpha: -scale, beta: 1 });
  }

  addLogPartition(input: Tensor, out: Tensor, scale: number, workspace: Workspace): void {
    const lse = workspace.get(`${this.name}:logsumexp`, input.rows, this.groups);
    this.backend.logSumExpGroups(input, this.groupSize, lse);
    this.backend.matmul(lse, workspace.onesColumn(this.groups), out, { alpha: scale * this.samples, beta: 1 });
  }

  addEnergyGradient(state: Tensor, scale: number, grads: readonly Tensor[], accumulate: boolean, _input: () => Tensor): void {
    // dE/db = -x
    this.backend.sumColumns(state, grads[0]!, -scale, accumulate ? 1 : 0);
  }

  validate(data: Matrix, what: string, missing?: Matrix): void {
    checkMatrix(what, data, this.size);
    const { groupSize: k, samples: n } = this;
    const where = `${what} (multinomial units of layer "${this.name}": ${this.groups} group${this.groups === 1 ? '' : 's'} of ${k}${n === 1 ? ', one-hot' : `, counts of ${n} draws`})`;
    for (let r = 0; r < data.rows; r++) {
      for (let g = 0; g < this.groups; g++) {
        const first = r * this.size + g * k;
        if (missing !== undefined && missing.data[first] === 0) continue; // a missing group (an unrated item)
        let sum = 0;
        for (let j = 0; j < k; j++) {
          const v = data.data[first + j]!;
          if (!(Number.isInteger(v) && v >= 0 && v <= n)) {
            const rule = n === 1 ? 'a one-hot group holds only 0 and 1' : `counts are whole numbers in [0, ${n}]`;
            throw new InvalidValueError(`${where}: row ${r}, group ${g} has ${v} at col ${g * k + j}; ${rule}`);
          }
          sum += v;
        }
        if (sum !== n) {
          throw new InvalidValueError(`${where}: row ${r}, group ${g} (cols ${g * k}-${g * k + k - 1}) sums to ${sum}, not ${n}`);
        }
      }
    }
  }

  enumerateStates(start: number, count: number, precision: Precision): Matrix {
    const { groupSize: k, samples: n } = this;
    const perGroup = k ** n;
    const m = Matrix.zeros(count, this.size, precision);
    for (let r = 0; r < count; r++) {
      let s = start + r;
      for (let g = 0; g < this.groups; g++) {
        let sequence = s % perGroup;
        s = Math.floor(s / perGroup);
        for (let i = 0; i < n; i++) {
          m.data[r * this.size + g * k + (sequence % k)]! += 1;
          sequence = Math.floor(sequence / k);
        }
      }
    }
    return m;
  }

  /** Sets the bias to the log of each category's frequency in the data (floored at 1e-3). */
  initializeFromData(columnMeans: Float64Array): void {
    const b = Matrix.zeros(1, this.size, this.backend.precision);
    for (let j = 0; j < this.size; j++) b.data[j] = Math.log(Math.max(FREQUENCY_EPSILON, columnMeans[j]! / this.samples));
    this.backend.write(this.bias, b);
  }

  spec(): UnitSpec {
    return { type: this.type, name: this.name, size: this.size, groupSize: this.groupSize, samples: this.samples };
  }

  dispose(): void {
    this.scratch.clear();
    this.backend.dispose(this.bias);
  }
}
