/**
 * Reductions with workgroup-memory trees: column sums (a workgroup of 32 columns x 8 row lanes),
 * row sums (a workgroup per row) and whole-tensor partials (a workgroup per chunk, finished on
 * the host in float64). Partials carry a NaN flag computed on the bit pattern, so NaN propagates
 * even where a compiler assumes no NaNs in float max/min.
 */
import type { ReduceOp } from '@boltzmann/tensor';
import { PARAMS_WGSL, WORKGROUP, memoize } from './kernel.js';

const TREE_WGSL = (name: string, size: number, combine: (a: string, b: string) => string): string => `
  for (var width = ${size / 2}u; width > 0u; width = width >> 1u) {
    if (lane < width) { ${name}[slot] = ${combine(`${name}[slot]`, `${name}[slot + width * STRIDE]`)}; }
    workgroupBarrier();
  }`;

/**
 * out (1 x cols) = alpha * column sums of a (rows x cols) + beta * out.
 * Params: u0 = rows, u1 = cols; f0 = alpha, f1 = beta. Bindings: 1 out, 2 a. Groups: ceil(cols / 32).
 */
export const sumColumnsKernel = memoize(
  (accumulate: boolean) => `sumcols:${accumulate}`,
  (_key, accumulate) => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
const STRIDE = 32u;
var<workgroup> partial: array<f32, 256>;
@compute @workgroup_size(32, 8)
fn main(@builtin(local_invocation_id) lidv: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let rows = P.u0;
  let cols = P.u1;
  let col = wid.x * 32u + lidv.x;
  let lane = lidv.y;
  let slot = lane * STRIDE + lidv.x;
  var s = 0.0;
  if (col < cols) {
    for (var r = lane; r < rows; r = r + 8u) { s = s + a[r * cols + col]; }
  }
  partial[slot] = s;
  workgroupBarrier();
  ${TREE_WGSL('partial', 8, (x, y) => `${x} + ${y}`)}
  if (lane == 0u && col < cols) {
    ${accumulate ? 'out[col] = P.f0 * partial[slot] + P.f1 * out[col];' : 'out[col] = P.f0 * partial[slot];'}
  }
}
`,
);

/**
 * out (rows x 1) = row sums of a. Params: u0 = rows, u1 = cols, u3 = workgroups per grid row.
 * Bindings: 1 out, 2 a. One workgroup per row.
 */
export const sumRowsKernel = memoize(
  () => 'sumrows',
  () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
const STRIDE = 1u;
var<workgroup> partial: array<f32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let row = wid.x + wid.y * P.u3;
  let cols = P.u1;
  let slot = lane;
  var s = 0.0;
  if (row < P.u0) {
    for (var c = lane; c < cols; c = c + ${WORKGROUP}u) { s = s + a[row * cols + c]; }
  }
  partial[slot] = s;
  workgroupBarrier();
  ${TREE_WGSL('partial', WORKGROUP, (x, y) => `${x} + ${y}`)}
  if (lane == 0u && row < P.u0) { out[row] = partial[0]; }
}
`,
);

/** Workgroups of the whole-tensor reduction at most (each thread strides over the rest). */
export const REDUCE_GROUPS = 256;

const REDUCE_INPUT: Record<ReduceOp, string> = {
  sum: 'x',
  sumSquares: 'x * x',
  sumAbs: 'abs(x)',
  max: 'x',
  min: 'x',
};

const REDUCE_COMBINE: Record<ReduceOp, (a: string, b: string) => string> = {
  sum: (a, b) => `${a} + ${b}`,
  sumSquares: (a, b) => `${a} + ${b}`,
  sumAbs: (a, b) => `${a} + ${b}`,
  max: (a, b) => `max(${a}, ${b})`,
  min: (a, b) => `min(${a}, ${b})`,
};

/**
 * Per-workgroup partials of a whole-tensor reduction: out[2g] = the partial of workgroup g,
 * out[2g + 1] = 1 if it saw a NaN. Params: u0 = elements, u1 = threads in the grid; f0 = the
 * op's identity (0, or -/+infinity for max/min: WGSL has no infinite constants).
 * Bindings: 1 out (2 x groups), 2 a.
 */
export const reducePartialsKernel = memoize(
  (op: ReduceOp) => `reduce:${op}`,
  (_key, op) => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
const STRIDE = 1u;
var<workgroup> partial: array<f32, ${WORKGROUP}>;
var<workgroup> flags: array<u32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let slot = lane;
  var acc = P.f0;
  var seen = 0u;
  for (var i = wid.x * ${WORKGROUP}u + lane; i < P.u0; i = i + P.u1) {
    let x = a[i];
    if ((bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u) { seen = 1u; }
    acc = ${REDUCE_COMBINE[op]('acc', REDUCE_INPUT[op])};
  }
  partial[slot] = acc;
  flags[slot] = seen;
  workgroupBarrier();
  ${TREE_WGSL('partial', WORKGROUP, REDUCE_COMBINE[op])}
  ${TREE_WGSL('flags', WORKGROUP, (x, y) => `max(${x}, ${y})`)}
  if (lane == 0u) {
    out[2u * wid.x] = partial[0];
    out[2u * wid.x + 1u] = f32(flags[0]);
  }
}
`,
);
