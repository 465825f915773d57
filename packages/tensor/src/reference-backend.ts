import type { Backend, BinaryOp, LinearOptions, MatmulOptions, MemoryInfo, ReduceOp, Tensor, UnaryOp } from './backend.js';
import { ShapeError, InvalidValueError } from './errors.js';
import { Matrix, assertDimension } from './matrix.js';
import { nextKey, normalAt, uniformAt, type RngState } from './rng.js';

/** A float64 tensor of the reference backend. */
class RefTensor implements Tensor {
  disposed = false;
  constructor(readonly rows: number, readonly cols: number, readonly data: Float64Array, readonly owner: string) {}
}

/** Element-wise definitions in float64, shared with the other backends' tests. */
export const unaryReference: Record<UnaryOp, (x: number) => number> = {
  identity: (x) => x,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  softplus: (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
  relu: (x) => (x > 0 ? x : 0),
  exp: Math.exp,
  log: Math.log,
  tanh: Math.tanh,
  neg: (x) => -x,
  square: (x) => x * x,
  sqrt: Math.sqrt,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  reciprocal: (x) => 1 / x,
};

export const binaryReference: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => Math.max(a, b),
  min: (a, b) => Math.min(a, b),
};

/**
 * The float64 oracle: every Backend op written as plainly as possible, with no blocking,
 * fusing or float32. Tests run the same op here and on a fast backend and compare.
 * It also defines the random streams: element i of a random op uses `uniformAt(key, i)`
 * (Bernoulli: 1 when u < p), `normalAt(key, i)` (Gaussian), and group g of row r of a
 * categorical op uses `uniformAt(key, r * groups + g)` against the running sum of p.
 */
export class ReferenceBackend implements Backend {
  readonly precision = 'float64' as const;
  private live = { numTensors: 0, numBytes: 0 };
  private destroyed = false;

  constructor(readonly name = 'reference') {}

  private t(x: Tensor, what: string): RefTensor {
    if (this.destroyed) throw new InvalidValueError(`backend ${this.name} was destroyed`);
    if (!(x instanceof RefTensor) || x.owner !== this.name) throw new ShapeError(`${what} is not a tensor of backend ${this.name}`);
    if (x.disposed) throw new InvalidValueError(`${what} was disposed`);
    return x;
  }

  private made(rows: number, cols: number, data: Float64Array): RefTensor {
    if (this.destroyed) throw new InvalidValueError(`backend ${this.name} was destroyed`);
    this.live.numTensors++;
    this.live.numBytes += data.byteLength;
    return new RefTensor(rows, cols, data, this.name);
  }

  private same(what: string, a: { rows: number; cols: number }, b: { rows: number; cols: number }): void {
    if (a.rows !== b.rows || a.cols !== b.cols) throw new ShapeError(`${what}: ${a.rows}x${a.cols} vs ${b.rows}x${b.cols}`);
  }

  zeros(rows: number, cols: number, value = 0): Tensor {
    assertDimension('rows', rows);
    assertDimension('cols', cols);
    return this.made(rows, cols, new Float64Array(rows * cols).fill(value));
  }

  upload(m: Matrix): Tensor {
    return this.made(m.rows, m.cols, Float64Array.from(m.data));
  }

  write(t: Tensor, m: Matrix): void {
    this.same('write', t, m);
    this.t(t, 'write target').data.set(m.data);
  }

  async read(t: Tensor): Promise<Matrix> {
    return this.readSync(t);
  }

  readSync(t: Tensor): Matrix {
    return new Matrix(t.rows, t.cols, this.t(t, 'read source').data.slice());
  }

  /** Frees `t`; allowed after `destroy` too (it then counts nothing), like the other backends. */
  dispose(t: Tensor): void {
    if (this.destroyed && t instanceof RefTensor && t.owner === this.name) {
      t.disposed = true;
      return;
    }
    const T = this.t(t, 'dispose target');
    T.disposed = true;
    this.live.numTensors--;
    this.live.numBytes -= T.data.byteLength;
  }

  destroy(): void {
    this.destroyed = true;
    this.live = { numTensors: 0, numBytes: 0 };
  }

  memory(): MemoryInfo {
    return { ...this.live };
  }

  copy(src: Tensor, out: Tensor): void {
    this.same('copy', src, out);
    this.t(out, 'out').data.set(this.t(src, 'src').data);
  }

  fill(out: Tensor, value: number): void {
    this.t(out, 'out').data.fill(value);
  }

  gatherRows(src: Tensor, indices: Uint32Array, out: Tensor): void {
    const s = this.t(src, 'src');
    const o = this.t(out, 'out');
    if (o.rows !== indices.length || o.cols !== s.cols) throw new ShapeError(`gatherRows: out must be ${indices.length}x${s.cols}`);
    indices.forEach((r, i) => {
      if (r >= s.rows) throw new ShapeError(`gatherRows: row ${r} is outside ${s.rows} rows`);
      o.data.set(s.data.subarray(r * s.cols, (r + 1) * s.cols), i * s.cols);
    });
  }

