/**
 * The WebAssembly SIMD matrix product: the fallback where the native addon cannot be built.
 * The kernel (native/wasm/gemm.wat, assembled into gemm-wasm-module.ts) runs 4 x 8 tiles of
 * f32x4 multiply-adds; this file packs op(A) and op(B) into the module's shared memory the
 * way the kernel reads them, pads C to whole tiles, and splits the column strips between the
 * calling thread and worker threads running the same module on the same memory.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InvalidValueError, type FloatArray } from '@boltzmann/tensor';
import type { Gemm, GemmArgs } from './gemm.js';
import { checkFloat32GemmArgs, refuseSigmoidEpilogue } from './gemm-check.js';
import { GEMM_WASM_BASE64 } from './gemm-wasm-module.js';
import { wasmApi, type WasmApi, type WasmMemory, type WasmModule } from './wasm-api.js';

/** Tile of the kernel (fixed by gemm.wat). */
const MR = 4;
const NR = 8;
/** Depth per packed panel: a B strip (256 x 8 floats = 8 KiB) stays in L1. */
const KC = 256;
/** Rows per block of packed A in the kernel's loops (128 x 256 floats = 128 KiB, in L2). */
const MC = 128;
/** Below this many multiply-adds a product runs on the calling thread alone. */
const PARALLEL_MIN_MACS = 1 << 18;
/** Most bytes of wasm memory one block of the product may use; bigger products go block by block. */
const BLOCK_BYTES = 256 * 1024 * 1024;
/** The module's declared maximum memory (gemm.wat): 16384 pages of 64 KiB = 1 GiB. */
const MAX_PAGES = 16384;
const PAGE = 65536;

// Layout of the control block shared with the workers (Int32 slots; alpha and beta as Float32).
const GENERATION = 0;
const PENDING = 1;
const NEXT_CHUNK = 2;
const STOP = 3;
const FAILED = 4;
const CHUNK = 5; // strips per chunk
const STRIPS = 6; // strips in this call
const ARGS = 8; // pa, pb, c, mPad, nPad, k, kcMost, mcMost, then alpha, beta (float)
const CONTROL_SLOTS = 20;

/** Runs in each worker thread: waits for a generation, takes chunks of strips, checks in. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control } = workerData;
const range = new WebAssembly.Instance(module, { env: { memory } }).exports.range;
const ctl = new Int32Array(control);
const fl = new Float32Array(control);
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${GENERATION}, seen);
  seen = Atomics.load(ctl, ${GENERATION});
  if (Atomics.load(ctl, ${STOP}) !== 0) break;
  try {
    const chunk = ctl[${CHUNK}], strips = ctl[${STRIPS}];
    for (;;) {
      const from = Atomics.add(ctl, ${NEXT_CHUNK}, 1) * chunk;
      if (from >= strips) break;
      range(ctl[${ARGS}], ctl[${ARGS + 1}], ctl[${ARGS + 2}], ctl[${ARGS + 3}], ctl[${ARGS + 4}], ctl[${ARGS + 5}], ctl[${ARGS + 6}], ctl[${ARGS + 7}],
        from, Math.min(strips, from + chunk), fl[${ARGS + 8}], fl[${ARGS + 9}]);
    }
  } catch (error) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
}
`;

type RangeFunction = (pa: number, pb: number, c: number, mPad: number, nPad: number, k: number, kcMost: number, mcMost: number, js0: number, js1: number, alpha: number, beta: number) => void;

const roundUp = (x: number, unit: number): number => Math.ceil(x / unit) * unit;
/** Splits `total` into the fewest blocks of at most `most`, of near-equal size. */
const evenBlock = (total: number, most: number): number => Math.ceil(total / Math.ceil(total / most));

/**
 * The compiled module, its shared memory, the calling thread's instance and the worker pool;
 * one per thread that uses it, shared by every WasmGemm made there.
 */
class WasmRuntime {
  readonly memory: WasmMemory;
  private readonly module: WasmModule;
  private readonly range: RangeFunction;
  private readonly control = new SharedArrayBuffer(CONTROL_SLOTS * 4);
  private readonly ctl = new Int32Array(this.control);
  private readonly ctlFloat = new Float32Array(this.control);
  private readonly workers: Worker[] = [];
  private heap: Float32Array;

