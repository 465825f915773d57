/**
 * The random ops of the CPU backend, drawing exactly the streams ReferenceBackend defines
 * (see @boltzmann/tensor rng.ts): element i of an op with key `key` uses
 * `uniformAt(key, i)` / `normalAt(key, i)`. The hash is written out here in 32-bit integer
 * arithmetic (same bits as `randomBits`, no unsigned conversions in between) so the loops
 * stay in integer registers; the backend's tests check it against the reference stream.
 */
import type { FloatArray } from '@boltzmann/tensor';

/** 2^-24: turns 24 random bits into a uniform in [0, 1). */
const UNIT = 5.9604644775390625e-8;

/** The top 24 of `randomBits(key, index)`, as an integer in [0, 2^24). */
function bits24(key: number, index: number): number {
  let x = index ^ key;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  x = (x + key) | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 8;
}

/** `normalAt(key, index)`: Box-Muller on the uniforms at 2 * index (open at 0) and 2 * index + 1. */
function normal(key: number, index: number): number {
  const u1 = (bits24(key, 2 * index) + 1) * UNIT;
  const u2 = bits24(key, 2 * index + 1) * UNIT;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** out[i] = uniformAt(key, i). */
export function fillUniform(key: number, out: FloatArray): void {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = bits24(key, i) * UNIT;
}

/**
 * out[i] = 1 where uniformAt(key, i) < p[i] else 0; `p` may be `out`. Written `+(u < p)`, not
 * `u < p ? 1 : 0`: V8 turns the former into a flag move, the latter into a branch that a
 * random draw mispredicts half the time (measured 3.5x slower).
 */
export function bernoulliTensor(key: number, p: FloatArray, out: FloatArray): void {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = +(bits24(key, i) * UNIT < p[i]);
}

/** out[i] = 1 where uniformAt(key, i) < p else 0 (branch-free as above). */
export function bernoulliScalar(key: number, p: number, out: FloatArray): void {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = +(bits24(key, i) * UNIT < p);
}

/** out[i] = mean[i] + std * normalAt(key, i); std is a number or a row (std[i % cols]). */
export function gaussian(key: number, mean: FloatArray, std: number | FloatArray, cols: number, out: FloatArray): void {
  const n = out.length;
  if (typeof std === 'number') {
    for (let i = 0; i < n; i++) out[i] = mean[i] + std * normal(key, i);
    return;
  }
  for (let o = 0; o < n; o += cols) for (let j = 0; j < cols; j++) out[o + j] = mean[o + j] + std[j] * normal(key, o + j);
}

/**
 * One-hot draw per group of `groupSize` consecutive elements: group g takes the first unit
 * whose running sum of p exceeds uniformAt(key, g), or its last unit when rounding leaves the
 * total just under the draw. `p` may be `out` (each group is read whole before it is written).
 */
export function categorical(key: number, p: FloatArray, groupSize: number, out: FloatArray): void {
  const n = out.length;
  for (let start = 0, g = 0; start < n; start += groupSize, g++) {
    const u = bits24(key, g) * UNIT;
    let cum = 0;
    let chosen = groupSize - 1;
    for (let j = 0; j < groupSize; j++) {
      cum += p[start + j];
      if (u < cum) {
        chosen = j;
        break;
      }
    }
    for (let j = 0; j < groupSize; j++) out[start + j] = j === chosen ? 1 : 0;
  }
}
