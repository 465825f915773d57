/**
 * The counter-based RNG of @boltzmann/tensor (rng.ts) inside gpu.js kernels.
 *
 * `randomBits(key, i)` is a 32-bit integer hash (lowbias32 applied twice). gpu.js cannot be
 * trusted with 32-bit integer arithmetic in every mode: GLSL ES 1.0 (headlessgl) has no integer
 * bit operations, the webasm translator routes `Math.imul` through f32, and the cpu translator
 * multiplies in doubles. So two exact routes exist, chosen per backend (`RandomStrategy`):
 *
 * - `emulated`: the hash in float arithmetic on 16-bit halves. Every intermediate is an integer
 *   below 2^24, so f32 holds it exactly; multiplications by powers of two and `floor` are exact
 *   in IEEE f32 and in every shading language, and no division is used (WGSL's is inexact).
 *   XOR is a 16-step bit loop, a 32x32-bit multiply is split into byte-sized partial products.
 *   Bit-identical to rng.ts for element indices below 2^24.
 * - `host`: the uniforms `uniformAt(key, i)` are computed on the host by rng.ts itself and
 *   uploaded as a kernel argument. Exact by construction, any size; costs one host loop and one
 *   upload per random op.
 */
import { uniformAt } from '@boltzmann/tensor';

/** How a backend draws the uniforms of its random ops (see the module comment). */
export type RandomStrategy = 'emulated' | 'host';

/** Element indices of an emulated random op must stay below this (f32 holds integers exactly up to 2^24). */
export const EMULATED_INDEX_LIMIT = 2 ** 24;

/** 2^-16, 2^-15, 2^-8 and 2^-24 as exact decimal literals for kernel sources. */
const INV_2_16 = '0.0000152587890625';
const INV_2_15 = '0.000030517578125';
const INV_2_8 = '0.00390625';
const INV_2_24 = '5.9604644775390625e-8';

/** The two multipliers of lowbias32 (rng.ts `mix32`). */
const MIX_MULTIPLIERS = [0x7feb352d, 0x846ca68b] as const;

// Helper locals carry a q prefix: gpu.js names them like the kernel's array arguments (user_<name>),
// and WGSL array arguments are module-scope variables a helper local must not shadow.

/** XOR of two integers in [0, 2^16), one bit per step, in float arithmetic. */
const XOR16 = `function xor16(qa, qb) {
  let qr = 0;
  let qp = 1;
  let qx = qa;
  let qy = qb;
  for (let qi = 0; qi < 16; qi++) {
    const qxh = Math.floor(qx * 0.5);
    const qyh = Math.floor(qy * 0.5);
    const qxb = qx - qxh * 2;
    const qyb = qy - qyh * 2;
    qr = qr + qp * (qxb + qyb - 2 * qxb * qyb);
    qx = qxh;
    qy = qyh;
    qp = qp * 2;
  }
  return qr;
}`;

/**
 * Low 16 bits of l * c, where c's low half is c1 * 256 + c0 (bytes). Each partial product
 * stays below 2^24, and so does their sum (at most 16776705), so all of it is exact in f32.
 */
const MUL_LO = `function mulLo(ql, qc1, qc0) {
  const qb = ql * qc1;
  const qbh = Math.floor(qb * ${INV_2_8});
  const qs = ql * qc0 + (qb - qbh * 256) * 256;
  return qs - Math.floor(qs * ${INV_2_16}) * 65536;
}`;

/**
 * High 16 bits of (h * 2^16 + l) * (ch * 2^16 + cl) mod 2^32, with cl = c1 * 256 + c0 and
 * ch = d1 * 256 + d0: the carry out of l * cl plus h * cl + l * ch, each taken mod 2^16.
 */
