/**
 * The plain-TypeScript matrix product: the one that works everywhere, and the baseline the
 * native and WebAssembly kernels are measured against.
 *
 * Shape of the algorithm (Goto / BLIS): op(B) is copied ("packed") panel by panel into
 * strips NR columns wide, op(A) block by block into strips MR rows tall, both as float64
 * and laid out in the order the micro-kernel reads them, so its inner loop walks two
 * contiguous arrays whatever the transposes were. The micro-kernel keeps an MR x NR tile of
 * C in local variables (registers) across the whole depth of a panel. Packing into float64
 * also keeps the micro-kernel monomorphic (V8 compiles it once for one array type).
 *
 * Products with one or two rows or columns skip packing (it would cost as much as the
 * product) and use dot / axpy loops instead.
 */
import { InvalidValueError, ShapeError, type FloatArray } from '@boltzmann/tensor';
import type { Gemm, GemmArgs } from './gemm.js';
import { refuseSigmoidEpilogue } from './gemm-check.js';

/** Rows of the micro-kernel's tile of C (4 x 4 measured best among 2..8 x 2..8 under V8). */
const MR = 4;
/** Columns of the micro-kernel's tile of C. */
const NR = 4;
/** Most depth per packed panel: one A strip and one B strip (2 x 4 x 512 doubles = 32 KiB) stay in L1. */
const KC = 512;
/** Most rows per packed A block: 128 x 512 doubles = 512 KiB stay in L2. */
const MC = 128;
/** Most columns per packed B panel (bounds the packing buffer at 8 MiB). */
const NC = 2048;
/** At most this many rows (or columns) of C: the unpacked dot / axpy path. */
const THIN = 2;

function checkDimension(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new ShapeError(`gemm: ${what} must be a non-negative integer, got ${v}`);
}

/** Splits `total` into the fewest blocks of at most `most`, of near-equal size. */
function blockSize(total: number, most: number): number {
  return Math.ceil(total / Math.ceil(total / most));
}

/**
 * Accumulates one MR x NR tile: C[tile] = alpha * (packed A strip) * (packed B strip) + beta * C[tile].
 * `rows` / `cols` (<= MR / NR) say how much of the tile lies inside C; the packed strips are
 * zero-padded, so the loop always computes the full tile.
 */
function microKernel(
  kc: number,
  pa: Float64Array,
  ai: number,
  pb: Float64Array,
  bi: number,
  c: FloatArray,
  ci: number,
  ldc: number,
  alpha: number,
  beta: number,
  rows: number,
  cols: number,
  tile: Float64Array,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = pa[ai], a1 = pa[ai + 1], a2 = pa[ai + 2], a3 = pa[ai + 3];
    const b0 = pb[bi], b1 = pb[bi + 1], b2 = pb[bi + 2], b3 = pb[bi + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    ai += MR;
    bi += NR;
  }
  if (rows === MR && cols === NR) {
    const r0 = ci, r1 = ci + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
    if (beta === 0) {
      // beta = 0 overwrites: whatever C held (NaN included) must not leak through.
      c[r0] = alpha * c00; c[r0 + 1] = alpha * c01; c[r0 + 2] = alpha * c02; c[r0 + 3] = alpha * c03;
      c[r1] = alpha * c10; c[r1 + 1] = alpha * c11; c[r1 + 2] = alpha * c12; c[r1 + 3] = alpha * c13;
      c[r2] = alpha * c20; c[r2 + 1] = alpha * c21; c[r2 + 2] = alpha * c22; c[r2 + 3] = alpha * c23;
      c[r3] = alpha * c30; c[r3 + 1] = alpha * c31; c[r3 + 2] = alpha * c32; c[r3 + 3] = alpha * c33;
    } else {
      c[r0] = alpha * c00 + beta * c[r0]; c[r0 + 1] = alpha * c01 + beta * c[r0 + 1];
      c[r0 + 2] = alpha * c02 + beta * c[r0 + 2]; c[r0 + 3] = alpha * c03 + beta * c[r0 + 3];
      c[r1] = alpha * c10 + beta * c[r1]; c[r1 + 1] = alpha * c11 + beta * c[r1 + 1];
      c[r1 + 2] = alpha * c12 + beta * c[r1 + 2]; c[r1 + 3] = alpha * c13 + beta * c[r1 + 3];
      c[r2] = alpha * c20 + beta * c[r2]; c[r2 + 1] = alpha * c21 + beta * c[r2 + 1];
      c[r2 + 2] = alpha * c22 + beta * c[r2 + 2]; c[r2 + 3] = alpha * c23 + beta * c[r2 + 3];
      c[r3] = alpha * c30 + beta * c[r3]; c[r3 + 1] = alpha * c31 + beta * c[r3 + 1];
      c[r3 + 2] = alpha * c32 + beta * c[r3 + 2]; c[r3 + 3] = alpha * c33 + beta * c[r3 + 3];
    }
    return;
  }
  // An edge tile: park the accumulators and write back only the part inside C.
  tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03;
  tile[4] = c10; tile[5] = c11; tile[6] = c12; tile[7] = c13;
  tile[8] = c20; tile[9] = c21; tile[10] = c22; tile[11] = c23;
  tile[12] = c30; tile[13] = c31; tile[14] = c32; tile[15] = c33;
  for (let i = 0; i < rows; i++) {
    const row = ci + i * ldc;
    for (let j = 0; j < cols; j++) {
      c[row + j] = beta === 0 ? alpha * tile[i * NR + j] : alpha * tile[i * NR + j] + beta * c[row + j];
    }
  }
}

