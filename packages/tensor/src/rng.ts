/**
 * Counter-based random numbers: every random value is a pure function of
 * (seed, stream, counter, element index). Nothing hidden, so a run is reproducible,
 * a checkpoint holds the whole RNG state in three numbers, and a GPU kernel can
 * compute element i's value on its own thread.
 *
 * One random op (e.g. sampling a batch of hidden units) takes one key from the state and
 * advances `counter` by one; element i of that op uses `randomBits(key, i)`.
 */

/** The serializable state of one random stream. */
export interface RngState {
  /** User seed (any 32-bit unsigned integer). */
  seed: number;
  /** Independent stream id, so two samplers with the same seed do not draw the same numbers. */
  stream: number;
  /** How many random ops this stream has served; integer below 2^53. */
  counter: number;
}

/** A 32-bit integer hash with full avalanche (lowbias32 by C. Wellons). */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d);
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b);
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

/** The key of one op: a hash of seed, stream and the 53-bit counter. */
export function opKey(seed: number, stream: number, counter: number): number {
  const lo = counter >>> 0;
  const hi = Math.floor(counter / 4294967296) >>> 0;
  let k = mix32((seed ^ 0x9e3779b9) >>> 0);
  k = mix32((k ^ stream) >>> 0);
  k = mix32((k + hi) >>> 0);
  return mix32((k ^ lo) >>> 0);
}

/** 32 random bits for element `index` (< 2^32) of the op with `key`. */
export function randomBits(key: number, index: number): number {
  return mix32((mix32((index ^ key) >>> 0) + key) >>> 0);
}

/** Uniform in [0, 1): 24 bits, so it is exact in float32 too. */
export function uniformAt(key: number, index: number): number {
  return (randomBits(key, index) >>> 8) * 5.9604644775390625e-8;
}

/** Uniform in (0, 1]: for logs (Box-Muller). */
export function uniformOpenAt(key: number, index: number): number {
  return ((randomBits(key, index) >>> 8) + 1) * 5.9604644775390625e-8;
}

/**
 * Standard normal for element `index`: Box-Muller on two uniforms drawn at
 * indices 2*index and 2*index+1 of the same key (so element i never shares draws with i+1).
 */
export function normalAt(key: number, index: number): number {
  const u1 = uniformOpenAt(key, 2 * index);
  const u2 = uniformAt(key, 2 * index + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Validates a state and returns a copy. */
export function rngState(seed: number, stream = 0, counter = 0): RngState {
  for (const [name, v, max] of [['seed', seed, 0xffffffff], ['stream', stream, 0xffffffff], ['counter', counter, Number.MAX_SAFE_INTEGER]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`RNG ${name} must be an integer in [0, ${max}], got ${v}`);
  }
  return { seed, stream, counter };
}

/** Takes the key for the next op and advances the state. */
export function nextKey(state: RngState): number {
  const key = opKey(state.seed, state.stream, state.counter);
  state.counter += 1;
  return key;
}

/**
 * A host-side random source over the same counter scheme, for shuffling, initialisation
 * and anything else that runs on the CPU. Each call to a method is one op.
 */
export class CounterRng {
  readonly state: RngState;

  constructor(seed: number, stream = 0, counter = 0) {
    this.state = rngState(seed, stream, counter);
  }

  static fromState(state: RngState): CounterRng {
    return new CounterRng(state.seed, state.stream, state.counter);
  }

  /** A snapshot for checkpoints. */
  snapshot(): RngState {
    return { ...this.state };
  }

  /** A child stream, independent of this one and of other children with other ids. */
  fork(stream: number): CounterRng {
    return new CounterRng(mix32((this.state.seed ^ mix32(this.state.stream + 1)) >>> 0), stream >>> 0, 0);
  }

  /** Fills `out` with uniforms in [0, 1). */
  uniforms(out: Float32Array | Float64Array): typeof out {
    const key = nextKey(this.state);
    for (let i = 0; i < out.length; i++) out[i] = uniformAt(key, i);
    return out;
  }

  /** Fills `out` with normals of the given mean and standard deviation. */
  normals(out: Float32Array | Float64Array, mean = 0, std = 1): typeof out {
    const key = nextKey(this.state);
    for (let i = 0; i < out.length; i++) out[i] = mean + std * normalAt(key, i);
    return out;
  }

  /** One uniform in [0, 1). */
  uniform(): number {
    return uniformAt(nextKey(this.state), 0);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    const key = nextKey(this.state);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(uniformAt(key, i) * (i + 1));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}
