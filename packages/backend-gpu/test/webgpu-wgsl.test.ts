/**
 * The webgpu mode without a GPU: every kernel the backend uses is translated to WGSL by gpu.js's
 * own WebGPUKernel (its synchronous build half), then run in wgsl_reflect's WGSL interpreter with
 * the params buffer laid out exactly as WebGPUKernel._runInternal lays it out, and compared with
 * the same kernel on webasm. This checks the translation, the bindings and the params layout the
 * device would see. It needs the dev package `wgsl_reflect` and is skipped, saying so, without it.
 */
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { CounterRng, uniformAt } from '@boltzmann/tensor';
import { gpujs } from '../src/gpujs.js';
import * as K from '../src/kernel-sources.js';
import { splitKey } from '../src/random-kernels.js';

type Arg = { kind: 'tensor' | 'host'; rows: number; cols: number; data: Float32Array } | { kind: 'scalar'; value: number };

interface ParamsLayout {
  byteLength: number;
  arrayArgs: Array<{ index: number; dimsOffset: number }>;
  scalarArgs: Array<{ index: number; offset: number; type: string }>;
}

/** gpu.js's WebGPUKernel, as far as this test reaches into it (not part of gpu.js's typings). */
interface WebGpuKernelInternals {
  build(...args: unknown[]): Promise<void>;
  readonly compiledSource: string;
  readonly paramsLayout: ParamsLayout;
}

interface WgslModule {
  WgslParser: new () => { parse(source: string): unknown };
  WgslExec: new (ast: unknown) => { dispatchWorkgroups(entry: string, groups: number[], bindGroups: Record<string, Record<string, unknown>>): void };
}

const require = createRequire(import.meta.url);
let wgsl: WgslModule | undefined;
let missing = '';
try {
  wgsl = require('wgsl_reflect') as WgslModule;
} catch (e) {
  missing = (e as Error).message.split('\n')[0]!;
}

const WebGPUKernel = (gpujs as unknown as { WebGPUKernel: new (source: string, settings: object) => WebGpuKernelInternals }).WebGPUKernel;

function settingsOf(spec: K.KernelSpec, pipeline: boolean): Record<string, unknown> {
  const s: Record<string, unknown> = { output: [spec.cols, spec.rows], pipeline, immutable: true, precision: 'single', tactic: 'precision', loopMaxIterations: (spec.loopMax ?? 0) + 1 };
  if (spec.constants) s.constants = { ...spec.constants };
  if (spec.functions) s.functions = [...spec.functions];
  return s;
}

function onWebasm(spec: K.KernelSpec, args: Arg[]): Float32Array {
  const gpu = new gpujs.GPU({ mode: 'webasm' });
  try {
    const k = gpu.createKernel(spec.source, settingsOf(spec, false) as never);
    const rows = k(...args.map((a) => (a.kind === 'scalar' ? a.value : gpujs.input(a.data, [a.cols, a.rows])))) as Float32Array[];
    const out = new Float32Array(spec.rows * spec.cols);
    rows.forEach((row, i) => out.set(row, i * spec.cols));
    return out;
  } finally {
    void gpu.destroy();
  }
}