/**
 * Cache-blocked, register-blocked GEMM in TypeScript for float32 and float64 arrays.
 * Holds its packing buffers, so reuse one instance (per backend) rather than making one per call.
 */
export class TsGemm implements Gemm {
  readonly name = 'ts-blocked';
  private packedA = new Float64Array(0);
  private packedB = new Float64Array(0);
  /** One row / column of an operand plus one of C, for the thin path. */
  private line = new Float64Array(0);
  private readonly tile = new Float64Array(MR * NR);

  /** Handles both float32 and float64 arrays. */
  supports(array: FloatArray): boolean {
    return array instanceof Float32Array || array instanceof Float64Array;
  }

  /** C (m x n) = alpha * op(A) * op(B) + beta * C, all row-major; beta = 0 overwrites C. */
  run(args: GemmArgs): void {
    refuseSigmoidEpilogue(this.name, args);
    const { m, n, k, a, transposeA, b, transposeB, c, alpha, beta } = args;
    checkDimension('m', m);
    checkDimension('n', n);
    checkDimension('k', k);
    if (a.length < m * k) throw new ShapeError(`gemm: A holds ${a.length} elements, op(A) ${m}x${k} needs ${m * k}`);
    if (b.length < k * n) throw new ShapeError(`gemm: B holds ${b.length} elements, op(B) ${k}x${n} needs ${k * n}`);
    if (c.length < m * n) throw new ShapeError(`gemm: C holds ${c.length} elements, ${m}x${n} needs ${m * n}`);
    if (!Number.isFinite(alpha) || !Number.isFinite(beta)) throw new InvalidValueError(`gemm: alpha and beta must be finite, got ${alpha} and ${beta}`);
    if (m === 0 || n === 0) return;
    if (k === 0) {
      for (let i = 0; i < m * n; i++) c[i] = beta === 0 ? 0 : beta * c[i];
    } else if (m <= THIN) {
      this.fewRows(m, n, k, a, transposeA, b, transposeB, c, alpha, beta);
    } else if (n <= THIN) {
      this.fewColumns(m, n, k, a, transposeA, b, transposeB, c, alpha, beta);
    } else {
      this.blocked(m, n, k, a, transposeA, b, transposeB, c, alpha, beta);
    }
  }

