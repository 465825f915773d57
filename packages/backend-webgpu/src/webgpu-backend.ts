/// <reference types="@webgpu/types" />
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
  type Backend,
  type BinaryOp,
  type LinearOptions,
  type MatmulOptions,
  type MemoryInfo,
  type Precision,
  type ReduceOp,
  type RngState,
  type Tensor,
  type UnaryOp,
} from '@boltzmann/tensor';
import { BufferUsage, CommandStream, type Binding } from './command-stream.js';
import { findGpu, requestDevice, type AdapterDescription } from './gpu-access.js';
import { elementwiseKernel, type InputKind } from './kernels/elementwise.js';
import { gatherRowsKernel, groupKernel, type GroupOp } from './kernels/groups.js';
import { PARAMS_BYTES, WORKGROUP, type Kernel } from './kernels/kernel.js';
import { checkTile, matmulFlags, matmulGroups, matmulKernel, tileFor, type MatmulEpilogue, type MatmulTile } from './kernels/matmul.js';
import { REDUCE_GROUPS, reducePartialsKernel, sumColumnsKernel, sumRowsKernel } from './kernels/reductions.js';
import { BINARY_WGSL, UNARY_WGSL } from './kernels/wgsl-math.js';
import { WebGpuTensor } from './webgpu-tensor.js';

/** Options of `WebGpuBackend.create`. */
export interface WebGpuBackendOptions {
  /** Only float32 (WGSL storage is f32). */
  precision?: Precision;
  /** Instance name stamped on its tensors; default "webgpu". */
  name?: string;
  /** Use this device (the caller keeps owning it: `destroy` leaves it alive). */
  device?: GPUDevice;
  /** Use this WebGPU entry point instead of `navigator.gpu` / the `webgpu` package. */
  gpu?: GPU;
  /** Adapter preference when the backend picks one; default "high-performance". */
  powerPreference?: GPUPowerPreference;
  /** Benchmarks: one matrix-product tile for every shape instead of the per-shape default. */
  matmulTile?: MatmulTile;
}

const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'sumSquares', 'max', 'min', 'sumAbs'];
const MAX_GRID = 65535;

function isUnary(op: string): op is UnaryOp {
  return Object.hasOwn(UNARY_WGSL, op);
}

function isBinary(op: string): op is BinaryOp {
  return Object.hasOwn(BINARY_WGSL, op);
}

/**
 * The Backend on WebGPU compute shaders written in WGSL: a register-blocked, workgroup-tiled
 * matrix product (both transposes, alpha/beta) that `linear` fuses with the bias and the unit
 * activation, element-wise kernels that run in place, workgroup-tree reductions, and random
 * sampling that computes rng.ts's counter-based hash on the device bit for bit, so every random
 * op draws exactly the reference backend's stream. Tensors are GPU storage buffers; ops record
 * into a command stream and nothing comes back to the host except through `read` and `reduce`.
 *
 * WebGPU has no synchronous readback: `readSync` is refused, use `await backend.read(t)`.
 * Create it with `await WebGpuBackend.create()`; it runs wherever `navigator.gpu` exists (a
 * browser) and in Node through the optional `webgpu` package when the machine has a GPU.
 */
export class WebGpuBackend implements Backend {
  readonly name: string;
  readonly precision: Precision = 'float32';
  /** The adapter the device came from (empty strings where the platform does not say). */
  readonly adapter: AdapterDescription;
  private readonly device: GPUDevice;
  private readonly stream: CommandStream;
  private readonly ownsDevice: boolean;
  private readonly tileOverride: MatmulTile | undefined;
  private readonly live = new Set<WebGpuTensor>();
  private readonly scratchTensors = new Map<string, WebGpuTensor>();
  private readonly params = new ArrayBuffer(PARAMS_BYTES);
  private readonly paramsU32 = new Uint32Array(this.params, 0, 4);
  private readonly paramsF32 = new Float32Array(this.params, 16, 4);
  private readonly maxBufferBytes: number;
  private destroyed = false;

