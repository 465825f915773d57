/**
 * The source text of every gpu.js kernel the backend runs, one builder per op.
 *
 * Conventions shared by all of them, chosen so one source translates correctly to JavaScript
 * (cpu), WebAssembly (webasm), GLSL (headlessgl) and WGSL (webgpu):
 * - A rows x cols tensor is a kernel output of size [cols, rows]: `this.thread.x` is the column,
 *   `this.thread.y` the row, and tensor arguments are read as `t[row][col]`, so every address
 *   is computed by gpu.js in integer arithmetic (no float index math on large tensors).
 * - Sizes are baked in as constants, so a kernel is built once per (op, shape); values that
 *   change between calls (alpha, beta, fill values, RNG keys) are scalar arguments.
 * - No division where an exact integer result is needed (WGSL division is not correctly
 *   rounded); group indices use a multiply-by-reciprocal with an exact integer correction.
 * - Only plain arithmetic, comparisons, ternaries, constant-bound loops and Math functions every
 *   translator supports.
 */
import type { BinaryOp, ReduceOp, UnaryOp } from '@boltzmann/tensor';
import { EMULATED_RANDOM_FUNCTIONS, UNIFORM_OPEN_OFFSET, indexHalves, type RandomStrategy } from './random-kernels.js';

/** A kernel to compile: its source and everything baked into it. */
export interface KernelSpec {
  /** Cache key: op, variant and every size baked into the kernel. */
  readonly key: string;
  readonly source: string;
  /** Output shape; the gpu.js output size is [cols, rows]. */
  readonly rows: number;
  readonly cols: number;
  readonly constants?: Readonly<Record<string, number>>;
  /** Longest loop in the kernel (gpu.js needs an upper bound for GLSL). */
  readonly loopMax?: number;
  /** Helper functions the kernel calls. */
  readonly functions?: readonly string[];
}

const X = 'this.thread.x';
const Y = 'this.thread.y';

/** f(v) for each unary op, as a kernel expression of the variable `v`. */
const unaryExpressions: Record<UnaryOp, string> = {
  identity: 'v',
  sigmoid: '1 / (1 + Math.exp(-v))',
  // log(1 + e^-|v|) never overflows; log1p is not in every translator and its absolute gain here is below 1e-7
  softplus: 'Math.max(v, 0) + Math.log(1 + Math.exp(-Math.abs(v)))',
  relu: 'v > 0 ? v : 0',
  exp: 'Math.exp(v)',
  log: 'Math.log(v)',
  // from e^-2|v| so it cannot overflow (some WGSL tanh builtins return NaN for large |v|)
  tanh: 'Math.sign(v) * (1 - Math.exp(-2 * Math.abs(v))) / (1 + Math.exp(-2 * Math.abs(v)))',
  neg: '-v',
  square: 'v * v',
  sqrt: 'Math.sqrt(v)',
  abs: 'Math.abs(v)',
  sign: 'Math.sign(v)',
  reciprocal: '1 / v',
};

/** The kernel expression of a unary op applied to `v`, or an error for an unknown op. */
export function unaryExpression(op: UnaryOp): string {
  const e = unaryExpressions[op];
  if (e === undefined) throw new Error(`unknown unary op "${String(op)}"`);
  return e;
}

const binaryExpressions: Record<BinaryOp, string> = {
  add: 'u + v',
  sub: 'u - v',
  mul: 'u * v',
  div: 'u / v',
  max: 'Math.max(u, v)',
  min: 'Math.min(u, v)',
};

/** Whether `op` is a unary op this backend knows. */
export function isUnaryOp(op: string): op is UnaryOp {
  return Object.prototype.hasOwnProperty.call(unaryExpressions, op);
}

/** Whether `op` is a binary op this backend knows. */
export function isBinaryOp(op: string): op is BinaryOp {
  return Object.prototype.hasOwnProperty.call(binaryExpressions, op);
}

/** Statements declaring `g` = floor(`x` / size) exactly, for x < 2^24. */
function groupIndex(x: string, size: number): string {
  return `  let g = Math.floor(${x} * ${1 / size});
  if (g * ${size} > ${x}) {
    g = g - 1;
  }
  if ((g + 1) * ${size} <= ${x}) {
    g = g + 1;
  }
`;
}

function shapeKey(...dims: number[]): string {
  return dims.join('x');
}

/** out = v (a scalar argument). */
export function fillKernel(rows: number, cols: number): KernelSpec {
  return { key: `fill|${shapeKey(rows, cols)}`, rows, cols, source: 'function(v) {\n  return v;\n}' };
}