  constructor(wasm: WasmApi) {
    this.module = new wasm.Module(Buffer.from(GEMM_WASM_BASE64, 'base64'));
    this.memory = new wasm.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    this.range = new wasm.Instance(this.module, { env: { memory: this.memory } }).exports.range as RangeFunction;
    this.heap = new Float32Array(this.memory.buffer);
  }

  /** Threads a call can use: the caller plus up to availableParallelism() - 1 workers. */
  static readonly maxThreads = Math.max(1, Math.min(availableParallelism(), 16));

  /** A float view of the memory, at least `bytes` long (growing it as needed). */
  reserve(bytes: number): Float32Array {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    if (this.heap.byteLength < bytes || this.heap.buffer !== this.memory.buffer) this.heap = new Float32Array(this.memory.buffer);
    return this.heap;
  }

  private ensureWorkers(count: number): void {
    while (this.workers.length < count) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: this.module, memory: this.memory, control: this.control } });
      // Idle workers block in Atomics.wait; they must not keep the process alive.
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Runs the kernel over strips [0, strips) of a packed problem on `threads` threads. */
  run(args: number[], strips: number, alpha: number, beta: number, threads: number): void {
    const chunk = Math.max(1, Math.ceil(strips / (4 * threads)));
    if (threads <= 1 || strips <= chunk) {
      this.range(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!, args[6]!, args[7]!, 0, strips, alpha, beta);
      return;
    }
    this.ensureWorkers(threads - 1);
    const ctl = this.ctl;
    for (let i = 0; i < 8; i++) ctl[ARGS + i] = args[i]!;
    this.ctlFloat[ARGS + 8] = alpha;
    this.ctlFloat[ARGS + 9] = beta;
    ctl[CHUNK] = chunk;
    ctl[STRIPS] = strips;
    ctl[FAILED] = 0;
    Atomics.store(ctl, NEXT_CHUNK, 0);
    // Every worker checks in, so none still reads the arguments when this call returns.
    Atomics.store(ctl, PENDING, this.workers.length);
    Atomics.add(ctl, GENERATION, 1);
    Atomics.notify(ctl, GENERATION);
    for (;;) {
      const from = Atomics.add(ctl, NEXT_CHUNK, 1) * chunk;
      if (from >= strips) break;
      this.range(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!, args[6]!, args[7]!, from, Math.min(strips, from + chunk), alpha, beta);
    }
    for (let pending = Atomics.load(ctl, PENDING); pending !== 0; pending = Atomics.load(ctl, PENDING)) Atomics.wait(ctl, PENDING, pending);
    if (ctl[FAILED] !== 0) throw new InvalidValueError('wasm gemm: a worker thread failed');
  }
}

let runtime: WasmRuntime | null | undefined;
let unavailable = '';

function getRuntime(): WasmRuntime | null {
  if (runtime !== undefined) return runtime;
  runtime = null;
  if (process.env.BOLTZMANN_WASM === '0') {
    unavailable = 'disabled by BOLTZMANN_WASM=0';
    return runtime;
  }
  if (wasmApi === undefined) {
    unavailable = 'this JavaScript engine has no WebAssembly';
    return runtime;
  }
  try {
    runtime = new WasmRuntime(wasmApi);
  } catch (error) {
    unavailable = `WebAssembly SIMD with shared memory is not available here (${error instanceof Error ? error.message : String(error)})`;
  }
  return runtime;
}

/** Why `wasmGemm()` is undefined ('' when it is available). */
export function wasmGemmUnavailableReason(): string {
  return getRuntime() === null ? unavailable : '';
}

/** Options of `wasmGemm`. */
export interface WasmGemmOptions {
  /** Threads per call, the caller included; default (0) one per available CPU. */
  threads?: number;
}

/** A float32 Gemm on the WebAssembly SIMD kernel. */
class WasmGemm implements Gemm {
  readonly name: string;

  constructor(
    private readonly rt: WasmRuntime,
    private readonly threads: number,
  ) {
    this.name = threads === 1 ? 'wasm-simd-4x8-1thread' : 'wasm-simd-4x8';
  }