  /** Finds WebGPU, asks for an adapter and a device, and builds the backend; fails with the reason it cannot. */
  static async create(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const precision = options.precision ?? 'float32';
    if (precision !== 'float32') throw new InvalidValueError(`WebGpuBackend: precision must be "float32", got "${String(precision)}"`);
    if (options.matmulTile) checkTile(options.matmulTile);
    if (options.device) return new WebGpuBackend(options.device, { vendor: '', architecture: '', device: '', description: 'device given by the caller' }, false, options);
    const gpu = options.gpu ?? (await findGpu());
    if (typeof gpu === 'string') throw new InvalidValueError(`WebGpuBackend: WebGPU is not available here: ${gpu}`);
    const got = await requestDevice(gpu, options.powerPreference);
    if (typeof got === 'string') throw new InvalidValueError(`WebGpuBackend: ${got}`);
    return new WebGpuBackend(got.device, got.adapter, true, options);
  }

  private constructor(device: GPUDevice, adapter: AdapterDescription, ownsDevice: boolean, options: WebGpuBackendOptions) {
    this.device = device;
    this.adapter = adapter;
    this.ownsDevice = ownsDevice;
    this.name = options.name ?? 'webgpu';
    this.tileOverride = options.matmulTile;
    this.stream = new CommandStream(device);
    this.maxBufferBytes = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  }

  // --- introspection -----------------------------------------------------------------------

  /** Tensors made by this backend and not yet disposed, and their bytes (its own scratch buffers excluded). */
  memory(): MemoryInfo {
    let numBytes = 0;
    for (const t of this.live) numBytes += t.size * 4;
    return { numTensors: this.live.size, numBytes };
  }

  /** Compute pipelines compiled so far (one per kernel variant); steady-state training adds none. */
  get compiledKernelCount(): number {
    return this.stream.pipelineCount;
  }

  /** Submits everything recorded and waits until the GPU has run it (rejects with the first device error). */
  async finish(): Promise<void> {
    this.stream.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.stream.settled();
  }

  // --- validation --------------------------------------------------------------------------

  private own(x: Tensor, op: string, what: string): WebGpuTensor {
    return checkOpOwner(op, what, x, WebGpuTensor, this, { destroyed: this.destroyed });
  }

  private notAliased(op: string, out: WebGpuTensor, ...inputs: WebGpuTensor[]): void {
    if (inputs.includes(out)) throw new InvalidValueError(`${op}: out must be a different tensor from the operands`);
  }

  // --- dispatch plumbing -------------------------------------------------------------------

  private setParams(u: readonly number[], f: readonly number[] = []): ArrayBuffer {
    this.paramsU32.fill(0);
    this.paramsF32.fill(0);
    this.paramsU32.set(u);
    this.paramsF32.set(f);
    return this.params;
  }

  /** A grid of WORKGROUP-thread groups covering `n` threads, and the threads per grid row. */
  private flatGrid(n: number): { groups: [number, number]; stride: number } {
    const total = Math.ceil(n / WORKGROUP);
    const x = Math.min(total, MAX_GRID);
    const y = Math.ceil(total / x);
    if (y > MAX_GRID) throw new ShapeError(`a ${n}-element op is too large for one WebGPU dispatch`);
    return { groups: [x, y], stride: x * WORKGROUP };
  }

  private dispatch(kernel: Kernel, u: readonly number[], f: readonly number[], bindings: readonly Binding[], groups: readonly [number, number?, number?]): void {
    this.stream.dispatch(kernel, this.setParams(u, f), bindings, groups);
  }

  private scratch(name: string, rows: number, cols: number): WebGpuTensor {
    const key = `${name}|${rows}x${cols}`;
    let t = this.scratchTensors.get(key);
    if (!t) {
      t = new WebGpuTensor(rows, cols, this.name, this, this.createBuffer(rows * cols));
      this.scratchTensors.set(key, t);
    }
    return t;
  }

  /** `t` copied to a scratch tensor, for ops whose output is also an input they cannot read in place. */
  private detached(t: WebGpuTensor, out: WebGpuTensor): WebGpuTensor {
    if (t !== out) return t;
    const s = this.scratch('alias', t.rows, t.cols);
    this.stream.copy(t.buffer, s.buffer, t.size * 4);
    return s;
  }

  /** out[i] = expression of the inputs x0, x1...; full inputs equal to `out` are read in place. */
  private elementwise(name: string, expression: string, out: WebGpuTensor, inputs: ReadonlyArray<readonly [WebGpuTensor, InputKind]>, f: readonly number[] = [], key = 0, helpers = ''): void {
    const resolved = inputs.map(([t, kind]) => {
      const source = kind === 'full' ? t : this.detached(t, out);
      return { t: source, kind, aliased: source === out };
    });
    const kernel = elementwiseKernel(name, expression, resolved.map(({ kind, aliased }) => ({ kind, aliased })), helpers);
    const { groups, stride } = this.flatGrid(out.size);
    const bindings = [out.buffer, ...resolved.filter((r) => !r.aliased).map((r) => r.t.buffer)];
    this.dispatch(kernel, [out.size, out.cols, key, stride], f, bindings, groups);
  }

