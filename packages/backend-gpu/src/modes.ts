/**
 * Which gpu.js modes work on this machine. A mode counts as working only when a tiny kernel
 * really compiled, ran in that mode (no silent fallback to cpu) and returned the right numbers.
 * Results are cached per process. WebGPU can only be proven asynchronously (an adapter answers
 * through a Promise), so it has an asynchronous probe; the others are probed synchronously.
 */
import { gpujs, kernelMode, type CompiledKernel, type GpuInstance } from './gpujs.js';
import { deviceStore, flattenResult, hostArgument } from './tensor-store.js';
import { acquireWebGpuGlobals, releaseWebGpuGlobals, webGpuPrerequisite } from './webgpu-globals.js';

/** A gpu.js mode this backend can run on (webgl2: a browser's WebGL2, headlessgl: Node's `gl` package). */
export type GpuMode = 'webgpu' | 'webgl2' | 'headlessgl' | 'webasm' | 'cpu';

/** A mode to ask for: one of them, or `auto` (the first that works, in `AUTO_ORDER`). */
export type GpuModeOption = 'auto' | GpuMode;

/** Best first: where `auto` looks. */
export const AUTO_ORDER: readonly GpuMode[] = ['webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu'];

/** The outcome of probing one mode. */
export interface ModeProbe {
  readonly mode: GpuMode;
  readonly ok: boolean;
  /** Why it does not work (empty when it does). */
  readonly reason: string;
}

const syncResults = new Map<GpuMode, ModeProbe>();
let webGpuResult: ModeProbe | undefined;
let webGpuPending: Promise<ModeProbe> | undefined;

const PROBE_SOURCE = 'function(a) {\n  return a[this.thread.y][this.thread.x] * 2 + 1;\n}';
const PROBE_INPUT = new Float32Array([0, 1.5, -2, 3]);

function probeMatches(values: Float32Array): boolean {
  return values.length === PROBE_INPUT.length && values.every((v, i) => v === PROBE_INPUT[i]! * 2 + 1);
}

function modeSupported(mode: Exclude<GpuMode, 'webgpu'>): string | undefined {
  if (mode === 'webasm' && !gpujs.WebAssemblyKernel.isSupported) return 'WebAssembly is not available in this JavaScript engine';
  if (mode === 'headlessgl' && !gpujs.HeadlessGLKernel.isSupported) return 'the "gl" package (headless WebGL) is not installed or cannot create a context';
  if (mode === 'webgl2' && !gpujs.WebGL2Kernel.isSupported) return 'WebGL2 is not available (it exists in browsers only)';
  return undefined;
}

