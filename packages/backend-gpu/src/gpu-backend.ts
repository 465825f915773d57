import {
  checkMatmul,
  checkOpFinite,
  checkOpOwner,
  checkOpShape,
  opGroupCount,
  InvalidValueError,
  Matrix,
  ShapeError,
  assertDimension,
  nextKey,
  uniformAt,
  type Backend,
  type BinaryOp,
  type LinearOptions,
  type MatmulOptions,
  type MemoryInfo,
  type Precision,
  type PrecisionChoice,
  type ReduceOp,
  type RngState,
  type Tensor,
  type UnaryOp,
} from '@boltzmann/tensor';
import { GpuTensor } from './gpu-tensor.js';
import { gpujs, kernelMode, type CompiledKernel, type GpuInstance, type KernelArgument, type KernelSettings } from './gpujs.js';
import * as kernels from './kernel-sources.js';
import type { KernelSpec } from './kernel-sources.js';
import { AUTO_ORDER, destroyWebGpuDevice, probeGpuMode, probeModeSync, settledWebGpuProbe, type GpuMode, type GpuModeOption, type ModeProbe } from './modes.js';
import { OpQueue, then, type MaybePromise } from './op-queue.js';
import { EMULATED_INDEX_LIMIT, hostUniforms, splitKey, type RandomStrategy } from './random-kernels.js';
import { deviceStore, hostArgument, hostStore, type StoredValue, type TensorStore } from './tensor-store.js';
import { acquireWebGpuGlobals, releaseWebGpuGlobals, webGpuPrerequisite } from './webgpu-globals.js';

/** Options of `new GpuBackend(...)` and `GpuBackend.create(...)`. */
export interface GpuBackendOptions {
  /** Which gpu.js mode to run on; default `auto` (webgpu, webgl2, headlessgl, webasm, cpu: the first that works). */
  mode?: GpuModeOption;
  /** Only float32 ("best-available" gives float32 too): every gpu.js mode computes in f32. */
  precision?: PrecisionChoice;
  /** Instance name stamped on its tensors; default `gpu.js:<mode>`. */
  name?: string;
  /**
   * How random ops draw their uniforms (see random-kernels.ts). Default: `host` in the host-memory
   * modes (cpu, webasm), where it is the fastest; `emulated` on devices, checked bit-exact against
   * rng.ts at start-up and replaced by `host` if the device gets it wrong.
   */
  randomStrategy?: RandomStrategy;
  /**
   * webasm only: run kernels under gpu.js's async contract, which splits large kernels over a
   * pool of worker threads. Ops then run in order on a promise chain and `readSync` is unavailable.
   */
  threads?: boolean;
  /** webasm with threads: the worker-pool size (default: the number of CPUs). */
  poolSize?: number;
}

/** Tests only: a stand-in gpu.js instance that plays `mode` (see the constructor). */
export interface DeviceHarness {
  readonly mode: GpuMode;
  readonly gpu: GpuInstance;
}

/** Host data passed to one kernel call (uploads, row indices, host-drawn uniforms). */
class HostData {
  constructor(
    readonly data: Float32Array,
    readonly rows: number,
    readonly cols: number,
  ) {}
}

type LaunchArgument = GpuTensor | number | HostData;

const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'sumSquares', 'max', 'min', 'sumAbs'];

/** The uniforms an emulated-RNG self-check compares with rng.ts: enough to cross the 2^16 index boundary. */
const RNG_CHECK_KEY = 0xdeadbeef;
const RNG_CHECK_COLS = 65600;

