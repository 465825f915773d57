/**
 * WGSL helper functions shared by the kernels: the unit activations and element-wise functions
 * (as expressions of `x`), and the project's counter-based RNG (rng.ts) spelled in WGSL. WGSL has
 * true 32-bit unsigned integers with wrapping multiplication, so the hash is bit-exact with
 * `Math.imul` on the host: every random op draws exactly the reference backend's stream.
 */
import type { BinaryOp, UnaryOp } from '@boltzmann/tensor';

/**
 * Each unary op as a WGSL expression of the f32 `x`. sigmoid, softplus and tanh are written so
 * they neither overflow nor depend on the accuracy of the built-in tanh (which some compilers
 * derive from sinh/cosh and return NaN for large |x|).
 */
export const UNARY_WGSL: Record<UnaryOp, string> = {
  identity: 'x',
  sigmoid: '(1.0 / (1.0 + exp(-x)))',
  softplus: '(max(x, 0.0) + log(1.0 + exp(-abs(x))))',
  relu: 'select(0.0, x, x > 0.0)',
  exp: 'exp(x)',
  log: 'log(x)',
  tanh: 'tanh_stable(x)',
  neg: '(-x)',
  square: '(x * x)',
  sqrt: 'sqrt(x)',
  abs: 'abs(x)',
  sign: 'sign(x)',
  reciprocal: '(1.0 / x)',
};

/** Each binary op as a WGSL expression of the f32 `a` and `b`. */
export const BINARY_WGSL: Record<BinaryOp, string> = {
  add: '(a + b)',
  sub: '(a - b)',
  mul: '(a * b)',
  div: '(a / b)',
  max: 'max(a, b)',
  min: 'min(a, b)',
};

/** Functions the unary expressions may call. */
export const MATH_WGSL = /* wgsl */ `
fn tanh_stable(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
`;

/**
 * rng.ts in WGSL: mix32 (lowbias32), randomBits, uniformAt (24 bits, exact in f32), and a
 * standard normal by Box-Muller whose log and cosine are accurate to about 1e-7 (the built-ins
 * only promise 2^-11 absolute for cos and 2^-21 absolute for log near 1, which a Gaussian's tails
 * amplify): the angle 2*pi*u is reduced exactly to an octant, and log(u) near 1 goes through an
 * atanh series.
 */
export const RNG_WGSL = /* wgsl */ `
fn mix32(x0: u32) -> u32 {
  var x = x0;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}

fn random_bits(key: u32, index: u32) -> u32 {
  return mix32(mix32(index ^ key) + key);
}

fn uniform_at(key: u32, index: u32) -> f32 {
  return f32(random_bits(key, index) >> 8u) * 5.9604644775390625e-8;
}

fn uniform_open_at(key: u32, index: u32) -> f32 {
  return f32((random_bits(key, index) >> 8u) + 1u) * 5.9604644775390625e-8;
}

// sin and cos of x in [0, pi/4] by Taylor series (truncation error below 1e-9)
fn sin_small(x: f32) -> f32 {
  let x2 = x * x;
  return x * (1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362880.0 - x2 / 39916800.0)))));
}

fn cos_small(x: f32) -> f32 {
  let x2 = x * x;
  return 1.0 + x2 * (-0.5 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40320.0 - x2 / 3628800.0))));
}

// cos(pi/2 * f) for f in [0, 1]
fn cos_quarter(f: f32) -> f32 {
  let half_pi = 1.5707963267948966;
  if (f <= 0.5) { return cos_small(half_pi * f); }
  return sin_small(half_pi * (1.0 - f));
}

// cos(2 pi u) for u in [0, 1): u * 4 is exact, so the quadrant and the fraction are too
fn cos_two_pi(u: f32) -> f32 {
  let t = u * 4.0;
  let q = floor(t);
  let f = t - q;
  if (q == 0.0) { return cos_quarter(f); }
  if (q == 1.0) { return -cos_quarter(1.0 - f); }
  if (q == 2.0) { return -cos_quarter(f); }
  return cos_quarter(1.0 - f);
}

// log(u) for u in (0, 1]; near 1 as 2 atanh(d / (2 + d)) with d = u - 1 exact (Sterbenz)
fn log_unit(u: f32) -> f32 {
  if (u < 0.5) { return log(u); }
  let d = u - 1.0;
  let z = d / (2.0 + d);
  let z2 = z * z;
  return 2.0 * z * (1.0 + z2 * (1.0 / 3.0 + z2 * (1.0 / 5.0 + z2 * (1.0 / 7.0 + z2 * (1.0 / 9.0 + z2 * (1.0 / 11.0 + z2 * (1.0 / 13.0 + z2 * (1.0 / 15.0 + z2 / 17.0))))))));
}

fn normal_at(key: u32, index: u32) -> f32 {
  let u1 = uniform_open_at(key, 2u * index);
  let u2 = uniform_at(key, 2u * index + 1u);
  return sqrt(-2.0 * log_unit(u1)) * cos_two_pi(u2);
}
`;
