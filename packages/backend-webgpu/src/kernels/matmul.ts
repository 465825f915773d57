/**
 * The tiled matrix product: out = alpha * op(A) * op(B) + beta * out, or, fused for `linear`,
 * out = activation(op(A) * op(B) + bias). A workgroup computes a bm x bn block of out: it stages a
 * bm x bk slice of op(A) and a bk x bn slice of op(B) in workgroup memory (loading them coalesced
 * whatever the transposes: consecutive threads read consecutive addresses of the stored operand),
 * then each thread accumulates a tm x tn register block. A thread's rows and columns are strided
 * (ty + i * TY, tx + j * TX), so neighbouring threads read neighbouring workgroup-memory words (no
 * bank conflicts) and write neighbouring outputs. The register block is written out unrolled,
 * one scalar accumulator per output, so no compiler has to decide whether an array fits in
 * registers. Edges are zero-filled on load and masked on store: any size works.
 *
 * The transposes and the epilogue (alpha/beta, or bias plus which activation) are uniform
 * parameters, not compile-time variants: the branches they cost sit outside the multiply-add
 * loop, and one pipeline per tile serves every product and every fused layer (shader compilation
 * is the slow part on software adapters and on first use in a page).
 *
 * Params: u0 = M, u1 = N, u2 = K, u3 = flags (bit 0: A transposed, bit 1: B transposed, bits 2+:
 * epilogue code, see `epilogueCode`); f0 = alpha, f1 = beta.
 * Bindings: 1 out (M x N), 2 A, 3 B, 4 bias (1 x N; any buffer when not linear).
 */
import type { UnaryOp } from '@boltzmann/tensor';
import { PARAMS_WGSL, memoize } from './kernel.js';
import { MATH_WGSL, UNARY_WGSL } from './wgsl-math.js';

const ACTIVATIONS = Object.keys(UNARY_WGSL) as UnaryOp[];

/** A work decomposition: block bm x bn per workgroup, depth bk per stage, tm x tn per thread. */
export interface MatmulTile {
  readonly bm: number;
  readonly bn: number;
  readonly bk: number;
  readonly tm: number;
  readonly tn: number;
}

/** Large products: 256 threads with 8 x 8 outputs each. */
export const LARGE_TILE: MatmulTile = { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 };
/** Everything else: 256 threads with 4 x 4 outputs each (better occupancy on small outputs). */
export const MEDIUM_TILE: MatmulTile = { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 };

/** The default tile for an m x n output. */
export function tileFor(m: number, n: number): MatmulTile {
  return m >= 1024 && n >= 1024 ? LARGE_TILE : MEDIUM_TILE;
}

/** Throws unless the tile makes a valid workgroup (at most 256 threads, 16 KiB of workgroup memory). */
export function checkTile(t: MatmulTile): void {
  const ok = [t.bm, t.bn, t.bk, t.tm, t.tn].every((v) => Number.isInteger(v) && v > 0) && t.bm % t.tm === 0 && t.bn % t.tn === 0;
  const threads = ok ? (t.bm / t.tm) * (t.bn / t.tn) : 0;
  if (!ok || threads > 256 || (t.bm + t.bn) * t.bk * 4 > 16384) {
    throw new RangeError(`matmul tile ${JSON.stringify(t)} is invalid: bm/tm and bn/tn must be integers, at most 256 threads and 16 KiB of workgroup memory`);
  }
}

/** What the product does with its result. */
export type MatmulEpilogue = { kind: 'matmul'; accumulate: boolean } | { kind: 'linear'; activation: UnaryOp };

/** The epilogue as the kernel's flag bits 2+: 0 out = alpha * AB, 1 also + beta * out, 2 + k linear with activation k. */
export function epilogueCode(e: MatmulEpilogue): number {
  if (e.kind === 'matmul') return e.accumulate ? 1 : 0;
  const k = ACTIVATIONS.indexOf(e.activation);
  if (k < 0) throw new RangeError(`unknown activation "${e.activation}"`);
  return 2 + k;
}

/** The flags parameter (u3) of a product. */
export function matmulFlags(transA: boolean, transB: boolean, epilogue: MatmulEpilogue): number {
  return (transA ? 1 : 0) | (transB ? 2 : 0) | (epilogueCode(epilogue) << 2);
}