  private createBuffer(elements: number, fill?: Float32Array | number): GPUBuffer {
    const bytes = elements * 4;
    if (bytes > this.maxBufferBytes) throw new InvalidValueError(`a tensor of ${elements} values (${bytes} bytes) exceeds this device's buffer limit of ${this.maxBufferBytes} bytes`);
    const mapped = fill !== undefined && (typeof fill !== 'number' || fill !== 0);
    const buffer = this.device.createBuffer({ size: bytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST, mappedAtCreation: mapped });
    if (mapped) {
      const view = new Float32Array(buffer.getMappedRange());
      if (typeof fill === 'number') view.fill(fill);
      else view.set(fill);
      buffer.unmap();
    }
    return buffer;
  }

  private alloc(rows: number, cols: number, fill?: Float32Array | number): WebGpuTensor {
    assertDimension('rows', rows);
    assertDimension('cols', cols);
    if (this.destroyed) throw new InvalidValueError(`backend "${this.name}" was destroyed`);
    const t = new WebGpuTensor(rows, cols, this.name, this, this.createBuffer(rows * cols, fill));
    this.live.add(t);
    return t;
  }

  // --- memory ------------------------------------------------------------------------------

  zeros(rows: number, cols: number, value = 0): Tensor {
    checkOpFinite('zeros', 'value', value);
    return this.alloc(rows, cols, value);
  }

  upload(m: Matrix): Tensor {
    if (!(m instanceof Matrix)) throw new InvalidValueError('upload: expected a Matrix');
    return this.alloc(m.rows, m.cols, m.data instanceof Float32Array ? m.data : Float32Array.from(m.data));
  }

  write(t: Tensor, m: Matrix): void {
    const o = this.own(t, 'write', 'target');
    if (!(m instanceof Matrix)) throw new InvalidValueError('write: expected a Matrix');
    checkOpShape('write', 'matrix', m, o.rows, o.cols);
    this.stream.write(o.buffer, m.data instanceof Float32Array ? m.data : Float32Array.from(m.data));
  }

  read(t: Tensor): Promise<Matrix> {
    const o = this.own(t, 'read', 'source');
    return this.stream.read(o.buffer, o.size * 4).then((bytes) => new Matrix(o.rows, o.cols, new Float32Array(bytes)));
  }

  readSync(t: Tensor): Matrix {
    this.own(t, 'readSync', 'source');
    throw new InvalidValueError(`readSync: backend "${this.name}" has no synchronous readback (WebGPU maps buffers asynchronously); use await backend.read(tensor)`);
  }

  dispose(t: Tensor): void {
    const o = this.own(t, 'dispose', 'tensor');
    o.markDisposed();
    this.live.delete(o);
    this.stream.retire(o.buffer);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.stream.destroy();
    for (const t of [...this.live, ...this.scratchTensors.values()]) {
      t.markDisposed();
      t.buffer.destroy();
    }
    this.live.clear();
    this.scratchTensors.clear();
    if (this.ownsDevice) this.device.destroy();
  }

  // --- copies ------------------------------------------------------------------------------

  copy(src: Tensor, out: Tensor): void {
    const s = this.own(src, 'copy', 'src');
    const o = this.own(out, 'copy', 'out');
    checkOpShape('copy', 'out', o, s.rows, s.cols);
    if (s !== o) this.stream.copy(s.buffer, o.buffer, s.size * 4);
  }

  fill(out: Tensor, value: number): void {
    const o = this.own(out, 'fill', 'out');
    checkOpFinite('fill', 'value', value);
    this.elementwise('fill', 'P.f0', o, [], [value]);
  }