function onWgslInterpreter(w: WgslModule, spec: K.KernelSpec, args: Arg[]): Float32Array {
  const kernel = new WebGPUKernel(spec.source, settingsOf(spec, true));
  // device-resident tensors reach the kernel as WebGPUBufferResult handles
  const asPassed = args.map((a) => (a.kind === 'scalar' ? a.value : a.kind === 'tensor' ? { type: 'WebGPUBuffer', output: [a.cols, a.rows], componentCount: 1 } : gpujs.input(a.data, [a.cols, a.rows])));
  // translation is synchronous; the device half rejects here (no navigator.gpu), which is expected
  kernel.build(...asPassed).catch(() => {});
  const layout = kernel.paramsLayout;
  const params = new ArrayBuffer(layout.byteLength);
  const u32 = new Uint32Array(params);
  const f32 = new Float32Array(params);
  const i32 = new Int32Array(params);
  u32.set([spec.cols, spec.rows, 1, 0]);
  const bindings: Record<string, unknown> = { 0: params };
  layout.arrayArgs.forEach((record, i) => {
    const a = args[record.index] as Exclude<Arg, { kind: 'scalar' }>;
    u32.set([a.cols, a.rows, 1, a.cols * a.rows], record.dimsOffset / 4);
    bindings[String(1 + i)] = a.data.slice();
  });
  for (const record of layout.scalarArgs) {
    const v = (args[record.index] as { value: number }).value;
    if (record.type === 'Integer') i32[record.offset / 4] = v;
    else f32[record.offset / 4] = v;
  }
  const out = new Float32Array(spec.rows * spec.cols);
  bindings[String(1 + layout.arrayArgs.length)] = out;
  const exec = new w.WgslExec(new w.WgslParser().parse(kernel.compiledSource));
  exec.dispatchWorkgroups('main', [Math.ceil(spec.cols / 8), Math.ceil(spec.rows / 8), 1], { 0: bindings });
  return out;
}

const rng = new CounterRng(17);
function tensor(rows: number, cols: number, lo = -2, hi = 2): Arg {
  const data = new Float32Array(rows * cols);
  rng.uniforms(data);
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * data[i]!;
  return { kind: 'tensor', rows, cols, data };
}
const host = (rows: number, cols: number, data: Float32Array): Arg => ({ kind: 'host', rows, cols, data });
const scalar = (value: number): Arg => ({ kind: 'scalar', value });
const key = 0x9e3779b9;
const [kh, kl] = splitKey(key);
const uniforms = (n: number) => Float32Array.from({ length: n }, (_, i) => uniformAt(key, i));
function probabilities(rows: number, groups: number, size: number): Arg {
  const t = tensor(rows, groups * size, 0.05, 1) as { data: Float32Array };
  for (let g = 0; g < rows * groups; g++) {
    let s = 0;
    for (let j = 0; j < size; j++) s += t.data[g * size + j]!;
    for (let j = 0; j < size; j++) t.data[g * size + j]! /= s;
  }
  return { kind: 'tensor', rows, cols: groups * size, data: t.data };
}

