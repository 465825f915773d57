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

/** XOR of two integers in [0, 2^16), one bit per step, in float arithmetic. */
const XOR16 = `function xor16(a, b) {
  let r = 0;
  let p = 1;
  let x = a;
  let y = b;
  for (let i = 0; i < 16; i++) {
    const xh = Math.floor(x * 0.5);
    const yh = Math.floor(y * 0.5);
    const xb = x - xh * 2;
    const yb = y - yh * 2;
    r = r + p * (xb + yb - 2 * xb * yb);
    x = xh;
    y = yh;
    p = p * 2;
  }
  return r;
}`;

/**
 * Low 16 bits of l * c, where c's low half is c1 * 256 + c0 (bytes). Each partial product
 * stays below 2^24, and so does their sum (at most 16776705), so all of it is exact in f32.
 */
const MUL_LO = `function mulLo(l, c1, c0) {
  const b = l * c1;
  const bh = Math.floor(b * ${INV_2_8});
  const s = l * c0 + (b - bh * 256) * 256;
  return s - Math.floor(s * ${INV_2_16}) * 65536;
}`;

/**
 * High 16 bits of (h * 2^16 + l) * (ch * 2^16 + cl) mod 2^32, with cl = c1 * 256 + c0 and
 * ch = d1 * 256 + d0: the carry out of l * cl plus h * cl + l * ch, each taken mod 2^16.
 */
const MUL_HI = `function mulHi(h, l, c1, c0, d1, d0) {
  const b = l * c1;
  const bh = Math.floor(b * ${INV_2_8});
  const s = l * c0 + (b - bh * 256) * 256;
  const carry = Math.floor(s * ${INV_2_16});
  const hc0 = h * c0;
  const hc1 = h * c1;
  const t1 = hc0 - Math.floor(hc0 * ${INV_2_16}) * 65536 + (hc1 - Math.floor(hc1 * ${INV_2_8}) * 256) * 256;
  const ld0 = l * d0;
  const ld1 = l * d1;
  const t2 = ld0 - Math.floor(ld0 * ${INV_2_16}) * 65536 + (ld1 - Math.floor(ld1 * ${INV_2_8}) * 256) * 256;
  const t = carry + bh + t1 + t2;
  return t - Math.floor(t * ${INV_2_16}) * 65536;
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
  return `  l = xor16(l, h);
  const m1${tag} = mulLo(l, ${a1}, ${a0});
  h = mulHi(h, l, ${a1}, ${a0}, ${b1}, ${b0});
  l = m1${tag};
  const sh${tag} = Math.floor(h * ${INV_2_15});
  const sl${tag} = (h - sh${tag} * 32768) * 2 + Math.floor(l * ${INV_2_15});
  h = xor16(h, sh${tag});
  l = xor16(l, sl${tag});
  const m2${tag} = mulLo(l, ${c1}, ${c0});
  h = mulHi(h, l, ${c1}, ${c0}, ${d1}, ${d0});
  l = m2${tag};
  l = xor16(l, h);
`;
}

/**
 * `uniform16(ih, il, kh, kl)` = rng.ts `uniformAt(key, index)` with index = ih * 2^16 + il and
 * key = kh * 2^16 + kl: randomBits = mix32(mix32(index ^ key) + key), then its top 24 bits
 * scaled by 2^-24.
 */
const UNIFORM16 = `function uniform16(ih, il, kh, kl) {
  let h = xor16(ih, kh);
  let l = xor16(il, kl);
${mix32Statements('a')}  l = l + kl;
  const carry = Math.floor(l * ${INV_2_16});
  l = l - carry * 65536;
  h = h + kh + carry;
  h = h - Math.floor(h * ${INV_2_16}) * 65536;
${mix32Statements('b')}  return (h * 256 + Math.floor(l * ${INV_2_8})) * ${INV_2_24};
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