  gatherRows(src: Tensor, indices: Uint32Array, out: Tensor): void {
    const s = this.own(src, 'gatherRows', 'src');
    const o = this.own(out, 'gatherRows', 'out');
    if (!(indices instanceof Uint32Array)) throw new InvalidValueError('gatherRows: indices must be a Uint32Array');
    checkOpShape('gatherRows', 'out', o, indices.length, s.cols);
    for (let i = 0; i < indices.length; i++) {
      if (indices[i]! >= s.rows) throw new ShapeError(`gatherRows: row ${indices[i]} (index ${i}) is outside ${s.rows} rows`);
    }
    const source = this.detached(s, o);
    const rows = this.stream.stage(indices);
    const { groups, stride } = this.flatGrid(o.size);
    this.dispatch(gatherRowsKernel(), [o.size, o.cols, 0, stride], [], [o.buffer, source.buffer, rows], groups);
  }

  // --- linear algebra ----------------------------------------------------------------------

  matmul(a: Tensor, b: Tensor, out: Tensor, options: MatmulOptions = {}): void {
    const A = this.own(a, 'matmul', 'a');
    const B = this.own(b, 'matmul', 'b');
    const O = this.own(out, 'matmul', 'out');
    const { m, k, n, transposeA, transposeB, alpha, beta } = checkMatmul(A, B, O, options);
    this.notAliased('matmul', O, A, B);
    this.product(A, B, O, m, k, n, transposeA, transposeB, { kind: 'matmul', accumulate: beta !== 0 }, [alpha, beta]);
  }

  linear(x: Tensor, w: Tensor, bias: Tensor, out: Tensor, options: LinearOptions = {}): void {
    const X = this.own(x, 'linear', 'x');
    const W = this.own(w, 'linear', 'w');
    const Bias = this.own(bias, 'linear', 'bias');
    const O = this.own(out, 'linear', 'out');
    const transposeW = options.transposeW ?? false;
    const activation = options.activation ?? 'identity';
    if (!isUnary(activation)) throw new InvalidValueError(`linear: unknown activation "${String(activation)}"`);
    const k = X.cols;
    const kw = transposeW ? W.cols : W.rows;
    const n = transposeW ? W.rows : W.cols;
    if (k !== kw) throw new ShapeError(`linear: x has ${k} columns but w${transposeW ? ' transposed' : ''} has ${kw} rows`);
    checkOpShape('linear', 'bias', Bias, 1, n);
    checkOpShape('linear', 'out', O, X.rows, n);
    this.notAliased('linear', O, X, W);
    this.product(X, W, O, X.rows, k, n, false, transposeW, { kind: 'linear', activation }, [], this.detached(Bias, O));
  }

  private product(A: WebGpuTensor, B: WebGpuTensor, O: WebGpuTensor, m: number, k: number, n: number, ta: boolean, tb: boolean, epilogue: MatmulEpilogue, f: number[], bias?: WebGpuTensor): void {
    const tile = this.tileOverride ?? tileFor(m, n);
    const [gx, gy] = matmulGroups(tile, m, n);
    if (gx > MAX_GRID || gy > MAX_GRID) throw new ShapeError(`matmul: a ${m}x${n} output is too large for one WebGPU dispatch`);
    // without a bias the kernel still declares one: any buffer it does not write will do
    this.dispatch(matmulKernel(tile), [m, n, k, matmulFlags(ta, tb, epilogue)], f, [O.buffer, A.buffer, B.buffer, (bias ?? A).buffer], [gx, gy]);
  }

  // --- element-wise ------------------------------------------------------------------------

  unary(op: UnaryOp, a: Tensor, out: Tensor): void {
    if (!isUnary(op)) throw new InvalidValueError(`unary: unknown op "${String(op)}"`);
    const A = this.own(a, `unary ${op}`, 'a');
    const O = this.own(out, `unary ${op}`, 'out');
    checkOpShape(`unary ${op}`, 'out', O, A.rows, A.cols);
    this.elementwise(`u-${op}`, 'op(x0)', O, [[A, 'full']], [], 0, `fn op(x: f32) -> f32 { return ${UNARY_WGSL[op]}; }`);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor): void {
    if (!isBinary(op)) throw new InvalidValueError(`binary: unknown op "${String(op)}"`);
    const A = this.own(a, `binary ${op}`, 'a');
    const B = this.own(b, `binary ${op}`, 'b');
    const O = this.own(out, `binary ${op}`, 'out');
    checkOpShape(`binary ${op}`, 'b', B, A.rows, A.cols);
    checkOpShape(`binary ${op}`, 'out', O, A.rows, A.cols);
    this.elementwise(`b-${op}`, 'op(x0, x1)', O, [[A, 'full'], [B, 'full']], [], 0, `fn op(a: f32, b: f32) -> f32 { return ${BINARY_WGSL[op]}; }`);
  }

