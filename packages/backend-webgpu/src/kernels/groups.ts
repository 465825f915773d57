/**
 * Kernels over groups of consecutive columns (softmax units, categorical sampling): one thread
 * per group, which reads its whole group before it writes, so the output may be the input
 * (`aliased`: read through the output binding).
 *
 * Params: u0 = groups in the tensor, u1 = group size, u2 = random key, u3 = threads per grid row.
 * Bindings: 1 out, 2 a (unless aliased).
 */
import { FLAT_INDEX_WGSL, PARAMS_WGSL, WORKGROUP, memoize } from './kernel.js';
import { RNG_WGSL } from './wgsl-math.js';

/** What the kernel computes for each group. */
export type GroupOp = 'softmax' | 'logSumExp' | 'categorical';

const BODY: Record<GroupOp, string> = {
  // out has one value per group
  logSumExp: `
  var m = src(start);
  for (var j = 1u; j < size; j = j + 1u) { m = max(m, src(start + j)); }
  var s = 0.0;
  for (var j = 0u; j < size; j = j + 1u) { s = s + exp(src(start + j) - m); }
  out[i] = m + log(s);`,
  softmax: `
  var m = src(start);
  for (var j = 1u; j < size; j = j + 1u) { m = max(m, src(start + j)); }
  var s = 0.0;
  for (var j = 0u; j < size; j = j + 1u) { s = s + exp(src(start + j) - m); }
  for (var j = 0u; j < size; j = j + 1u) { out[start + j] = exp(src(start + j) - m) / s; }`,
  // the reference's rule: the first unit whose running sum exceeds u; rounding leaves the last one
  categorical: `
  let u = uniform_at(P.u2, i);
  var chosen = size - 1u;
  var cum = 0.0;
  var found = false;
  for (var j = 0u; j < size; j = j + 1u) {
    cum = cum + src(start + j);
    if (!found && u < cum) { chosen = j; found = true; }
  }
  for (var j = 0u; j < size; j = j + 1u) { out[start + j] = select(0.0, 1.0, j == chosen); }`,
};

export const groupKernel = memoize(
  (op: GroupOp, aliased: boolean) => `group:${op}:${aliased}`,
  (_key, op, aliased) => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${aliased ? '' : '@group(0) @binding(2) var<storage, read> a: array<f32>;'}
${RNG_WGSL}
fn src(k: u32) -> f32 { return ${aliased ? 'out' : 'a'}[k]; }
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX_WGSL}
  if (i >= P.u0) { return; }
  let size = P.u1;
  let start = i * size;
  ${BODY[op]}
}
`,
);

/**
 * out[r, c] = src[indices[r], c]. Params: u0 = elements of out, u1 = columns, u3 = threads per
 * grid row. Bindings: 1 out, 2 src, 3 indices (u32).
 */
export const gatherRowsKernel = memoize(
  () => 'gather',
  () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read> indices: array<u32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX_WGSL}
  if (i >= P.u0) { return; }
  let r = i / P.u1;
  let c = i - r * P.u1;
  out[i] = src[indices[r] * P.u1 + c];
}
`,
);
