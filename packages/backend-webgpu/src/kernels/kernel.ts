/**
 * What every WGSL kernel of this backend shares: a compiled-once source with a short cache key,
 * and one uniform block layout (four u32 and four f32 fields, 32 bytes) whose meaning each kernel
 * documents. One layout for all keeps the per-dispatch parameter upload a fixed-size copy.
 */

/** A WGSL compute shader with entry point `main`, bind group 0, binding 0 = `P: Params`. */
export interface Kernel {
  /** Identifies the source among all kernels (pipelines are cached by it). */
  readonly key: string;
  readonly code: string;
}

/** The uniform block every kernel declares as `P`. */
export const PARAMS_WGSL = /* wgsl */ `
struct Params { u0: u32, u1: u32, u2: u32, u3: u32, f0: f32, f1: f32, f2: f32, f3: f32 }
@group(0) @binding(0) var<uniform> P: Params;
`;

/** Bytes of one Params block. */
export const PARAMS_BYTES = 32;

/** Threads per workgroup of the one-dimensional kernels. */
export const WORKGROUP = 256;

/** Builds each kernel once per key. */
export function memoize<A extends unknown[]>(keyOf: (...args: A) => string, build: (key: string, ...args: A) => string): (...args: A) => Kernel {
  const cache = new Map<string, Kernel>();
  return (...args: A): Kernel => {
    const key = keyOf(...args);
    let k = cache.get(key);
    if (!k) {
      k = { key, code: build(key, ...args) };
      cache.set(key, k);
    }
    return k;
  };
}

/** The element index of a 1-D kernel dispatched as a 2-D grid of WORKGROUP-thread groups (P.u3 = threads per grid row). */
export const FLAT_INDEX_WGSL = 'let i = gid.x + gid.y * P.u3;';