const cases: Array<[string, K.KernelSpec, Arg[]]> = [
  ['fill', K.fillKernel(3, 5), [scalar(2.5)]],
  ['copy', K.copyKernel(3, 5), [tensor(3, 5)]],
  ['upload', K.copyKernel(3, 5), [host(3, 5, Float32Array.from({ length: 15 }, (_, i) => i))]],
  ['gatherRows', K.gatherRowsKernel(2, 4, 3), [tensor(4, 3), host(1, 2, new Float32Array([3, 1]))]],
  ['axpby', K.axpbyKernel(3, 5), [scalar(0.9), tensor(3, 5), scalar(-0.05), tensor(3, 5)]],
  ['affine', K.affineKernel(3, 5), [tensor(3, 5), scalar(-3), scalar(0.5)]],
  ['addRowVector', K.broadcastKernel('addRow', 3, 5), [tensor(3, 5), tensor(1, 5)]],
  ['mulRowVector', K.broadcastKernel('mulRow', 3, 5), [tensor(3, 5), tensor(1, 5)]],
  ['mulColVector', K.broadcastKernel('mulCol', 3, 5), [tensor(3, 5), tensor(3, 1)]],
  ['logSumExp groups of 3', K.logSumExpKernel(3, 6, 3), [tensor(3, 6, -20, 20)]],
  ['softmax groups of 3', K.softmaxKernel(3, 6, 3), [tensor(3, 6, -5, 5), tensor(3, 2, 0, 3)]],
  ['sumColumns', K.sumColumnsKernel(4, 3, false), [tensor(4, 3), scalar(0.5)]],
  ['sumColumns accumulating', K.sumColumnsKernel(4, 3, true), [tensor(4, 3), scalar(0.5), tensor(1, 3), scalar(2)]],
  ['uniform, emulated hash', K.uniformKernel(2, 9, 'emulated'), [scalar(kh), scalar(kl)]],
  ['uniform, host uniforms', K.uniformKernel(2, 9, 'host'), [host(2, 9, uniforms(18))]],
  ['bernoulli, emulated, p tensor', K.bernoulliKernel(2, 9, true, 'emulated'), [tensor(2, 9, 0, 1), scalar(kh), scalar(kl)]],
  ['bernoulli, host, p scalar', K.bernoulliKernel(2, 9, false, 'host'), [scalar(0.3), host(2, 9, uniforms(18))]],
  ['gaussian, emulated, std row', K.gaussianKernel(2, 5, true, 'emulated'), [tensor(2, 5), tensor(1, 5, 0.5, 2), scalar(kh), scalar(kl)]],
  ['gaussian, host, std scalar', K.gaussianKernel(2, 5, false, 'host'), [tensor(2, 5), scalar(1.5), host(2, 10, uniforms(20))]],
  ['categorical choice, emulated', K.categoricalChoiceKernel(3, 6, 3, 'emulated'), [probabilities(3, 2, 3), scalar(kh), scalar(kl)]],
  ['categorical choice, host', K.categoricalChoiceKernel(3, 6, 3, 'host'), [probabilities(3, 2, 3), host(3, 2, uniforms(6))]],
  ['categorical one-hot', K.categoricalExpandKernel(3, 6, 3), [{ kind: 'tensor', rows: 3, cols: 2, data: new Float32Array([0, 2, 1, 1, 2, 0]) }]],
];
for (const ta of [false, true]) {
  for (const tb of [false, true]) {
    const a = () => tensor(ta ? 4 : 3, ta ? 3 : 4);
    const b = () => tensor(tb ? 5 : 4, tb ? 4 : 5);
    cases.push([`matmul ta=${ta} tb=${tb}`, K.matmulKernel(3, 4, 5, ta, tb, false), [a(), b(), scalar(1.5)]]);
    cases.push([`matmul ta=${ta} tb=${tb} accumulating`, K.matmulKernel(3, 4, 5, ta, tb, true), [a(), b(), scalar(-0.5), tensor(3, 5), scalar(1)]]);
  }
}
for (const activation of ['identity', 'sigmoid', 'relu', 'softplus', 'tanh'] as const) {
  const tw = activation === 'tanh' || activation === 'relu';
  cases.push([`linear ${activation}${tw ? ', W transposed' : ''}`, K.linearKernel(3, 4, 5, tw, activation), [tensor(3, 4), tensor(tw ? 5 : 4, tw ? 4 : 5), tensor(1, 5)]]);
}
for (const op of ['identity', 'sigmoid', 'softplus', 'relu', 'exp', 'log', 'tanh', 'neg', 'square', 'sqrt', 'abs', 'sign', 'reciprocal'] as const) {
  const positive = op === 'log' || op === 'sqrt' || op === 'reciprocal';
  cases.push([`unary ${op}`, K.unaryKernel(op, 3, 5), [tensor(3, 5, positive ? 0.1 : -3, 3)]]);
}
for (const op of ['add', 'sub', 'mul', 'div', 'max', 'min'] as const) cases.push([`binary ${op}`, K.binaryKernel(op, 3, 5), [tensor(3, 5), tensor(3, 5, 0.5, 2)]]);
for (const op of ['sumRows', 'sum', 'sumSquares', 'sumAbs', 'max', 'min'] as const) cases.push([`row reduction ${op}`, K.rowReduceKernel(op, 4, 3), [tensor(4, 3)]]);

describe('webgpu mode: every kernel as gpu.js translates it to WGSL, interpreted on the CPU', function () {
  if (!wgsl) {
    it.skip(`all kernels (dev package wgsl_reflect is not installed: ${missing})`, function () {});
    return;
  }
  const w = wgsl;
  for (const [name, spec, args] of cases) {
    it(name, function () {
      const want = onWebasm(spec, args);
      const got = onWgslInterpreter(w, spec, args);
      for (let i = 0; i < want.length; i++) {
        expect(Math.abs(got[i]! - want[i]!), `${name}: element ${i} is ${got[i]}, webasm gives ${want[i]}`).to.be.at.most(2e-6 * (1 + Math.abs(want[i]!)));
      }
    });
  }
});