  axpby(alpha: number, x: Tensor, beta: number, y: Tensor, out: Tensor): void {
    const X = this.own(x, 'axpby', 'x');
    const Y = this.own(y, 'axpby', 'y');
    const O = this.own(out, 'axpby', 'out');
    checkOpFinite('axpby', 'alpha', alpha);
    checkOpFinite('axpby', 'beta', beta);
    checkOpShape('axpby', 'y', Y, X.rows, X.cols);
    checkOpShape('axpby', 'out', O, X.rows, X.cols);
    this.elementwise('axpby', 'P.f0 * x0 + P.f1 * x1', O, [[X, 'full'], [Y, 'full']], [alpha, beta]);
  }

  affine(a: Tensor, scale: number, shift: number, out: Tensor): void {
    const A = this.own(a, 'affine', 'a');
    const O = this.own(out, 'affine', 'out');
    checkOpFinite('affine', 'scale', scale);
    checkOpFinite('affine', 'shift', shift);
    checkOpShape('affine', 'out', O, A.rows, A.cols);
    this.elementwise('affine', 'P.f0 * x0 + P.f1', O, [[A, 'full']], [scale, shift]);
  }

  private broadcast(op: string, expression: string, a: Tensor, v: Tensor, out: Tensor, kind: 'row' | 'col'): void {
    const A = this.own(a, op, 'a');
    const V = this.own(v, op, kind);
    const O = this.own(out, op, 'out');
    checkOpShape(op, 'out', O, A.rows, A.cols);
    if (kind === 'col') checkOpShape(op, 'col', V, A.rows, 1);
    else checkOpShape(op, 'row', V, 1, A.cols);
    this.elementwise(op, expression, O, [[A, 'full'], [V, kind]]);
  }

  addRowVector(a: Tensor, row: Tensor, out: Tensor): void {
    this.broadcast('addRowVector', 'x0 + x1', a, row, out, 'row');
  }

  mulRowVector(a: Tensor, row: Tensor, out: Tensor): void {
    this.broadcast('mulRowVector', 'x0 * x1', a, row, out, 'row');
  }

  mulColVector(a: Tensor, col: Tensor, out: Tensor): void {
    this.broadcast('mulColVector', 'x0 * x1', a, col, out, 'col');
  }

  private groupOp(op: GroupOp, a: WebGpuTensor, out: WebGpuTensor, groupSize: number, key = 0): void {
    const groups = a.size / groupSize;
    const aliased = a === out;
    const { groups: grid, stride } = this.flatGrid(groups);
    this.dispatch(groupKernel(op, aliased), [groups, groupSize, key, stride], [], aliased ? [out.buffer] : [out.buffer, a.buffer], grid);
  }

  softmaxGroups(a: Tensor, groupSize: number, out: Tensor): void {
    const A = this.own(a, 'softmaxGroups', 'a');
    opGroupCount('softmaxGroups', A, groupSize);
    const O = this.own(out, 'softmaxGroups', 'out');
    checkOpShape('softmaxGroups', 'out', O, A.rows, A.cols);
    this.groupOp('softmax', A, O, groupSize);
  }

  logSumExpGroups(a: Tensor, groupSize: number, out: Tensor): void {
    const A = this.own(a, 'logSumExpGroups', 'a');
    const groups = opGroupCount('logSumExpGroups', A, groupSize);
    const O = this.own(out, 'logSumExpGroups', 'out');
    checkOpShape('logSumExpGroups', 'out', O, A.rows, groups);
    this.groupOp('logSumExp', A, O, groupSize);
  }

  // --- reductions --------------------------------------------------------------------------

  sumColumns(a: Tensor, out: Tensor, alpha = 1, beta = 0): void {
    const A = this.own(a, 'sumColumns', 'a');
    const O = this.own(out, 'sumColumns', 'out');
    checkOpFinite('sumColumns', 'alpha', alpha);
    checkOpFinite('sumColumns', 'beta', beta);
    checkOpShape('sumColumns', 'out', O, 1, A.cols);
    const source = this.detached(A, O);
    this.dispatch(sumColumnsKernel(beta !== 0), [A.rows, A.cols], [alpha, beta], [O.buffer, source.buffer], [Math.ceil(A.cols / 32)]);
  }

