/**
 * A second float64 implementation of the Backend ops, written apart from ReferenceBackend so the
 * conformance suite can check the reference itself: nested arrays instead of flat typed arrays,
 * explicit transposes, other formulas where one exists (sigmoid through tanh, softplus as
 * max(x, 0) + log1p(e^-|x|), softmax as exp(x - logsumexp), log-sum-exp by pairwise log-add-exp)
 * and no code shared with reference-backend.ts. Only the random streams are the same by
 * definition: element i of a random op uses rng.ts `uniformAt(key, i)` / `normalAt(key, i)`.
 */
import {
  InvalidValueError,
  Matrix,
  ShapeError,
  nextKey,
  normalAt,
  uniformAt,
  type Backend,
  type BinaryOp,
  type LinearOptions,
  type MatmulOptions,
  type MemoryInfo,
  type ReduceOp,
  type RngState,
  type Tensor,
  type UnaryOp,
} from '@boltzmann/tensor';

type Grid = number[][];

class PlainTensor implements Tensor {
  disposed = false;
  constructor(
    public cells: Grid,
    readonly owner: string,
  ) {}
  get rows(): number {
    return this.cells.length;
  }
  get cols(): number {
    return this.cells[0]!.length;
  }
}

/** log(e^a + e^b) without overflow. */
const logAddExp = (a: number, b: number): number => (a === -Infinity ? b : Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b))));

const UNARY: Record<UnaryOp, (x: number) => number> = {
  identity: (x) => x,
  sigmoid: (x) => 0.5 * (1 + Math.tanh(x / 2)),
  softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  relu: (x) => Math.max(x, 0),
  exp: (x) => Math.E ** x,
  log: (x) => Math.log2(x) * Math.LN2,
  tanh: (x) => 1 - 2 / (Math.exp(2 * x) + 1),
  neg: (x) => 0 - x,
  square: (x) => x ** 2,
  sqrt: (x) => x ** 0.5,
  abs: (x) => (x < 0 ? -x : x),
  sign: (x) => Math.sign(x) + 0,
  reciprocal: (x) => x ** -1,
};

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a + -b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (a >= b ? a : b),
  min: (a, b) => (a <= b ? a : b),
};

const transpose = (g: Grid): Grid => g[0]!.map((_, c) => g.map((row) => row[c]!));
const sum = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0);
const groupsOf = (row: readonly number[], size: number): number[][] => Array.from({ length: row.length / size }, (_, g) => row.slice(g * size, (g + 1) * size));

export class PlainOracle implements Backend {
  readonly precision = 'float64' as const;
  private live = new Set<PlainTensor>();

  constructor(readonly name = 'plain-oracle') {}

  private grid(t: Tensor): Grid {
    if (!(t instanceof PlainTensor) || t.disposed) throw new InvalidValueError('not a live tensor of the plain oracle');
    return t.cells;
  }

  private set(out: Tensor, cells: Grid): void {
    const o = out as PlainTensor;
    if (cells.length !== o.rows || cells[0]!.length !== o.cols) throw new ShapeError(`out is ${o.rows}x${o.cols}, the result ${cells.length}x${cells[0]!.length}`);
    this.grid(out);
    o.cells = cells;
  }

  private make(cells: Grid): Tensor {
    const t = new PlainTensor(cells, this.name);
    this.live.add(t);
    return t;
  }

  zeros(rows: number, cols: number, value = 0): Tensor {
    if (!(rows >= 1 && cols >= 1)) throw new ShapeError(`rows and cols must be positive, got ${rows}x${cols}`);
    return this.make(Array.from({ length: rows }, () => new Array<number>(cols).fill(value)));
  }
  upload(m: Matrix): Tensor {
    return this.make(Array.from({ length: m.rows }, (_, r) => Array.from({ length: m.cols }, (_, c) => m.get(r, c))));
  }
  write(t: Tensor, m: Matrix): void {
    this.set(t, this.grid(this.upload(m)));
  }
  async read(t: Tensor): Promise<Matrix> {
    return this.readSync(t);
  }
  readSync(t: Tensor): Matrix {
    const g = this.grid(t);
    return new Matrix(g.length, g[0]!.length, Float64Array.from(g.flat()));
  }
  dispose(t: Tensor): void {
    this.grid(t);
    (t as PlainTensor).disposed = true;
    this.live.delete(t as PlainTensor);
  }
  destroy(): void {
    this.live.clear();
  }
  memory(): MemoryInfo {
    const tensors = [...this.live];
    return { numTensors: tensors.length, numBytes: 8 * sum(tensors.map((t) => t.rows * t.cols)) };
  }

  copy(src: Tensor, out: Tensor): void {
    this.set(out, this.grid(src).map((row) => [...row]));
  }
  fill(out: Tensor, value: number): void {
    this.set(out, this.grid(out).map((row) => row.map(() => value)));
  }
  gatherRows(src: Tensor, indices: Uint32Array, out: Tensor): void {
    const s = this.grid(src);
    this.set(out, Array.from(indices, (r) => [...s[r]!]));
  }