export const matmulKernel = memoize(
  (tile: MatmulTile) => `mm:${tile.bm}x${tile.bn}x${tile.bk}/${tile.tm}x${tile.tn}`,
  (_key, tile) => {
    const { bm, bn, bk, tm, tn } = tile;
    const TX = bn / tn;
    const TY = bm / tm;
    const NT = TX * TY;
    const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
    const acc = (i: number, j: number): string => `c${i}_${j}`;
    const activations = ACTIVATIONS.map((op, k) => `case ${k}u: { return ${UNARY_WGSL[op]}; }`).join('\n    ');

    return `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> A: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
${MATH_WGSL}
fn activation(code: u32, x: f32) -> f32 {
  switch code {
    ${activations}
    default: { return x; }
  }
}
var<workgroup> As: array<f32, ${bm * bk}>;
var<workgroup> Bs: array<f32, ${bn * bk}>;

// element (m, k) of op(A) and (k, n) of op(B), zero outside
fn load_a(m: u32, k: u32) -> f32 {
  if (m >= P.u0 || k >= P.u2) { return 0.0; }
  if ((P.u3 & 1u) != 0u) { return A[k * P.u0 + m]; }
  return A[m * P.u2 + k];
}
fn load_b(k: u32, n: u32) -> f32 {
  if (n >= P.u1 || k >= P.u2) { return 0.0; }
  if ((P.u3 & 2u) != 0u) { return B[n * P.u2 + k]; }
  return B[k * P.u1 + n];
}
fn store(m: u32, n: u32, c: f32) {
  if (m >= P.u0 || n >= P.u1) { return; }
  let o = m * P.u1 + n;
  let code = P.u3 >> 2u;
  if (code == 0u) { out[o] = P.f0 * c; }
  else if (code == 1u) { out[o] = P.f0 * c + P.f1 * out[o]; }
  else { out[o] = activation(code - 2u, c + bias[n]); }
}

@compute @workgroup_size(${NT})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let K = P.u2;
  let row0 = wid.y * ${bm}u;
  let col0 = wid.x * ${bn}u;
  let tx = lid % ${TX}u;
  let ty = lid / ${TX}u;
  // staging order follows the stored layout, so consecutive threads read consecutive addresses
  let a_transposed = (P.u3 & 1u) != 0u;
  let b_transposed = (P.u3 & 2u) != 0u;
  ${range(tm)
    .flatMap((i) => range(tn).map((j) => `var ${acc(i, j)} = 0.0;`))
    .join(' ')}
  for (var k0 = 0u; k0 < K; k0 = k0 + ${bk}u) {
    for (var e = lid; e < ${bm * bk}u; e = e + ${NT}u) {
      var mm = e / ${bk}u; var kk = e % ${bk}u;
      if (a_transposed) { kk = e / ${bm}u; mm = e % ${bm}u; }
      As[kk * ${bm}u + mm] = load_a(row0 + mm, k0 + kk);
    }
    for (var e = lid; e < ${bn * bk}u; e = e + ${NT}u) {
      var kk = e / ${bn}u; var nn = e % ${bn}u;
      if (b_transposed) { nn = e / ${bk}u; kk = e % ${bk}u; }
      Bs[kk * ${bn}u + nn] = load_b(k0 + kk, col0 + nn);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${bk}u; kk = kk + 1u) {
      ${range(tm)
        .map((i) => `let a${i} = As[kk * ${bm}u + ty + ${i * TY}u];`)
        .join(' ')}
      ${range(tn)
        .map((j) => `let b${j} = Bs[kk * ${bn}u + tx + ${j * TX}u];`)
        .join(' ')}
      ${range(tm)
        .flatMap((i) => range(tn).map((j) => `${acc(i, j)} = fma(a${i}, b${j}, ${acc(i, j)});`))
        .join('\n      ')}
    }
    workgroupBarrier();
  }
  ${range(tm)
    .flatMap((i) => range(tn).map((j) => `store(row0 + ty + ${i * TY}u, col0 + tx + ${j * TX}u, ${acc(i, j)});`))
    .join('\n  ')}
}
`;
  },
);

/** Workgroups for an m x n output. */
export function matmulGroups(tile: MatmulTile, m: number, n: number): [number, number] {
  return [Math.ceil(n / tile.bn), Math.ceil(m / tile.bm)];
}