/** out = src (a tensor, or host data for uploads). */
export function copyKernel(rows: number, cols: number): KernelSpec {
  return { key: `copy|${shapeKey(rows, cols)}`, rows, cols, source: `function(s) {\n  return s[${Y}][${X}];\n}` };
}

/** out[i, :] = src[idx[i], :]; the n row indices arrive as a 1 x n host row. */
export function gatherRowsKernel(n: number, srcRows: number, cols: number): KernelSpec {
  return {
    key: `gather|${shapeKey(n, srcRows, cols)}`,
    rows: n,
    cols,
    source: `function(s, idx) {\n  return s[idx[0][${Y}]][${X}];\n}`,
  };
}

/** Index expressions of op(A)[row, p] and op(B)[p, col]. */
function operand(name: string, transposed: boolean, row: string, col: string): string {
  return transposed ? `${name}[${col}][${row}]` : `${name}[${row}][${col}]`;
}

/**
 * out = alpha * op(a) * op(b) (+ beta * c when `accumulate`); out is m x n, inner size k.
 * The sum runs in the reference's order (p = 0..k-1) in f32.
 */
export function matmulKernel(m: number, k: number, n: number, transposeA: boolean, transposeB: boolean, accumulate: boolean): KernelSpec {
  const args = accumulate ? 'a, b, alpha, c, beta' : 'a, b, alpha';
  const tail = accumulate ? ` + beta * c[${Y}][${X}]` : '';
  return {
    key: `matmul|ta=${+transposeA},tb=${+transposeB},acc=${+accumulate}|${shapeKey(m, k, n)}`,
    rows: m,
    cols: n,
    constants: { k },
    loopMax: k,
    source: `function(${args}) {
  let s = 0;
  for (let p = 0; p < this.constants.k; p++) {
    s += ${operand('a', transposeA, Y, 'p')} * ${operand('b', transposeB, 'p', X)};
  }
  return alpha * s${tail};
}`,
  };
}

/** out = act(x * op(w) + bias) in one kernel; out is m x n, inner size k. */
export function linearKernel(m: number, k: number, n: number, transposeW: boolean, activation: UnaryOp): KernelSpec {
  return {
    key: `linear|tw=${+transposeW},act=${activation}|${shapeKey(m, k, n)}`,
    rows: m,
    cols: n,
    constants: { k },
    loopMax: k,
    source: `function(x, w, bias) {
  let s = 0;
  for (let p = 0; p < this.constants.k; p++) {
    s += x[${Y}][p] * ${operand('w', transposeW, 'p', X)};
  }
  const v = s + bias[0][${X}];
  return ${unaryExpression(activation)};
}`,
  };
}

/** out = f(a). */
export function unaryKernel(op: UnaryOp, rows: number, cols: number): KernelSpec {
  return {
    key: `unary|${op}|${shapeKey(rows, cols)}`,
    rows,
    cols,
    source: `function(a) {\n  const v = a[${Y}][${X}];\n  return ${unaryExpression(op)};\n}`,
  };
}

/** out = f(a, b). */
export function binaryKernel(op: BinaryOp, rows: number, cols: number): KernelSpec {
  const e = binaryExpressions[op];
  if (e === undefined) throw new Error(`unknown binary op "${String(op)}"`);
  return {
    key: `binary|${op}|${shapeKey(rows, cols)}`,
    rows,
    cols,
    source: `function(a, b) {\n  const u = a[${Y}][${X}];\n  const v = b[${Y}][${X}];\n  return ${e};\n}`,
  };
}

/** out = alpha * x + beta * y. */
export function axpbyKernel(rows: number, cols: number): KernelSpec {
  return {
    key: `axpby|${shapeKey(rows, cols)}`,
    rows,
    cols,
    source: `function(alpha, x, beta, y) {\n  return alpha * x[${Y}][${X}] + beta * y[${Y}][${X}];\n}`,
  };
}

/** out = scale * a + shift. */
export function affineKernel(rows: number, cols: number): KernelSpec {
  return {
    key: `affine|${shapeKey(rows, cols)}`,
    rows,
    cols,
    source: `function(a, scale, shift) {\n  return scale * a[${Y}][${X}] + shift;\n}`,
  };
}

