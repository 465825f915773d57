/**
 * bfloat16: the upper 16 bits of a float32 (8 exponent bits, 7 stored mantissa bits). The
 * rounding here is the one the mixed-precision kernels apply to their operands (x86's
 * vcvtneps2bf16): round to nearest, ties to even; NaN stays NaN; subnormal float32 inputs
 * become a zero of the same sign. Mixed-precision results are checked against products of
 * operands rounded by this function.
 */

const word = new Float32Array(1);
const bits = new Uint32Array(word.buffer);

/** `x` (first rounded to float32) rounded to the nearest bfloat16, as a number. */
export function roundToBfloat16(x: number): number {
  word[0] = x;
  const u = bits[0]!;
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return NaN;
  if ((u & 0x7f800000) === 0) return (u & 0x80000000) !== 0 ? -0 : 0;
  // Adding 0x7fff plus the lowest kept bit and truncating rounds to nearest, ties to even.
  bits[0] = ((u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000) >>> 0;
  return word[0]!;
}

/** A copy of `data` with every element rounded by `roundToBfloat16`, in the same array type. */
export function roundArrayToBfloat16<T extends Float32Array | Float64Array>(data: T): T {
  const out = data.slice() as T;
  for (let i = 0; i < out.length; i++) out[i] = roundToBfloat16(out[i]!);
  return out;
}