  private blocked(m: number, n: number, k: number, a: FloatArray, ta: boolean, b: FloatArray, tb: boolean, c: FloatArray, alpha: number, beta: number): void {
    const kcMost = blockSize(k, KC);
    const mcMost = blockSize(m, MC);
    const tile = this.tile;
    for (let jc = 0; jc < n; jc += NC) {
      const nc = Math.min(NC, n - jc);
      const nStrips = Math.ceil(nc / NR);
      for (let pc = 0; pc < k; pc += kcMost) {
        const kc = Math.min(kcMost, k - pc);
        const pb = this.packB(b, tb, k, n, pc, kc, jc, nc);
        // Later depth panels add onto what the first one wrote.
        const betaHere = pc === 0 ? beta : 1;
        for (let ic = 0; ic < m; ic += mcMost) {
          const mc = Math.min(mcMost, m - ic);
          const mStrips = Math.ceil(mc / MR);
          const pa = this.packA(a, ta, m, k, ic, mc, pc, kc);
          for (let js = 0; js < nStrips; js++) {
            const cols = Math.min(NR, nc - js * NR);
            const bi = js * kc * NR;
            const cCol = jc + js * NR;
            for (let is = 0; is < mStrips; is++) {
              const rows = Math.min(MR, mc - is * MR);
              microKernel(kc, pa, is * kc * MR, pb, bi, c, (ic + is * MR) * n + cCol, n, alpha, betaHere, rows, cols, tile);
            }
          }
        }
      }
    }
  }

  /** Copies op(A)[ic..ic+mc, pc..pc+kc] into MR-row strips, element (i, p) of a strip at p * MR + i. */
  private packA(a: FloatArray, ta: boolean, m: number, k: number, ic: number, mc: number, pc: number, kc: number): Float64Array {
    const strips = Math.ceil(mc / MR);
    if (this.packedA.length < strips * kc * MR) this.packedA = new Float64Array(strips * kc * MR);
    const pa = this.packedA;
    for (let s = 0; s < strips; s++) {
      const i0 = ic + s * MR;
      const h = Math.min(MR, ic + mc - i0);
      const base = s * kc * MR;
      if (!ta) {
        // A is m x k: a row of op(A) is contiguous.
        for (let i = 0; i < h; i++) {
          let src = (i0 + i) * k + pc;
          let dst = base + i;
          for (let p = 0; p < kc; p++) {
            pa[dst] = a[src++];
            dst += MR;
          }
        }
      } else {
        // A is k x m: the MR elements of op(A) at one depth are contiguous.
        for (let p = 0; p < kc; p++) {
          const src = (pc + p) * m + i0;
          const dst = base + p * MR;
          for (let i = 0; i < h; i++) pa[dst + i] = a[src + i];
        }
      }
      // Padding lanes only feed accumulators that are never written back; zero them anyway so
      // stale values (subnormals are slow) never enter the arithmetic.
      if (h < MR) for (let p = 0; p < kc; p++) for (let i = h; i < MR; i++) pa[base + p * MR + i] = 0;
    }
    return pa;
  }

  /** Copies op(B)[pc..pc+kc, jc..jc+nc] into NR-column strips, element (p, j) of a strip at p * NR + j. */
  private packB(b: FloatArray, tb: boolean, k: number, n: number, pc: number, kc: number, jc: number, nc: number): Float64Array {
    const strips = Math.ceil(nc / NR);
    if (this.packedB.length < strips * kc * NR) this.packedB = new Float64Array(strips * kc * NR);
    const pb = this.packedB;
    for (let s = 0; s < strips; s++) {
      const j0 = jc + s * NR;
      const w = Math.min(NR, jc + nc - j0);
      const base = s * kc * NR;
      if (!tb) {
        // B is k x n: the NR elements of op(B) at one depth are contiguous.
        for (let p = 0; p < kc; p++) {
          const src = (pc + p) * n + j0;
          const dst = base + p * NR;
          for (let j = 0; j < w; j++) pb[dst + j] = b[src + j];
        }
      } else {
        // B is n x k: a column of op(B) is contiguous.
        for (let j = 0; j < w; j++) {
          let src = (j0 + j) * k + pc;
          let dst = base + j;
          for (let p = 0; p < kc; p++) {
            pb[dst] = b[src++];
            dst += NR;
          }
        }
      }
      // As in packA: zero the padding lanes.
      if (w < NR) for (let p = 0; p < kc; p++) for (let j = w; j < NR; j++) pb[base + p * NR + j] = 0;
    }
    return pb;
  }