function describe(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/**
 * The Backend on gpu.js kernels: WebGPU compute shaders, headless WebGL, WebAssembly SIMD or
 * plain JavaScript, whichever mode works here (see `mode`). Each op is one kernel (two for
 * softmax and categorical sampling), compiled once per (op, shape) and cached; tensors stay in
 * the mode's memory between kernels and reach the host only through read, readSync and reduce.
 *
 * Use `await GpuBackend.create(options)` to let `auto` consider WebGPU (an adapter can only be
 * probed asynchronously); the synchronous constructor uses WebGPU in `auto` only once a probe
 * has proven it. On a device (webgpu, webgl2, headlessgl) a tensor holds device memory until `dispose`
 * or `destroy`, as in other GPU frameworks.
 *
 * Random ops reproduce the ReferenceBackend's streams exactly (element i uses rng.ts
 * `uniformAt(key, i)`); see `randomStrategy` for how the uniforms are drawn in each mode.
 */
export class GpuBackend implements Backend {
  readonly name: string;
  readonly precision: Precision = 'float32';
  /** The gpu.js mode in use. */
  readonly mode: GpuMode;
  /** Every mode `auto` looked at before (and including) the one it picked, with the reasons the others failed. */
  readonly modeReport: readonly ModeProbe[];
  private strategy: RandomStrategy;
  private strategyReason: string;
  private readonly store: TensorStore;
  private readonly queue: OpQueue;
  private readonly gpu: GpuInstance;
  private readonly threads: boolean;
  private readonly poolSize: number | undefined;
  private readonly ownsWebGpuGlobals: boolean;
  private readonly kernelCache = new Map<string, CompiledKernel>();
  private readonly checkedKernels = new Set<string>();
  private readonly fallbackNotes: string[] = [];
  /** Device-resident tensors not yet disposed, freed by destroy (host arrays need no tracking). */
  private readonly live = new Set<GpuTensor>();
  /** Every tensor `zeros` and `upload` made and not disposed, host or device (see `memory`). */
  private counted = { numTensors: 0, numBytes: 0 };
  private readonly scratchTensors = new Map<string, GpuTensor>();
  private destroyed = false;
  private compiled = 0;

  /** Creates a backend after probing WebGPU, so `auto` can pick it; use this where a GPU may exist. */
  static async create(options: GpuBackendOptions = {}): Promise<GpuBackend> {
    const mode = options.mode ?? 'auto';
    if (mode === 'auto' || mode === 'webgpu') await probeGpuMode('webgpu');
    return new GpuBackend(options);
  }

  /**
   * @param harness tests only: a stand-in gpu.js instance playing `mode` (its storage and timing),
   *   so the device-resident, promise-chained paths run where no GPU exists.
   */
  constructor(options: GpuBackendOptions = {}, harness?: DeviceHarness) {
    const precision = options.precision ?? 'float32';
    if (precision !== 'float32' && precision !== 'best-available') throw new InvalidValueError(`GpuBackend: precision must be "float32" or "best-available" (every gpu.js mode computes in f32), got "${String(precision)}"`);
    const requested = options.mode ?? 'auto';
    if (requested !== 'auto' && !AUTO_ORDER.includes(requested)) {
      throw new InvalidValueError(`GpuBackend: unknown mode "${String(requested)}"; use auto, ${AUTO_ORDER.join(', ')}`);
    }
    const { mode, report } = harness ? { mode: harness.mode, report: [{ mode: harness.mode, ok: true, reason: '' }] } : GpuBackend.selectMode(requested);
    this.mode = mode;
    this.modeReport = report;
    this.name = options.name ?? `gpu.js:${mode}`;
    this.threads = options.threads ?? false;
    if (this.threads && mode !== 'webasm') throw new InvalidValueError(`GpuBackend: threads apply to mode webasm only, not ${mode}`);
    this.poolSize = options.poolSize;
    if (options.randomStrategy !== undefined && options.randomStrategy !== 'host' && options.randomStrategy !== 'emulated') {
      throw new InvalidValueError(`GpuBackend: randomStrategy must be "emulated" or "host", got "${String(options.randomStrategy)}"`);
    }
    const onDevice = mode === 'webgpu' || mode === 'webgl2' || mode === 'headlessgl';
    this.strategy = options.randomStrategy ?? (onDevice ? 'emulated' : 'host');
    this.strategyReason = options.randomStrategy ? 'chosen in the options' : onDevice ? 'default on a device' : 'default in host memory (fastest there)';
    this.store = onDevice ? deviceStore(mode !== 'webgpu') : hostStore;
    this.ownsWebGpuGlobals = mode === 'webgpu' && !harness;

    let start: Promise<void> | undefined;
    if (this.ownsWebGpuGlobals) {
      const missing = acquireWebGpuGlobals();
      if (missing) throw new InvalidValueError(`GpuBackend: gpu.js mode "webgpu" does not work here: ${missing}`);
      // the adapter answers asynchronously: every op waits for the probe and fails with its reason
      start = probeGpuMode('webgpu').then((p) => {
        if (!p.ok) throw new InvalidValueError(`GpuBackend: gpu.js mode "webgpu" does not work here: ${p.reason}`);
      });
    }
    this.queue = new OpQueue(mode === 'webgpu' || this.threads, start);
    try {
      this.gpu = harness ? harness.gpu : new gpujs.GPU({ mode });
    } catch (e) {
      if (this.ownsWebGpuGlobals) void releaseWebGpuGlobals(destroyWebGpuDevice);
      throw new InvalidValueError(`GpuBackend: gpu.js mode "${mode}" does not work here: ${describe(e)}`);
    }
    if (onDevice && options.randomStrategy === undefined) this.checkEmulatedRandom();
  }

  /** Picks the mode: the requested one if it works (else a clear error), or the first working one for `auto`. */
  private static selectMode(requested: GpuModeOption): { mode: GpuMode; report: ModeProbe[] } {
    if (requested === 'webgpu') {
      const settled = settledWebGpuProbe();
      const reason = settled ? (settled.ok ? undefined : settled.reason) : webGpuPrerequisite();
      if (reason !== undefined) throw new InvalidValueError(`GpuBackend: gpu.js mode "webgpu" does not work here: ${reason}`);
      return { mode: 'webgpu', report: [settled ?? { mode: 'webgpu', ok: true, reason: '' }] };
    }
    if (requested !== 'auto') {
      const probe = probeModeSync(requested);
      if (!probe.ok) throw new InvalidValueError(`GpuBackend: gpu.js mode "${requested}" does not work here: ${probe.reason}`);
      return { mode: requested, report: [probe] };
    }
    const report: ModeProbe[] = [];
    for (const mode of AUTO_ORDER) {
      const probe = probeModeSync(mode);
      report.push(probe);
      if (probe.ok) return { mode, report };
    }
    throw new InvalidValueError(`GpuBackend: no gpu.js mode works here: ${report.map((p) => `${p.mode}: ${p.reason}`).join('; ')}`);
  }

  // --- introspection ---------------------------------------------------------------------

  /** How random ops draw their uniforms now, and why. */
  get randomStrategy(): { strategy: RandomStrategy; reason: string } {
    return { strategy: this.strategy, reason: this.strategyReason };
  }

  /** Kernels compiled so far (one per op variant and shape); steady-state training adds none. */
  get compiledKernelCount(): number {
    return this.compiled;
  }

  /** Kernels gpu.js silently ran in another mode (e.g. webasm degrading to cpu), with its reason. */
  get fallbacks(): readonly string[] {
    return this.fallbackNotes;
  }

  /** Resolves when all work issued so far has run (rejects with the first failure in asynchronous modes). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  // --- validation ------------------------------------------------------------------------

  private own(x: Tensor, op: string, what: string): GpuTensor {
    return checkOpOwner(op, what, x, GpuTensor, this, { destroyed: this.destroyed });
  }

  // --- kernel execution ------------------------------------------------------------------

  /**
   * The compiled kernel for `spec` called with arguments of these kinds: gpu.js specialises a
   * kernel to its first call's argument types (a host array or a device texture), so a kernel
   * used with both (copy: uploads and device copies) is compiled once per kind.
   */
  private kernelFor(spec: KernelSpec, args: readonly LaunchArgument[]): CompiledKernel {
    const key = `${spec.key}|${args.map((a) => (typeof a === 'number' ? 'n' : a instanceof HostData ? 'h' : 't')).join('')}`;
    let kernel = this.kernelCache.get(key);
    if (!kernel) {
      const settings: KernelSettings = {
        output: [spec.cols, spec.rows],
        pipeline: this.store.deviceResident,
        // every call gets its own output, so a tensor keeps its result while the kernel runs again
        immutable: true,
        precision: 'single',
        tactic: 'precision',
        strictIntegers: false,
        dynamicOutput: false,
        dynamicArguments: false,
        loopMaxIterations: (spec.loopMax ?? 0) + 1,
      };
      if (spec.constants) settings.constants = { ...spec.constants };
      if (spec.functions) settings.functions = [...spec.functions];
      if (this.threads) {
        settings.asyncMode = true;
        if (this.poolSize !== undefined) settings.poolSize = this.poolSize;
      }
      kernel = this.gpu.createKernel(spec.source, settings);
      this.kernelCache.set(key, kernel);
      this.compiled++;
    }
    return kernel;
  }

  private kernelError(spec: KernelSpec, e: unknown): Error {
    return new Error(`gpu.js ${this.mode} kernel "${spec.key}" failed: ${describe(e)}`, { cause: e });
  }

  private argument(a: LaunchArgument): KernelArgument {
    if (typeof a === 'number') return a;
    if (a instanceof HostData) return hostArgument(a.data, a.rows, a.cols);
    if (a.value === null) throw new Error(`internal: a ${a.rows}x${a.cols} tensor has no data`);
    return this.store.argument(a.value, a.rows, a.cols);
  }

  /** Runs one kernel now and returns its result as a stored value. */
  private execute(spec: KernelSpec, args: readonly LaunchArgument[]): MaybePromise<StoredValue> {
    const kernel = this.kernelFor(spec, args);
    let result: unknown;
    try {
      result = kernel(...args.map((a) => this.argument(a)));
    } catch (e) {
      throw this.kernelError(spec, e);
    }
    if (!this.checkedKernels.has(spec.key)) {
      this.checkedKernels.add(spec.key);
      const ran = kernelMode(kernel);
      if (ran !== this.mode) this.fallbackNotes.push(`${spec.key}: ran in ${ran} (${kernel.kernel.fallbackReason ?? 'no reason given'})`);
    }
    if (result instanceof Promise) {
      return result.then(
        (r: unknown) => this.store.adopt(r, spec.rows, spec.cols),
        (e: unknown) => {
          throw this.kernelError(spec, e);
        },
      );
    }
    return this.store.adopt(result, spec.rows, spec.cols);
  }

  private assign(out: GpuTensor, value: StoredValue): void {
    const old = out.value;
    out.value = value;
    if (old !== null && old !== value) this.store.release(old);
  }

  /** Queues one kernel writing `out`. */
  private launch(spec: KernelSpec, out: GpuTensor, args: readonly LaunchArgument[]): void {
    this.queue.run(() => then(this.execute(spec, args), (v) => this.assign(out, v)));
  }

  /** A host copy of a stored value, synchronously where the mode is synchronous. */
  private readValue(value: StoredValue, rows: number, cols: number): MaybePromise<Float32Array> {
    return this.queue.deferred ? this.store.read(value, rows, cols) : this.store.readSync(value, rows, cols);
  }

  private scratch(name: string, rows: number, cols: number): GpuTensor {
    const key = `${name}|${rows}x${cols}`;
    let t = this.scratchTensors.get(key);
    if (!t) {
      t = new GpuTensor(rows, cols, this.name, this);
      this.scratchTensors.set(key, t);
    }
    return t;
  }

  private alloc(rows: number, cols: number): GpuTensor {
    assertDimension('rows', rows);
    assertDimension('cols', cols);
    if (this.destroyed) throw new InvalidValueError(`backend "${this.name}" was destroyed`);
    const t = new GpuTensor(rows, cols, this.name, this);
    if (this.store.deviceResident) this.live.add(t);
    this.counted.numTensors++;
    this.counted.numBytes += rows * cols * 4;
    return t;
  }

  // --- randomness plumbing ---------------------------------------------------------------

  /** The strategy for an op with `indices` element indices: emulation holds exactly below 2^24 only. */
  private strategyFor(indices: number): RandomStrategy {
    return this.strategy === 'emulated' && indices <= EMULATED_INDEX_LIMIT ? 'emulated' : 'host';
  }

  /** The random arguments of a kernel: the key halves, or `count` host uniforms laid out rows x cols. */
  private randomArguments(strategy: RandomStrategy, key: number, rows: number, cols: number): LaunchArgument[] {
    return strategy === 'emulated' ? splitKey(key) : [new HostData(hostUniforms(key, rows * cols), rows, cols)];
  }

  /**
   * On a device the emulated hash is only as good as its compiler: compare a few uniforms with
   * rng.ts once, and fall back to host uniforms (exact by construction) if they differ.
   */
  private checkEmulatedRandom(): void {
    const check = this.scratch('rng-check', 1, RNG_CHECK_COLS);
    const verdict = (values: Float32Array): void => {
      let bad = 0;
      for (let i = 0; i < values.length; i++) if (values[i] !== uniformAt(RNG_CHECK_KEY, i)) bad++;
      if (bad > 0) this.useHostRandom(`the device computed ${bad} of ${values.length} emulated uniforms differently from rng.ts`);
    };
    this.queue.run(() => {
      let result: MaybePromise<void>;
      try {
        result = then(this.execute(kernels.uniformKernel(1, RNG_CHECK_COLS, 'emulated'), splitKey(RNG_CHECK_KEY)), (v) => {
          this.assign(check, v);
          return then(this.readValue(v, 1, RNG_CHECK_COLS), verdict);
        });
      } catch (e) {
        this.useHostRandom(`the emulated-RNG kernel failed: ${describe(e)}`);
        return;
      }
      if (result instanceof Promise) return result.catch((e: unknown) => this.useHostRandom(`the emulated-RNG kernel failed: ${describe(e)}`));
      return result;
    });
  }

  private useHostRandom(reason: string): void {
    this.strategy = 'host';
    this.strategyReason = `host uniforms: ${reason}`;
  }

  // --- memory ----------------------------------------------------------------------------

  zeros(rows: number, cols: number, value = 0): Tensor {
    checkOpFinite('zeros', 'value', value);
    const t = this.alloc(rows, cols);
    this.launch(kernels.fillKernel(rows, cols), t, [value]);
    return t;
  }

  upload(m: Matrix): Tensor {
    if (!(m instanceof Matrix)) throw new InvalidValueError('upload: expected a Matrix');
    const t = this.alloc(m.rows, m.cols);
    this.writeData(t, m);
    return t;
  }

  write(t: Tensor, m: Matrix): void {
    const o = this.own(t, 'write', 'target');
    checkOpShape('write', 'matrix', m, o.rows, o.cols);
    this.writeData(o, m);
  }

  private writeData(t: GpuTensor, m: Matrix): void {
    // copied now: the caller may change m before an asynchronous mode runs the upload
    const data = m.data instanceof Float32Array ? m.data.slice() : Float32Array.from(m.data);
    this.launch(kernels.copyKernel(t.rows, t.cols), t, [new HostData(data, t.rows, t.cols)]);
  }

  read(t: Tensor): Promise<Matrix> {
    const o = this.own(t, 'read', 'source');
    return this.queue.submit(() => {
      if (o.value === null) throw new Error('internal: reading a tensor with no data');
      return then(this.readValue(o.value, o.rows, o.cols), (data) => new Matrix(o.rows, o.cols, data));
    });
  }

  readSync(t: Tensor): Matrix {
    const o = this.own(t, 'readSync', 'source');
    if (this.queue.deferred) {
      const why = this.mode === 'webgpu' ? 'WebGPU has no synchronous readback' : 'threaded webasm runs kernels asynchronously';
      throw new InvalidValueError(`readSync: not available in mode ${this.mode}${this.threads ? ' with threads' : ''} (${why}); use await backend.read(tensor)`);
    }
    if (o.value === null) throw new Error('internal: reading a tensor with no data');
    return new Matrix(o.rows, o.cols, this.store.readSync(o.value, o.rows, o.cols));
  }

  dispose(t: Tensor): void {
    const o = this.own(t, 'dispose', 'tensor');
    o.markDisposed();
    this.live.delete(o);
    this.counted.numTensors--;
    this.counted.numBytes -= o.rows * o.cols * 4;
    this.queue.run(() => {
      if (o.value !== null) this.store.release(o.value);
      o.value = null;
    });
  }

  memory(): MemoryInfo {
    return { ...this.counted };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.counted = { numTensors: 0, numBytes: 0 };
    const tensors = [...this.live, ...this.scratchTensors.values()];
    this.live.clear();
    this.scratchTensors.clear();
    const teardown = async (): Promise<void> => {
      for (const t of tensors) {
        if (t.value !== null) this.store.release(t.value);
        t.value = null;
        t.markDisposed();
      }
      for (const k of this.kernelCache.values()) k.destroy();
      this.kernelCache.clear();
      await this.gpu.destroy();
      if (this.ownsWebGpuGlobals) await releaseWebGpuGlobals(destroyWebGpuDevice);
    };
    // after everything queued, even if that failed: memory and worker threads must be freed
    if (this.queue.deferred) {
      this.queue.flush().then(teardown, teardown).catch(() => {});
    } else {
      void teardown().catch(() => {});
    }
  }

  // --- copies ----------------------------------------------------------------------------

  copy(src: Tensor, out: Tensor): void {
    const s = this.own(src, 'copy', 'src');
    const o = this.own(out, 'copy', 'out');
    checkOpShape('copy', 'out', o, s.rows, s.cols);
    this.launch(kernels.copyKernel(s.rows, s.cols), o, [s]);
  }

  fill(out: Tensor, value: number): void {
    const o = this.own(out, 'fill', 'out');
    checkOpFinite('fill', 'value', value);
    this.launch(kernels.fillKernel(o.rows, o.cols), o, [value]);
  }

  gatherRows(src: Tensor, indices: Uint32Array, out: Tensor): void {
    const s = this.own(src, 'gatherRows', 'src');
    const o = this.own(out, 'gatherRows', 'out');
    checkOpShape('gatherRows', 'out', o, indices.length, s.cols);
    if (s.rows > EMULATED_INDEX_LIMIT) throw new InvalidValueError(`gatherRows: src has ${s.rows} rows; row indices travel as float32, exact only below ${EMULATED_INDEX_LIMIT}`);
    const rows = new Float32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i]!;
      if (!(Number.isInteger(r) && r >= 0 && r < s.rows)) throw new ShapeError(`gatherRows: row ${r} (index ${i}) is outside ${s.rows} rows`);
      rows[i] = r;
    }
    this.launch(kernels.gatherRowsKernel(indices.length, s.rows, s.cols), o, [s, new HostData(rows, 1, indices.length)]);
  }

  // --- linear algebra --------------------------------------------------------------------

  matmul(a: Tensor, b: Tensor, out: Tensor, options: MatmulOptions = {}): void {
    const A = this.own(a, 'matmul', 'a');
    const B = this.own(b, 'matmul', 'b');
    const O = this.own(out, 'matmul', 'out');
    const { m, k, n, transposeA, transposeB, alpha, beta } = checkMatmul(A, B, O, options);
    const accumulate = beta !== 0;
    const args: LaunchArgument[] = accumulate ? [A, B, alpha, O, beta] : [A, B, alpha];
    this.launch(kernels.matmulKernel(m, k, n, transposeA, transposeB, accumulate), O, args);
  }

  linear(x: Tensor, w: Tensor, bias: Tensor, out: Tensor, options: LinearOptions = {}): void {
    const X = this.own(x, 'linear', 'x');
    const W = this.own(w, 'linear', 'w');
    const Bias = this.own(bias, 'linear', 'bias');
    const O = this.own(out, 'linear', 'out');
    const transposeW = options.transposeW ?? false;
    const activation = options.activation ?? 'identity';
    if (!kernels.isUnaryOp(activation)) throw new InvalidValueError(`linear: unknown activation "${String(activation)}"`);
    const k = X.cols;
    const kw = transposeW ? W.cols : W.rows;
    const n = transposeW ? W.rows : W.cols;
    if (k !== kw) throw new ShapeError(`linear: x has ${k} columns but w${transposeW ? ' transposed' : ''} has ${kw} rows`);
    checkOpShape('linear', 'bias', Bias, 1, n);
    checkOpShape('linear', 'out', O, X.rows, n);
    this.launch(kernels.linearKernel(X.rows, k, n, transposeW, activation), O, [X, W, Bias]);
  }

  // --- element-wise ----------------------------------------------------------------------

  unary(op: UnaryOp, a: Tensor, out: Tensor): void {
    if (!kernels.isUnaryOp(op)) throw new InvalidValueError(`unary: unknown op "${String(op)}"`);
    const A = this.own(a, `unary ${op}`, 'a');
    const O = this.own(out, `unary ${op}`, 'out');
    checkOpShape(`unary ${op}`, 'out', O, A.rows, A.cols);
    this.launch(kernels.unaryKernel(op, A.rows, A.cols), O, [A]);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor): void {
    if (!kernels.isBinaryOp(op)) throw new InvalidValueError(`binary: unknown op "${String(op)}"`);
    const A = this.own(a, `binary ${op}`, 'a');
    const B = this.own(b, `binary ${op}`, 'b');
    const O = this.own(out, `binary ${op}`, 'out');
    checkOpShape(`binary ${op}`, 'b', B, A.rows, A.cols);
    checkOpShape(`binary ${op}`, 'out', O, A.rows, A.cols);
    this.launch(kernels.binaryKernel(op, A.rows, A.cols), O, [A, B]);
  }

  axpby(alpha: number, x: Tensor, beta: number, y: Tensor, out: Tensor): void {
    const X = this.own(x, 'axpby', 'x');
    const Y = this.own(y, 'axpby', 'y');
    const O = this.own(out, 'axpby', 'out');
    checkOpFinite('axpby', 'alpha', alpha);
    checkOpFinite('axpby', 'beta', beta);
    checkOpShape('axpby', 'y', Y, X.rows, X.cols);
    checkOpShape('axpby', 'out', O, X.rows, X.cols);
    this.launch(kernels.axpbyKernel(X.rows, X.cols), O, [alpha, X, beta, Y]);
  }

  affine(a: Tensor, scale: number, shift: number, out: Tensor): void {
    const A = this.own(a, 'affine', 'a');
    const O = this.own(out, 'affine', 'out');
    checkOpFinite('affine', 'scale', scale);
    checkOpFinite('affine', 'shift', shift);
    checkOpShape('affine', 'out', O, A.rows, A.cols);
    this.launch(kernels.affineKernel(A.rows, A.cols), O, [A, scale, shift]);
  }

  private broadcast(kind: 'addRow' | 'mulRow' | 'mulCol', op: string, a: Tensor, v: Tensor, out: Tensor): void {
    const A = this.own(a, op, 'a');
    const V = this.own(v, op, kind === 'mulCol' ? 'col' : 'row');
    const O = this.own(out, op, 'out');
    checkOpShape(op, 'out', O, A.rows, A.cols);
    if (kind === 'mulCol') checkOpShape(op, 'col', V, A.rows, 1);
    else checkOpShape(op, 'row', V, 1, A.cols);
    this.launch(kernels.broadcastKernel(kind, A.rows, A.cols), O, [A, V]);
  }

  addRowVector(a: Tensor, row: Tensor, out: Tensor): void {
    this.broadcast('addRow', 'addRowVector', a, row, out);
  }

  mulRowVector(a: Tensor, row: Tensor, out: Tensor): void {
    this.broadcast('mulRow', 'mulRowVector', a, row, out);
  }

  mulColVector(a: Tensor, col: Tensor, out: Tensor): void {
    this.broadcast('mulCol', 'mulColVector', a, col, out);
  }

  softmaxGroups(a: Tensor, groupSize: number, out: Tensor): void {
    const A = this.own(a, 'softmaxGroups', 'a');
    const groups = opGroupCount('softmaxGroups', A, groupSize);
    const O = this.own(out, 'softmaxGroups', 'out');
    checkOpShape('softmaxGroups', 'out', O, A.rows, A.cols);
    const lse = this.scratch('lse', A.rows, groups);
    this.launch(kernels.logSumExpKernel(A.rows, A.cols, groupSize), lse, [A]);
    this.launch(kernels.softmaxKernel(A.rows, A.cols, groupSize), O, [A, lse]);
  }

  logSumExpGroups(a: Tensor, groupSize: number, out: Tensor): void {
    const A = this.own(a, 'logSumExpGroups', 'a');
    const groups = opGroupCount('logSumExpGroups', A, groupSize);
    const O = this.own(out, 'logSumExpGroups', 'out');
    checkOpShape('logSumExpGroups', 'out', O, A.rows, groups);
    this.launch(kernels.logSumExpKernel(A.rows, A.cols, groupSize), O, [A]);
  }

  // --- reductions ------------------------------------------------------------------------

  sumColumns(a: Tensor, out: Tensor, alpha = 1, beta = 0): void {
    const A = this.own(a, 'sumColumns', 'a');
    const O = this.own(out, 'sumColumns', 'out');
    checkOpFinite('sumColumns', 'alpha', alpha);
    checkOpFinite('sumColumns', 'beta', beta);
    checkOpShape('sumColumns', 'out', O, 1, A.cols);
    const accumulate = beta !== 0;
    this.launch(kernels.sumColumnsKernel(A.rows, A.cols, accumulate), O, accumulate ? [A, alpha, O, beta] : [A, alpha]);
  }

  sumRows(a: Tensor, out: Tensor): void {
    const A = this.own(a, 'sumRows', 'a');
    const O = this.own(out, 'sumRows', 'out');
    checkOpShape('sumRows', 'out', O, A.rows, 1);
    this.launch(kernels.rowReduceKernel('sumRows', A.rows, A.cols), O, [A]);
  }

  reduce(op: ReduceOp, a: Tensor): Promise<number> {
    if (!REDUCE_OPS.includes(op)) return Promise.reject(new InvalidValueError(`reduce: unknown op "${String(op)}"`));
    let A: GpuTensor;
    try {
      A = this.own(a, `reduce ${op}`, 'a');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.queue.submit(() => this.reduceNow(op, A));
  }

  /**
   * One partial per row on the device, finished on the host in float64. max/min also sum each
   * row: a NaN there means a NaN (or opposite infinities) somewhere, where device max/min are not
   * reliable, so the whole tensor is then read and reduced on the host with the reference's rules.
   */
  private reduceNow(op: ReduceOp, a: GpuTensor): MaybePromise<number> {
    const partials = (kind: ReduceOp): MaybePromise<Float32Array> =>
      then(this.execute(kernels.rowReduceKernel(kind, a.rows, a.cols), [a]), (v) =>
        then(this.readValue(v, a.rows, 1), (data) => {
          this.store.release(v);
          return data;
        }),
      );
    if (op !== 'max' && op !== 'min') {
      return then(partials(op), (p) => {
        let s = 0;
        for (let i = 0; i < p.length; i++) s += p[i]!;
        return s;
      });
    }
    return then(partials('sum'), (sums) => {
      if (!sums.some(Number.isNaN)) {
        return then(partials(op), (p) => {
          let acc = p[0]!;
          for (let i = 1; i < p.length; i++) acc = op === 'max' ? Math.max(acc, p[i]!) : Math.min(acc, p[i]!);
          return acc;
        });
      }
      if (a.value === null) throw new Error('internal: reducing a tensor with no data');
      return then(this.readValue(a.value, a.rows, a.cols), (all) => {
        let acc = op === 'max' ? -Infinity : Infinity;
        for (let i = 0; i < all.length; i++) {
          const x = all[i]!;
          acc = Number.isNaN(x) ? NaN : op === 'max' ? Math.max(acc, x) : Math.min(acc, x);
          if (Number.isNaN(acc)) break;
        }
        return acc;
      });
    });
  }

  // --- randomness ------------------------------------------------------------------------

  /** Queues a random op; the strategy is settled when it runs (a device's RNG self-check may still be pending). */
  private launchRandom(out: GpuTensor, indices: number, build: (strategy: RandomStrategy) => { spec: KernelSpec; args: LaunchArgument[] }): void {
    this.queue.run(() => {
      const { spec, args } = build(this.strategyFor(indices));
      return then(this.execute(spec, args), (v) => this.assign(out, v));
    });
  }

  sampleBernoulli(p: Tensor | number, rng: RngState, out: Tensor): void {
    const O = this.own(out, 'sampleBernoulli', 'out');
    let P: GpuTensor | number;
    if (typeof p === 'number') {
      checkOpFinite('sampleBernoulli', 'p', p);
      P = p;
    } else {
      P = this.own(p, 'sampleBernoulli', 'p');
      checkOpShape('sampleBernoulli', 'p', P, O.rows, O.cols);
    }
    const key = nextKey(rng);
    this.launchRandom(O, O.rows * O.cols, (strategy) => ({
      spec: kernels.bernoulliKernel(O.rows, O.cols, typeof P !== 'number', strategy),
      args: [P, ...this.randomArguments(strategy, key, O.rows, O.cols)],
    }));
  }

  sampleGaussian(mean: Tensor, std: number | Tensor, rng: RngState, out: Tensor): void {
    const M = this.own(mean, 'sampleGaussian', 'mean');
    const O = this.own(out, 'sampleGaussian', 'out');
    checkOpShape('sampleGaussian', 'out', O, M.rows, M.cols);
    let S: GpuTensor | number;
    if (typeof std === 'number') {
      checkOpFinite('sampleGaussian', 'std', std);
      S = std;
    } else {
      S = this.own(std, 'sampleGaussian', 'std');
      checkOpShape('sampleGaussian', 'std', S, 1, O.cols);
    }
    const key = nextKey(rng);
    this.launchRandom(O, O.rows * O.cols, (strategy) => ({
      spec: kernels.gaussianKernel(O.rows, O.cols, typeof S !== 'number', strategy),
      // element i uses uniforms 2i and 2i + 1: the host route lays them out rows x (2 * cols)
      args: [M, S, ...this.randomArguments(strategy, key, O.rows, 2 * O.cols)],
    }));
  }

  sampleCategorical(p: Tensor, groupSize: number, rng: RngState, out: Tensor): void {
    const P = this.own(p, 'sampleCategorical', 'p');
    const groups = opGroupCount('sampleCategorical', P, groupSize);
    const O = this.own(out, 'sampleCategorical', 'out');
    checkOpShape('sampleCategorical', 'out', O, P.rows, P.cols);
    const key = nextKey(rng);
    const choice = this.scratch('choice', P.rows, groups);
    this.launchRandom(choice, P.rows * groups, (strategy) => ({
      spec: kernels.categoricalChoiceKernel(P.rows, P.cols, groupSize, strategy),
      args: [P, ...this.randomArguments(strategy, key, P.rows, groups)],
    }));
    this.launch(kernels.categoricalExpandKernel(P.rows, P.cols, groupSize), O, [choice]);
  }

  uniform(rng: RngState, out: Tensor): void {
    const O = this.own(out, 'uniform', 'out');
    const key = nextKey(rng);
    this.launchRandom(O, O.rows * O.cols, (strategy) => ({
      spec: kernels.uniformKernel(O.rows, O.cols, strategy),
      args: this.randomArguments(strategy, key, O.rows, O.cols),
    }));
  }
}