/** out = a (+ or *) a 1 x cols row broadcast down the rows, or (*) a rows x 1 column across. */
export function broadcastKernel(kind: 'addRow' | 'mulRow' | 'mulCol', rows: number, cols: number): KernelSpec {
  const vector = kind === 'mulCol' ? `v[${Y}][0]` : `v[0][${X}]`;
  const op = kind === 'addRow' ? '+' : '*';
  return {
    key: `broadcast|${kind}|${shapeKey(rows, cols)}`,
    rows,
    cols,
    source: `function(a, v) {\n  return a[${Y}][${X}] ${op} ${vector};\n}`,
  };
}

/** out[r, g] = log sum_{j in group g} exp(a[r, j]), max-shifted; out is rows x (cols / size). */
export function logSumExpKernel(rows: number, cols: number, size: number): KernelSpec {
  return {
    key: `logsumexp|${shapeKey(rows, cols, size)}`,
    rows,
    cols: cols / size,
    constants: { size },
    loopMax: size,
    source: `function(a) {
  const start = ${X} * this.constants.size;
  let m = a[${Y}][start];
  for (let j = 1; j < this.constants.size; j++) {
    m = Math.max(m, a[${Y}][start + j]);
  }
  let s = 0;
  for (let j = 0; j < this.constants.size; j++) {
    s += Math.exp(a[${Y}][start + j] - m);
  }
  return m + Math.log(s);
}`,
  };
}

/** out = exp(a - lse[group]) given the groups' log-sum-exp `lse` (rows x cols/size). */
export function softmaxKernel(rows: number, cols: number, size: number): KernelSpec {
  return {
    key: `softmax|${shapeKey(rows, cols, size)}`,
    rows,
    cols,
    source: `function(a, lse) {
${groupIndex(X, size)}  return Math.exp(a[${Y}][${X}] - lse[${Y}][g]);
}`,
  };
}

/** out (1 x cols) = alpha * column sums of a (+ beta * previous out when `accumulate`). */
export function sumColumnsKernel(rows: number, cols: number, accumulate: boolean): KernelSpec {
  const args = accumulate ? 'a, alpha, o, beta' : 'a, alpha';
  const tail = accumulate ? ` + beta * o[0][${X}]` : '';
  return {
    key: `sumcols|acc=${+accumulate}|${shapeKey(rows, cols)}`,
    rows: 1,
    cols,
    constants: { rows },
    loopMax: rows,
    source: `function(${args}) {
  let s = 0;
  for (let r = 0; r < this.constants.rows; r++) {
    s += a[r][${X}];
  }
  return alpha * s${tail};
}`,
  };
}

/** Per-row partial of a reduction: out (rows x 1) = the op over each row. */
export function rowReduceKernel(op: ReduceOp | 'sumRows', rows: number, cols: number): KernelSpec {
  const init = op === 'max' || op === 'min' ? `a[${Y}][0]` : '0';
  const start = op === 'max' || op === 'min' ? 1 : 0;
  const step: Record<ReduceOp | 'sumRows', string> = {
    sumRows: 's = s + v;',
    sum: 's = s + v;',
    sumSquares: 's = s + v * v;',
    sumAbs: 's = s + Math.abs(v);',
    max: 's = Math.max(s, v);',
    min: 's = Math.min(s, v);',
  };
  if (step[op] === undefined) throw new Error(`unknown reduction "${String(op)}"`);
  return {
    key: `rowreduce|${op}|${shapeKey(rows, cols)}`,
    rows,
    cols: 1,
    constants: { cols },
    loopMax: cols,
    source: `function(a) {
  let s = ${init};
  for (let c = ${start}; c < this.constants.cols; c++) {
    const v = a[${Y}][c];
    ${step[op]}
  }
  return s;
}`,
  };
}

/** How a random kernel gets its uniforms: the key halves (emulated) or a host array `uh`. */
function randomSetup(strategy: RandomStrategy): { args: string; functions?: readonly string[] } {
  return strategy === 'emulated' ? { args: 'kh, kl', functions: EMULATED_RANDOM_FUNCTIONS } : { args: 'uh' };
}

/** Statements declaring `u`, the uniform of element (row y, col x) of a rows x cols op. */
function elementUniform(strategy: RandomStrategy, cols: number): string {
  if (strategy === 'host') return `  const u = uh[${Y}][${X}];\n`;
  return `${indexHalves('i', `${Y} * ${cols} + ${X}`)}  const u = uniform16(ih, il, kh, kl);\n`;
}