function describe(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/** Runs the tiny kernel synchronously in `mode`; the reason it failed, or undefined. */
function runSyncProbe(mode: Exclude<GpuMode, 'webgpu'>): string | undefined {
  const unsupported = modeSupported(mode);
  if (unsupported) return unsupported;
  let gpu: GpuInstance | undefined;
  let kernel: CompiledKernel | undefined;
  try {
    gpu = new gpujs.GPU({ mode });
    const pipeline = mode === 'headlessgl' || mode === 'webgl2';
    kernel = gpu.createKernel(PROBE_SOURCE, { output: [4, 1], pipeline, immutable: true, precision: 'single', tactic: 'precision' });
    const result = kernel(hostArgument(PROBE_INPUT, 1, 4));
    const ran = kernelMode(kernel);
    if (ran !== mode) return `gpu.js ran the probe kernel in mode "${ran}" instead (${kernel.kernel.fallbackReason ?? 'no reason given'})`;
    const values = pipeline ? deviceStore(true).readSync(deviceStore(true).adopt(result, 1, 4), 1, 4) : flattenResult(result, 1, 4);
    if (!probeMatches(values)) return `the probe kernel returned wrong values [${Array.from(values).join(', ')}]`;
    return undefined;
  } catch (e) {
    return describe(e);
  } finally {
    try {
      kernel?.destroy();
      void gpu?.destroy();
    } catch {
      // a failed probe may leave nothing to clean up
    }
  }
}

/**
 * Probes a synchronous mode (cached). For webgpu it answers from the asynchronous probe when
 * that has settled, else only whether WebGPU is reachable at all (see `probeGpuMode`).
 */
export function probeModeSync(mode: GpuMode): ModeProbe {
  if (mode === 'webgpu') {
    if (webGpuResult) return webGpuResult;
    const missing = webGpuPrerequisite();
    return { mode, ok: false, reason: missing ?? 'not probed yet: a WebGPU adapter can only be checked asynchronously (await probeGpuMode("webgpu") or GpuBackend.create())' };
  }
  let result = syncResults.get(mode);
  if (!result) {
    const reason = runSyncProbe(mode);
    result = { mode, ok: reason === undefined, reason: reason ?? '' };
    syncResults.set(mode, result);
  }
  return result;
}

/**
 * Cheap availability answer for the registry: the settled WebGPU probe when there is one, else
 * whether WebGPU is reachable at all (the adapter itself is checked when a backend starts).
 */
export function modeAvailable(mode: GpuMode): boolean {
  if (mode !== 'webgpu') return probeModeSync(mode).ok;
  return webGpuResult ? webGpuResult.ok : webGpuPrerequisite() === undefined;
}

/** The settled WebGPU probe, if it ran. */
export function settledWebGpuProbe(): ModeProbe | undefined {
  return webGpuResult;
}

/** Destroys gpu.js's shared WebGPU device (the module singleton every webgpu kernel uses). */
export async function destroyWebGpuDevice(): Promise<void> {
  const context = (gpujs as unknown as { WebGPUContext?: { destroy(): Promise<void> } }).WebGPUContext;
  await context?.destroy();
}

async function runWebGpuProbe(): Promise<ModeProbe> {
  const missing = acquireWebGpuGlobals();
  if (missing) return { mode: 'webgpu', ok: false, reason: missing };
  let gpu: GpuInstance | undefined;
  let kernel: CompiledKernel | undefined;
  try {
    if (!gpujs.WebGPUKernel.isSupported) return { mode: 'webgpu', ok: false, reason: 'navigator.gpu is missing' };
    gpu = new gpujs.GPU({ mode: 'webgpu' });
    kernel = gpu.createKernel(PROBE_SOURCE, { output: [4, 1], pipeline: true, immutable: true, precision: 'single' });
    const store = deviceStore(false);
    const handle = store.adopt(await kernel(hostArgument(PROBE_INPUT, 1, 4)), 1, 4);
    const values = await store.read(handle, 1, 4);
    store.release(handle);
    if (!probeMatches(values)) return { mode: 'webgpu', ok: false, reason: `the probe kernel returned wrong values [${Array.from(values).join(', ')}]` };
    return { mode: 'webgpu', ok: true, reason: '' };
  } catch (e) {
    return { mode: 'webgpu', ok: false, reason: describe(e) };
  } finally {
    try {
      kernel?.destroy();
      await gpu?.destroy();
    } catch {
      // nothing more to free
    }
    await releaseWebGpuGlobals(destroyWebGpuDevice);
  }
}

/** Probes one mode, WebGPU included (a real adapter, device and kernel run); cached. */
export function probeGpuMode(mode: GpuMode): Promise<ModeProbe> {
  if (mode !== 'webgpu') return Promise.resolve(probeModeSync(mode));
  if (webGpuResult) return Promise.resolve(webGpuResult);
  webGpuPending ??= runWebGpuProbe().then((r) => (webGpuResult = r));
  return webGpuPending;
}

/** Probes every mode, best first. */
export function probeGpuModes(): Promise<ModeProbe[]> {
  return Promise.all(AUTO_ORDER.map((m) => probeGpuMode(m)));
}