const MUL_HI = `function mulHi(qh, ql, qc1, qc0, qd1, qd0) {
  const qb = ql * qc1;
  const qbh = Math.floor(qb * ${INV_2_8});
  const qs = ql * qc0 + (qb - qbh * 256) * 256;
  const qcarry = Math.floor(qs * ${INV_2_16});
  const qhc0 = qh * qc0;
  const qhc1 = qh * qc1;
  const qt1 = qhc0 - Math.floor(qhc0 * ${INV_2_16}) * 65536 + (qhc1 - Math.floor(qhc1 * ${INV_2_8}) * 256) * 256;
  const qld0 = ql * qd0;
  const qld1 = ql * qd1;
  const qt2 = qld0 - Math.floor(qld0 * ${INV_2_16}) * 65536 + (qld1 - Math.floor(qld1 * ${INV_2_8}) * 256) * 256;
  const qt = qcarry + qbh + qt1 + qt2;
  return qt - Math.floor(qt * ${INV_2_16}) * 65536;
}`;

/** Byte split of a 32-bit multiplier as mulLo/mulHi want it: [c1, c0, d1, d0]. */
function multiplierBytes(c: number): [number, number, number, number] {
  const lo = c & 0xffff;
  const hi = c >>> 16;
  return [lo >>> 8, lo & 0xff, hi >>> 8, hi & 0xff];
}

/** Statements applying mix32 to the halves (h, l); `tag` keeps its local names unique. */
function mix32Statements(tag: string): string {
  const [a1, a0, b1, b0] = multiplierBytes(MIX_MULTIPLIERS[0]);
  const [c1, c0, d1, d0] = multiplierBytes(MIX_MULTIPLIERS[1]);
  return `  ql = xor16(ql, qh);
  const m1${tag} = mulLo(ql, ${a1}, ${a0});
  qh = mulHi(qh, ql, ${a1}, ${a0}, ${b1}, ${b0});
  ql = m1${tag};
  const sh${tag} = Math.floor(qh * ${INV_2_15});
  const sl${tag} = (qh - sh${tag} * 32768) * 2 + Math.floor(ql * ${INV_2_15});
  qh = xor16(qh, sh${tag});
  ql = xor16(ql, sl${tag});
  const m2${tag} = mulLo(ql, ${c1}, ${c0});
  qh = mulHi(qh, ql, ${c1}, ${c0}, ${d1}, ${d0});
  ql = m2${tag};
  ql = xor16(ql, qh);
`;
}

/**
 * `uniform16(ih, il, kh, kl)` = rng.ts `uniformAt(key, index)` with index = ih * 2^16 + il and
 * key = kh * 2^16 + kl: randomBits = mix32(mix32(index ^ key) + key), then its top 24 bits
 * scaled by 2^-24.
 */
const UNIFORM16 = `function uniform16(qih, qil, qkh, qkl) {
  let qh = xor16(qih, qkh);
  let ql = xor16(qil, qkl);
${mix32Statements('a')}  ql = ql + qkl;
  const qcarry = Math.floor(ql * ${INV_2_16});
  ql = ql - qcarry * 65536;
  qh = qh + qkh + qcarry;
  qh = qh - Math.floor(qh * ${INV_2_16}) * 65536;
${mix32Statements('b')}  return (qh * 256 + Math.floor(ql * ${INV_2_8})) * ${INV_2_24};
}`;

/** Helper functions an emulated random kernel passes to gpu.js (`functions` setting). */
export const EMULATED_RANDOM_FUNCTIONS: readonly string[] = [XOR16, MUL_LO, MUL_HI, UNIFORM16];

/** The key as two 16-bit halves [hi, lo], each exact as a float kernel argument. */
export function splitKey(key: number): [number, number] {
  return [key >>> 16, key & 0xffff];
}

/**
 * Kernel statements declaring `${name}h` and `${name}l`, the 16-bit halves of the element index
 * `indexExpr` (an exact float below 2^24).
 */
export function indexHalves(name: string, indexExpr: string): string {
  return `  const ${name}h = Math.floor((${indexExpr}) * ${INV_2_16});
  const ${name}l = (${indexExpr}) - ${name}h * 65536;
`;
}

/** 2^-24 as a kernel literal: uniformOpenAt(key, i) = uniformAt(key, i) + 2^-24 exactly. */
export const UNIFORM_OPEN_OFFSET = INV_2_24;

/** Host route: `count` uniforms uniformAt(key, 0..count-1), exact in float32. */
export function hostUniforms(key: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = uniformAt(key, i);
  return out;
}