  private lineOf(size: number): Float64Array {
    if (this.line.length < size) this.line = new Float64Array(size);
    return this.line;
  }

  /** m <= THIN: each row of C is a row of op(A) times op(B). */
  private fewRows(m: number, n: number, k: number, a: FloatArray, ta: boolean, b: FloatArray, tb: boolean, c: FloatArray, alpha: number, beta: number): void {
    const line = this.lineOf(k + n); // [0, k): the row of op(A); [k, k + n): the row of C being summed
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < k; p++) line[p] = ta ? a[p * m + i] : a[i * k + p];
      // B is k x n: a combination of its rows; B is n x k: dot products with its rows.
      if (!tb) combineRows(line, k, b, n, line, k, n);
      else dotRows(line, k, b, k, line, k, n);
      const out = i * n;
      for (let j = 0; j < n; j++) c[out + j] = beta === 0 ? alpha * line[k + j] : alpha * line[k + j] + beta * c[out + j];
    }
  }

  /** n <= THIN: each column of C is op(A) times a column of op(B). */
  private fewColumns(m: number, n: number, k: number, a: FloatArray, ta: boolean, b: FloatArray, tb: boolean, c: FloatArray, alpha: number, beta: number): void {
    const line = this.lineOf(k + m); // [0, k): the column of op(B); [k, k + m): the column of C being summed
    for (let j = 0; j < n; j++) {
      for (let p = 0; p < k; p++) line[p] = tb ? b[j * k + p] : b[p * n + j];
      // A is m x k: dot products with its rows; A is k x m: a combination of its rows.
      if (!ta) dotRows(line, k, a, k, line, k, m);
      else combineRows(line, k, a, m, line, k, m);
      for (let i = 0; i < m; i++) {
        const at = i * n + j;
        c[at] = beta === 0 ? alpha * line[k + i] : alpha * line[k + i] + beta * c[at];
      }
    }
  }
}

/**
 * out[at + j] = sum_p x[p] * mat[p * stride + j] for j < len: rows of `mat` weighted by x.
 * Four rows per sweep, so the running sums are loaded and stored a quarter as often.
 */
function combineRows(x: Float64Array, count: number, mat: FloatArray, stride: number, out: Float64Array, at: number, len: number): void {
  out.fill(0, at, at + len);
  let p = 0;
  for (; p + 3 < count; p += 4) {
    const x0 = x[p], x1 = x[p + 1], x2 = x[p + 2], x3 = x[p + 3];
    const r0 = p * stride, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
    for (let j = 0; j < len; j++) out[at + j] += x0 * mat[r0 + j] + x1 * mat[r1 + j] + x2 * mat[r2 + j] + x3 * mat[r3 + j];
  }
  for (; p < count; p++) {
    const xp = x[p];
    const row = p * stride;
    for (let j = 0; j < len; j++) out[at + j] += xp * mat[row + j];
  }
}

/**
 * out[at + j] = sum_p x[p] * mat[j * stride + p] for j < len: x dotted with rows of `mat`.
 * Four rows per sweep, so each x[p] is loaded once for four products.
 */
function dotRows(x: Float64Array, count: number, mat: FloatArray, stride: number, out: Float64Array, at: number, len: number): void {
  let j = 0;
  for (; j + 3 < len; j += 4) {
    const r0 = j * stride, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let p = 0; p < count; p++) {
      const xp = x[p];
      s0 += xp * mat[r0 + p];
      s1 += xp * mat[r1 + p];
      s2 += xp * mat[r2 + p];
      s3 += xp * mat[r3 + p];
    }
    out[at + j] = s0;
    out[at + j + 1] = s1;
    out[at + j + 2] = s2;
    out[at + j + 3] = s3;
  }
  for (; j < len; j++) {
    const row = j * stride;
    let s = 0;
    for (let p = 0; p < count; p++) s += x[p] * mat[row + p];
    out[at + j] = s;
  }
}