  /** Float32 only: the kernel multiplies in single precision. */
  supports(array: FloatArray): boolean {
    return array instanceof Float32Array;
  }

  /** C (m x n) = alpha * op(A) * op(B) + beta * C, row-major; beta = 0 overwrites C (NaN included). */
  run(args: GemmArgs): void {
    checkFloat32GemmArgs(this.name, args);
    refuseSigmoidEpilogue(this.name, args);
    const { m, n, k } = args;
    if (m === 0 || n === 0) return;
    if (k === 0) {
      const c = args.c;
      for (let i = 0; i < m * n; i++) c[i] = args.beta === 0 ? 0 : args.beta * c[i]!;
      return;
    }
    // Blocks of C small enough for the wasm memory; one block unless the product is huge.
    let rows = roundUp(m, MR);
    let cols = roundUp(n, NR);
    const bytes = (r: number, c: number): number => 4 * (r * k + c * k + r * c) + 3 * 64;
    while (bytes(rows, cols) > BLOCK_BYTES && (rows > MR || cols > NR)) {
      if (rows >= cols) rows = roundUp(Math.ceil(rows / 2), MR);
      else cols = roundUp(Math.ceil(cols / 2), NR);
    }
    if (bytes(rows, cols) > MAX_PAGES * PAGE) throw new InvalidValueError(`${this.name}: depth k = ${k} is too large for the WebAssembly memory`);
    for (let r0 = 0; r0 < m; r0 += rows) {
      for (let c0 = 0; c0 < n; c0 += cols) this.block(args, r0, Math.min(m, r0 + rows), c0, Math.min(n, c0 + cols));
    }
  }

  /** C[r0:r1, c0:c1]: pack, run the kernel, copy the block of C back. */
  private block(args: GemmArgs<Float32Array>, r0: number, r1: number, c0: number, c1: number): void {
    const { m, n, k, a, transposeA, b, transposeB, c, alpha, beta } = args;
    const rows = r1 - r0;
    const cols = c1 - c0;
    const mPad = roundUp(rows, MR);
    const nPad = roundUp(cols, NR);
    const kcMost = evenBlock(k, KC);
    // Float offsets of packed A, packed B and padded C, each on a 64-byte boundary.
    const aAt = 0;
    const bAt = roundUp(aAt + mPad * k, 16);
    const cAt = roundUp(bAt + nPad * k, 16);
    const heap = this.rt.reserve(4 * (cAt + mPad * nPad));

    for (let pc = 0; pc < k; pc += kcMost) {
      const kc = Math.min(kcMost, k - pc);
      packA(heap, aAt + mPad * pc, a, transposeA, m, k, r0, rows, mPad, pc, kc);
      packB(heap, bAt + nPad * pc, b, transposeB, k, n, c0, cols, nPad, pc, kc);
    }
    if (beta !== 0) {
      for (let i = 0; i < rows; i++) heap.set(c.subarray((r0 + i) * n + c0, (r0 + i) * n + c1), cAt + i * nPad);
    }
    const macs = rows * cols * k;
    const threads = macs < PARALLEL_MIN_MACS ? 1 : this.threads;
    this.rt.run([4 * aAt, 4 * bAt, 4 * cAt, mPad, nPad, k, kcMost, roundUp(Math.min(MC, mPad), MR)], nPad / NR, alpha, beta, threads);
    for (let i = 0; i < rows; i++) c.set(heap.subarray(cAt + i * nPad, cAt + i * nPad + cols), (r0 + i) * n + c0);
  }
}

/**
 * op(A)[r0 .. r0+rows, pc .. pc+kc] into 4-row strips at `at` (element (i, p) of strip s at
 * s * kc * 4 + p * 4 + i); the padding rows up to mPad are zero. Strip by strip, writing
 * each strip contiguously: a whole strip row per step, no index arithmetic per element.
 */