/** out = u (uniforms in [0, 1)). */
export function uniformKernel(rows: number, cols: number, strategy: RandomStrategy): KernelSpec {
  const { args, functions } = randomSetup(strategy);
  return {
    key: `uniform|${strategy}|${shapeKey(rows, cols)}`,
    rows,
    cols,
    functions,
    loopMax: 16,
    source: `function(${args}) {\n${elementUniform(strategy, cols)}  return u;\n}`,
  };
}

/** out = 1 where u < p else 0, with p a tensor or one probability. */
export function bernoulliKernel(rows: number, cols: number, pIsTensor: boolean, strategy: RandomStrategy): KernelSpec {
  const { args, functions } = randomSetup(strategy);
  const p = pIsTensor ? `p[${Y}][${X}]` : 'p';
  return {
    key: `bernoulli|${strategy},ptensor=${+pIsTensor}|${shapeKey(rows, cols)}`,
    rows,
    cols,
    functions,
    loopMax: 16,
    source: `function(p, ${args}) {\n${elementUniform(strategy, cols)}  return u < ${p} ? 1 : 0;\n}`,
  };
}

/**
 * out = mean + std * N(0, 1), N by Box-Muller on the uniforms at indices 2i (made open,
 * (0, 1]) and 2i + 1 of element i, exactly as rng.ts `normalAt`. std is a scalar or a 1 x cols row.
 * cos(2 pi u) is taken as -cos(2 pi (u - 0.5)): u - 0.5 is exact in f32, and the argument stays in
 * [-pi, pi], the only range where WGSL bounds cos's error.
 * The host route uploads 2 * rows * cols uniforms laid out as rows x (2 * cols).
 */
export function gaussianKernel(rows: number, cols: number, stdIsRow: boolean, strategy: RandomStrategy): KernelSpec {
  const { args, functions } = randomSetup(strategy);
  const std = stdIsRow ? `s[0][${X}]` : 's';
  const draws =
    strategy === 'host'
      ? `  const u1 = uh[${Y}][2 * ${X}] + ${UNIFORM_OPEN_OFFSET};\n  const u2 = uh[${Y}][2 * ${X} + 1];\n`
      : `${indexHalves('i', `${Y} * ${cols} + ${X}`)}  const jc = Math.floor(il * 2 * 0.0000152587890625);
  const jl = il * 2 - jc * 65536;
  const jh = ih * 2 + jc;
  const u1 = uniform16(jh, jl, kh, kl) + ${UNIFORM_OPEN_OFFSET};
  const u2 = uniform16(jh, jl + 1, kh, kl);
`;
  return {
    key: `gaussian|${strategy},stdrow=${+stdIsRow}|${shapeKey(rows, cols)}`,
    rows,
    cols,
    functions,
    loopMax: 16,
    source: `function(mean, s, ${args}) {
${draws}  return mean[${Y}][${X}] - ${std} * Math.sqrt(-2 * Math.log(u1)) * Math.cos(6.283185307179586 * (u2 - 0.5));
}`,
  };
}

/**
 * Categorical step 1: out (rows x groups) = the chosen index within each group: the first j
 * with u < p[0] + ... + p[j] (the last one when rounding leaves the sum under u), where u is
 * uniform number r * groups + g, as in the reference.
 */
export function categoricalChoiceKernel(rows: number, cols: number, size: number, strategy: RandomStrategy): KernelSpec {
  const { args, functions } = randomSetup(strategy);
  const groups = cols / size;
  return {
    key: `catchoice|${strategy}|${shapeKey(rows, cols, size)}`,
    rows,
    cols: groups,
    functions,
    constants: { size },
    loopMax: Math.max(size, 16),
    source: `function(p, ${args}) {
${elementUniform(strategy, groups)}  const start = ${X} * this.constants.size;
  let chosen = this.constants.size - 1;
  let found = 0;
  let cum = 0;
  for (let j = 0; j < this.constants.size; j++) {
    cum += p[${Y}][start + j];
    if (found == 0 && u < cum) {
      chosen = j;
      found = 1;
    }
  }
  return chosen;
}`,
  };
}

/** Categorical step 2: out (rows x cols) = one-hot of the chosen index of each group. */
export function categoricalExpandKernel(rows: number, cols: number, size: number): KernelSpec {
  return {
    key: `catexpand|${shapeKey(rows, cols, size)}`,
    rows,
    cols,
    source: `function(choice) {
${groupIndex(X, size)}  return ${X} - g * ${size} == choice[${Y}][g] ? 1 : 0;
}`,
  };
}