  matmul(a: Tensor, b: Tensor, out: Tensor, options: MatmulOptions = {}): void {
    const A = options.transposeA ? transpose(this.grid(a)) : this.grid(a);
    const B = options.transposeB ? transpose(this.grid(b)) : this.grid(b);
    const { alpha = 1, beta = 0 } = options;
    const old = this.grid(out);
    const Bt = transpose(B);
    // beta = 0 overwrites: whatever out held (NaN included) is not read
    this.set(out, A.map((row, i) => Bt.map((col, j) => alpha * sum(row.map((x, p) => x * col[p]!)) + (beta === 0 ? 0 : beta * old[i]![j]!))));
  }
  linear(x: Tensor, w: Tensor, bias: Tensor, out: Tensor, options: LinearOptions = {}): void {
    const X = this.grid(x);
    const W = options.transposeW ? this.grid(w) : transpose(this.grid(w)); // rows of W^T: one per output
    const b = this.grid(bias)[0]!;
    const f = UNARY[options.activation ?? 'identity'];
    this.set(out, X.map((row) => W.map((col, j) => f(sum(row.map((v, p) => v * col[p]!)) + b[j]!))));
  }

  unary(op: UnaryOp, a: Tensor, out: Tensor): void {
    this.set(out, this.grid(a).map((row) => row.map(UNARY[op])));
  }
  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor): void {
    const B = this.grid(b);
    this.set(out, this.grid(a).map((row, i) => row.map((x, j) => BINARY[op](x, B[i]![j]!))));
  }
  axpby(alpha: number, x: Tensor, beta: number, y: Tensor, out: Tensor): void {
    const Y = this.grid(y);
    this.set(out, this.grid(x).map((row, i) => row.map((v, j) => alpha * v + beta * Y[i]![j]!)));
  }
  affine(a: Tensor, scale: number, shift: number, out: Tensor): void {
    this.set(out, this.grid(a).map((row) => row.map((v) => scale * v + shift)));
  }
  addRowVector(a: Tensor, row: Tensor, out: Tensor): void {
    const v = this.grid(row)[0]!;
    this.set(out, this.grid(a).map((r) => r.map((x, j) => x + v[j]!)));
  }
  mulRowVector(a: Tensor, row: Tensor, out: Tensor): void {
    const v = this.grid(row)[0]!;
    this.set(out, this.grid(a).map((r) => r.map((x, j) => x * v[j]!)));
  }
  mulColVector(a: Tensor, col: Tensor, out: Tensor): void {
    const v = this.grid(col).map((r) => r[0]!);
    this.set(out, this.grid(a).map((r, i) => r.map((x) => x * v[i]!)));
  }
  softmaxGroups(a: Tensor, groupSize: number, out: Tensor): void {
    this.set(out, this.grid(a).map((row) => groupsOf(row, groupSize).flatMap((g) => g.map((x) => Math.exp(x - g.reduce(logAddExp, -Infinity))))));
  }
  logSumExpGroups(a: Tensor, groupSize: number, out: Tensor): void {
    this.set(out, this.grid(a).map((row) => groupsOf(row, groupSize).map((g) => g.reduce(logAddExp, -Infinity))));
  }

  sumColumns(a: Tensor, out: Tensor, alpha = 1, beta = 0): void {
    const old = this.grid(out)[0]!;
    this.set(out, [transpose(this.grid(a)).map((col, j) => alpha * sum(col) + (beta === 0 ? 0 : beta * old[j]!))]);
  }
  sumRows(a: Tensor, out: Tensor): void {
    this.set(out, this.grid(a).map((row) => [sum(row)]));
  }
  async reduce(op: ReduceOp, a: Tensor): Promise<number> {
    const xs = this.grid(a).flat();
    if (op === 'sum') return sum(xs);
    if (op === 'sumSquares') return sum(xs.map((x) => x * x));
    if (op === 'sumAbs') return sum(xs.map(Math.abs));
    if (xs.some(Number.isNaN)) return NaN;
    return op === 'max' ? Math.max(...xs) : Math.min(...xs);
  }

  /** Element (r, c) of the next random op's stream: index r * cols + c. */
  private stream(out: Tensor, rng: RngState, f: (key: number, index: number, r: number, c: number) => number): void {
    const key = nextKey(rng);
    const cols = (out as PlainTensor).cols;
    this.set(out, this.grid(out).map((row, r) => row.map((_, c) => f(key, r * cols + c, r, c))));
  }
  sampleBernoulli(p: Tensor | number, rng: RngState, out: Tensor): void {
    const P = typeof p === 'number' ? undefined : this.grid(p);
    this.stream(out, rng, (key, i, r, c) => (uniformAt(key, i) < (P ? P[r]![c]! : (p as number)) ? 1 : 0));
  }
  sampleGaussian(mean: Tensor, std: number | Tensor, rng: RngState, out: Tensor): void {
    const M = this.grid(mean);
    const S = typeof std === 'number' ? undefined : this.grid(std)[0]!;
    this.stream(out, rng, (key, i, r, c) => M[r]![c]! + (S ? S[c]! : (std as number)) * normalAt(key, i));
  }
  sampleCategorical(p: Tensor, groupSize: number, rng: RngState, out: Tensor): void {
    const key = nextKey(rng);
    const P = this.grid(p);
    const perRow = P[0]!.length / groupSize;
    this.set(
      out,
      P.map((row, r) =>
        groupsOf(row, groupSize).flatMap((g, gi) => {
          const u = uniformAt(key, r * perRow + gi);
          // the first unit whose cumulative probability passes u; the last one if rounding leaves u above them all
          let chosen = g.findIndex((_, j) => u < sum(g.slice(0, j + 1)));
          if (chosen < 0) chosen = groupSize - 1;
          return g.map((_, j) => (j === chosen ? 1 : 0));
        }),
      ),
    );
  }
  uniform(rng: RngState, out: Tensor): void {
    this.stream(out, rng, (key, i) => uniformAt(key, i));
  }
}