function packA(heap: Float32Array, at: number, a: Float32Array, ta: boolean, m: number, k: number, r0: number, rows: number, mPad: number, pc: number, kc: number): void {
  for (let s = 0; s < mPad / MR; s++) {
    const i0 = s * MR;
    const h = Math.min(MR, rows - i0);
    let dst = at + s * kc * MR;
    if (h === MR && !ta) {
      // A is m x k: four rows of A side by side.
      let x0 = (r0 + i0) * k + pc;
      let x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
      for (let p = 0; p < kc; p++, dst += MR) {
        heap[dst] = a[x0++]!;
        heap[dst + 1] = a[x1++]!;
        heap[dst + 2] = a[x2++]!;
        heap[dst + 3] = a[x3++]!;
      }
    } else if (h === MR) {
      // A is k x m: the four elements at one depth are contiguous.
      let x = pc * m + r0 + i0;
      for (let p = 0; p < kc; p++, dst += MR, x += m) {
        heap[dst] = a[x]!;
        heap[dst + 1] = a[x + 1]!;
        heap[dst + 2] = a[x + 2]!;
        heap[dst + 3] = a[x + 3]!;
      }
    } else {
      // The last, partial strip (or pure padding): element by element, zeros below the edge.
      for (let p = 0; p < kc; p++, dst += MR) {
        for (let i = 0; i < MR; i++) heap[dst + i] = i < h ? (ta ? a[(pc + p) * m + r0 + i0 + i]! : a[(r0 + i0 + i) * k + pc + p]!) : 0;
      }
    }
  }
}

/**
 * op(B)[pc .. pc+kc, c0 .. c0+cols] into 8-column strips at `at` (element (p, j) of strip t at
 * t * kc * 8 + p * 8 + j); the padding columns up to nPad are zero. Strip by strip, as packA.
 */
function packB(heap: Float32Array, at: number, b: Float32Array, tb: boolean, k: number, n: number, c0: number, cols: number, nPad: number, pc: number, kc: number): void {
  for (let t = 0; t < nPad / NR; t++) {
    const j0 = t * NR;
    const w = Math.min(NR, cols - j0);
    let dst = at + t * kc * NR;
    if (w === NR && !tb) {
      // B is k x n: eight contiguous elements of a row of B per depth.
      let x = pc * n + c0 + j0;
      for (let p = 0; p < kc; p++, dst += NR, x += n) {
        heap[dst] = b[x]!;
        heap[dst + 1] = b[x + 1]!;
        heap[dst + 2] = b[x + 2]!;
        heap[dst + 3] = b[x + 3]!;
        heap[dst + 4] = b[x + 4]!;
        heap[dst + 5] = b[x + 5]!;
        heap[dst + 6] = b[x + 6]!;
        heap[dst + 7] = b[x + 7]!;
      }
    } else if (w === NR) {
      // B is n x k: eight rows of B side by side.
      let x0 = (c0 + j0) * k + pc;
      let x1 = x0 + k, x2 = x1 + k, x3 = x2 + k, x4 = x3 + k, x5 = x4 + k, x6 = x5 + k, x7 = x6 + k;
      for (let p = 0; p < kc; p++, dst += NR) {
        heap[dst] = b[x0++]!;
        heap[dst + 1] = b[x1++]!;
        heap[dst + 2] = b[x2++]!;
        heap[dst + 3] = b[x3++]!;
        heap[dst + 4] = b[x4++]!;
        heap[dst + 5] = b[x5++]!;
        heap[dst + 6] = b[x6++]!;
        heap[dst + 7] = b[x7++]!;
      }
    } else {
      for (let p = 0; p < kc; p++, dst += NR) {
        for (let j = 0; j < NR; j++) heap[dst + j] = j < w ? (tb ? b[(c0 + j0 + j) * k + pc + p]! : b[(pc + p) * n + c0 + j0 + j]!) : 0;
      }
    }
  }
}

/**
 * The WebAssembly Gemm, or undefined where WebAssembly SIMD or shared memory is unavailable
 * (see `wasmGemmUnavailableReason`). Throws only for a bad thread count.
 */
export function wasmGemm(options: WasmGemmOptions = {}): Gemm | undefined {
  const threads = options.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0) throw new InvalidValueError(`wasmGemm: threads must be a non-negative integer, got ${threads}`);
  const rt = getRuntime();
  if (rt === null) return undefined;
  return new WasmGemm(rt, threads === 0 ? WasmRuntime.maxThreads : Math.min(threads, WasmRuntime.maxThreads));
}