  matmul(a: Tensor, b: Tensor, out: Tensor, options: MatmulOptions = {}): void {
    const A = this.t(a, 'a');
    const B = this.t(b, 'b');
    const O = this.t(out, 'out');
    const { transposeA = false, transposeB = false, alpha = 1, beta = 0 } = options;
    const m = transposeA ? A.cols : A.rows;
    const k = transposeA ? A.rows : A.cols;
    const kb = transposeB ? B.cols : B.rows;
    const n = transposeB ? B.rows : B.cols;
    if (k !== kb) throw new ShapeError(`matmul: inner dimensions ${k} and ${kb} differ`);
    if (O.rows !== m || O.cols !== n) throw new ShapeError(`matmul: out must be ${m}x${n}, got ${O.rows}x${O.cols}`);
    const at = (i: number, p: number) => (transposeA ? A.data[p * A.cols + i]! : A.data[i * A.cols + p]!);
    const bt = (p: number, j: number) => (transposeB ? B.data[j * B.cols + p]! : B.data[p * B.cols + j]!);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += at(i, p) * bt(p, j);
        const prev = beta === 0 ? 0 : beta * O.data[i * n + j]!;
        O.data[i * n + j] = alpha * s + prev;
      }
    }
  }

  linear(x: Tensor, w: Tensor, bias: Tensor, out: Tensor, options: LinearOptions = {}): void {
    this.matmul(x, w, out, { transposeB: options.transposeW ?? false });
    this.addRowVector(out, bias, out);
    this.unary(options.activation ?? 'identity', out, out);
  }

  unary(op: UnaryOp, a: Tensor, out: Tensor): void {
    this.same(`unary ${op}`, a, out);
    const f = unaryReference[op];
    if (!f) throw new InvalidValueError(`unknown unary op ${op}`);
    const A = this.t(a, 'a').data;
    const O = this.t(out, 'out').data;
    for (let i = 0; i < A.length; i++) O[i] = f(A[i]!);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor): void {
    this.same(`binary ${op}`, a, b);
    this.same(`binary ${op}`, a, out);
    const f = binaryReference[op];
    if (!f) throw new InvalidValueError(`unknown binary op ${op}`);
    const A = this.t(a, 'a').data;
    const B = this.t(b, 'b').data;
    const O = this.t(out, 'out').data;
    for (let i = 0; i < A.length; i++) O[i] = f(A[i]!, B[i]!);
  }

  axpby(alpha: number, x: Tensor, beta: number, y: Tensor, out: Tensor): void {
    this.same('axpby', x, y);
    this.same('axpby', x, out);
    const X = this.t(x, 'x').data;
    const Y = this.t(y, 'y').data;
    const O = this.t(out, 'out').data;
    for (let i = 0; i < X.length; i++) O[i] = alpha * X[i]! + beta * Y[i]!;
  }

  affine(a: Tensor, scale: number, shift: number, out: Tensor): void {
    this.same('affine', a, out);
    const A = this.t(a, 'a').data;
    const O = this.t(out, 'out').data;
    for (let i = 0; i < A.length; i++) O[i] = scale * A[i]! + shift;
  }

  private broadcast(what: string, a: Tensor, v: Tensor, out: Tensor, alongRows: boolean, f: (x: number, y: number) => number): void {
    this.same(what, a, out);
    const want = alongRows ? [1, a.cols] : [a.rows, 1];
    if (v.rows !== want[0] || v.cols !== want[1]) throw new ShapeError(`${what}: vector must be ${want[0]}x${want[1]}, got ${v.rows}x${v.cols}`);
    const A = this.t(a, 'a').data;
    const V = this.t(v, 'vector').data;
    const O = this.t(out, 'out').data;
    for (let r = 0; r < a.rows; r++) for (let c = 0; c < a.cols; c++) O[r * a.cols + c] = f(A[r * a.cols + c]!, V[alongRows ? c : r]!);
  }

  addRowVector(a: Tensor, row: Tensor, out: Tensor): void {
    this.broadcast('addRowVector', a, row, out, true, (x, y) => x + y);
  }

  mulRowVector(a: Tensor, row: Tensor, out: Tensor): void {
    this.broadcast('mulRowVector', a, row, out, true, (x, y) => x * y);
  }

  mulColVector(a: Tensor, col: Tensor, out: Tensor): void {
    this.broadcast('mulColVector', a, col, out, false, (x, y) => x * y);
  }

  private groups(what: string, a: Tensor, groupSize: number): number {
    if (!Number.isInteger(groupSize) || groupSize <= 0 || a.cols % groupSize !== 0) {
      throw new ShapeError(`${what}: group size ${groupSize} does not divide ${a.cols} columns`);
    }
    return a.cols / groupSize;
  }

  softmaxGroups(a: Tensor, groupSize: number, out: Tensor): void {
    this.groups('softmaxGroups', a, groupSize);
    this.same('softmaxGroups', a, out);
    const A = this.t(a, 'a').data;
    const O = this.t(out, 'out').data;
    for (let start = 0; start < A.length; start += groupSize) {
      let max = -Infinity;
      for (let j = 0; j < groupSize; j++) max = Math.max(max, A[start + j]!);
      let s = 0;
      for (let j = 0; j < groupSize; j++) s += Math.exp(A[start + j]! - max);
      for (let j = 0; j < groupSize; j++) O[start + j] = Math.exp(A[start + j]! - max) / s;
    }
  }

  logSumExpGroups(a: Tensor, groupSize: number, out: Tensor): void {
    const g = this.groups('logSumExpGroups', a, groupSize);
    if (out.rows !== a.rows || out.cols !== g) throw new ShapeError(`logSumExpGroups: out must be ${a.rows}x${g}`);
    const A = this.t(a, 'a').data;
    const O = this.t(out, 'out').data;
    for (let gi = 0; gi < a.rows * g; gi++) {
      const start = gi * groupSize;
      let max = -Infinity;
      for (let j = 0; j < groupSize; j++) max = Math.max(max, A[start + j]!);
      let s = 0;
      for (let j = 0; j < groupSize; j++) s += Math.exp(A[start + j]! - max);
      O[gi] = max + Math.log(s);
    }
  }

  sumColumns(a: Tensor, out: Tensor, alpha = 1, beta = 0): void {
    if (out.rows !== 1 || out.cols !== a.cols) throw new ShapeError(`sumColumns: out must be 1x${a.cols}`);
    const A = this.t(a, 'a').data;
    const O = this.t(out, 'out').data;
    for (let c = 0; c < a.cols; c++) {
      let s = 0;
      for (let r = 0; r < a.rows; r++) s += A[r * a.cols + c]!;
      O[c] = alpha * s + (beta === 0 ? 0 : beta * O[c]!);
    }
  }

  sumRows(a: Tensor, out: Tensor): void {
    if (out.rows !== a.rows || out.cols !== 1) throw new ShapeError(`sumRows: out must be ${a.rows}x1`);
    const A = this.t(a, 'a').data;
    const O = this.t(out, 'out').data;
    for (let r = 0; r < a.rows; r++) {
      let s = 0;
      for (let c = 0; c < a.cols; c++) s += A[r * a.cols + c]!;
      O[r] = s;
    }
  }

  async reduce(op: ReduceOp, a: Tensor): Promise<number> {
    const A = this.t(a, 'a').data;
    let acc = op === 'max' ? -Infinity : op === 'min' ? Infinity : 0;
    for (let i = 0; i < A.length; i++) {
      const x = A[i]!;
      if (op === 'sum') acc += x;
      else if (op === 'sumSquares') acc += x * x;
      else if (op === 'sumAbs') acc += Math.abs(x);
      else if (op === 'max') acc = Number.isNaN(x) ? NaN : Math.max(acc, x);
      else acc = Number.isNaN(x) ? NaN : Math.min(acc, x);
    }
    return acc;
  }

  sampleBernoulli(p: Tensor | number, rng: RngState, out: Tensor): void {
    const O = this.t(out, 'out').data;
    const P = typeof p === 'number' ? undefined : this.t(p, 'p').data;
    if (typeof p !== 'number') this.same('sampleBernoulli', p, out);
    const key = nextKey(rng);
    for (let i = 0; i < O.length; i++) O[i] = uniformAt(key, i) < (P ? P[i]! : (p as number)) ? 1 : 0;
  }

  sampleGaussian(mean: Tensor, std: number | Tensor, rng: RngState, out: Tensor): void {
    this.same('sampleGaussian', mean, out);
    const M = this.t(mean, 'mean').data;
    const O = this.t(out, 'out').data;
    let S: Float64Array | undefined;
    if (typeof std !== 'number') {
      if (std.rows !== 1 || std.cols !== out.cols) throw new ShapeError(`sampleGaussian: std must be 1x${out.cols}`);
      S = this.t(std, 'std').data;
    }
    const key = nextKey(rng);
    for (let i = 0; i < O.length; i++) O[i] = M[i]! + (S ? S[i % out.cols]! : (std as number)) * normalAt(key, i);
  }

  sampleCategorical(p: Tensor, groupSize: number, rng: RngState, out: Tensor): void {
    this.groups('sampleCategorical', p, groupSize);
    this.same('sampleCategorical', p, out);
    const P = this.t(p, 'p').data;
    const O = this.t(out, 'out').data;
    const key = nextKey(rng);
    for (let gi = 0; gi * groupSize < P.length; gi++) {
      const start = gi * groupSize;
      const u = uniformAt(key, gi);
      let cum = 0;
      let chosen = groupSize - 1; // rounding can leave the sum just under u: the last unit takes it
      for (let j = 0; j < groupSize; j++) {
        cum += P[start + j]!;
        if (u < cum) {
          chosen = j;
          break;
        }
      }
      for (let j = 0; j < groupSize; j++) O[start + j] = j === chosen ? 1 : 0;
    }
  }

  uniform(rng: RngState, out: Tensor): void {
    const O = this.t(out, 'out').data;
    const key = nextKey(rng);
    for (let i = 0; i < O.length; i++) O[i] = uniformAt(key, i);
  }
}