  sumRows(a: Tensor, out: Tensor): void {
    const A = this.own(a, 'sumRows', 'a');
    const O = this.own(out, 'sumRows', 'out');
    checkOpShape('sumRows', 'out', O, A.rows, 1);
    const source = this.detached(A, O);
    const x = Math.min(A.rows, MAX_GRID);
    this.dispatch(sumRowsKernel(), [A.rows, A.cols, 0, x], [], [O.buffer, source.buffer], [x, Math.ceil(A.rows / x)]);
  }

  /** Per-workgroup partials on the device (with a NaN flag each), finished on the host in float64. */
  reduce(op: ReduceOp, a: Tensor): Promise<number> {
    if (!REDUCE_OPS.includes(op)) return Promise.reject(new InvalidValueError(`reduce: unknown op "${String(op)}"`));
    const A = this.own(a, `reduce ${op}`, 'a');
    const groups = Math.min(Math.ceil(A.size / WORKGROUP), REDUCE_GROUPS);
    const partials = this.scratch('reduce', 1, 2 * groups);
    const identity = op === 'max' ? -Infinity : op === 'min' ? Infinity : 0;
    this.dispatch(reducePartialsKernel(op), [A.size, groups * WORKGROUP], [identity], [partials.buffer, A.buffer], [groups]);
    return this.stream.read(partials.buffer, partials.size * 4).then((bytes) => {
      const p = new Float32Array(bytes);
      let acc = op === 'max' ? -Infinity : op === 'min' ? Infinity : 0;
      for (let g = 0; g < groups; g++) {
        if (p[2 * g + 1] !== 0) return NaN;
        const x = p[2 * g]!;
        acc = op === 'max' ? Math.max(acc, x) : op === 'min' ? Math.min(acc, x) : acc + x;
      }
      return acc;
    });
  }

  // --- randomness --------------------------------------------------------------------------

  sampleBernoulli(p: Tensor | number, rng: RngState, out: Tensor): void {
    const O = this.own(out, 'sampleBernoulli', 'out');
    if (typeof p === 'number') {
      checkOpFinite('sampleBernoulli', 'p', p);
      this.elementwise('bernoulli-s', 'select(0.0, 1.0, uniform_at(P.u2, i) < P.f0)', O, [], [p], nextKey(rng));
    } else {
      const P = this.own(p, 'sampleBernoulli', 'p');
      checkOpShape('sampleBernoulli', 'p', P, O.rows, O.cols);
      this.elementwise('bernoulli-t', 'select(0.0, 1.0, uniform_at(P.u2, i) < x0)', O, [[P, 'full']], [], nextKey(rng));
    }
  }

  sampleGaussian(mean: Tensor, std: number | Tensor, rng: RngState, out: Tensor): void {
    const M = this.own(mean, 'sampleGaussian', 'mean');
    const O = this.own(out, 'sampleGaussian', 'out');
    checkOpShape('sampleGaussian', 'out', O, M.rows, M.cols);
    // element i draws uniforms 2i and 2i + 1
    if (2 * O.size > 0xffffffff) throw new ShapeError(`sampleGaussian: ${O.size} values exceed the 2^31 element indices of one random op`);
    if (typeof std === 'number') {
      checkOpFinite('sampleGaussian', 'std', std);
      this.elementwise('gauss-s', 'x0 + P.f0 * normal_at(P.u2, i)', O, [[M, 'full']], [std], nextKey(rng));
    } else {
      const S = this.own(std, 'sampleGaussian', 'std');
      checkOpShape('sampleGaussian', 'std', S, 1, O.cols);
      this.elementwise('gauss-t', 'x0 + x1 * normal_at(P.u2, i)', O, [[M, 'full'], [S, 'row']], [], nextKey(rng));
    }
  }

  sampleCategorical(p: Tensor, groupSize: number, rng: RngState, out: Tensor): void {
    const P = this.own(p, 'sampleCategorical', 'p');
    opGroupCount('sampleCategorical', P, groupSize);
    const O = this.own(out, 'sampleCategorical', 'out');
    checkOpShape('sampleCategorical', 'out', O, P.rows, P.cols);
    this.groupOp('categorical', P, O, groupSize, nextKey(rng));
  }

  uniform(rng: RngState, out: Tensor): void {
    const O = this.own(out, 'uniform', 'out');
    this.elementwise('uniform', 'uniform_at(P.u2, i)', O, [], [], nextKey(rng));
  }
}
