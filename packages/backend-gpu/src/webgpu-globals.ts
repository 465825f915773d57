/**
 * gpu.js finds WebGPU through the browser global `navigator.gpu`. Node has none, so in Node it
 * comes from the `webgpu` package (Dawn's node binding), loaded on demand by the loader that
 * the package's Node entry registers (dawn-node.ts; browsers never load it). Dawn keeps the
 * process alive while a `navigator.gpu` it created is referenced, so the global is reference
 * counted: installed by the first user, removed (and the shared device destroyed) by the last.
 */
/** What Dawn's node binding exports. */
export interface DawnBinding {
  create(flags: string[]): object;
  globals: Record<string, unknown>;
}

interface NavigatorLike {
  gpu?: object;
}

type GlobalWithNavigator = typeof globalThis & { navigator?: NavigatorLike };

let binding: DawnBinding | undefined;
let bindingError: string | undefined;
let users = 0;
/** What we installed, so release() undoes exactly that. */
let installed: 'navigator' | 'gpu' | undefined;
let dawnLoader: (() => DawnBinding) | undefined;

/** Registers how to load Dawn where the environment has no `navigator.gpu` (the Node entry does). */
export function provideDawnLoader(loader: () => DawnBinding): void {
  dawnLoader = loader;
}

/** Loads Dawn's node binding once; the reason it failed otherwise. */
function loadDawn(): DawnBinding | string {
  if (binding) return binding;
  if (bindingError !== undefined) return bindingError;
  if (dawnLoader === undefined) return 'this environment has no WebGPU (navigator.gpu)';
  try {
    binding = dawnLoader();
    return binding;
  } catch (e) {
    bindingError = `the "webgpu" package (Dawn) does not load: ${(e as Error).message.split('\n')[0]}`;
    return bindingError;
  }
}

/** Whether WebGPU is already provided by the environment (a browser, or a polyfilled Node). */
function environmentHasWebGpu(): boolean {
  return Boolean((globalThis as GlobalWithNavigator).navigator?.gpu) && installed === undefined;
}

/**
 * Cheap, side-effect-free check that WebGPU could be reached at all: `navigator.gpu` exists or
 * Dawn's binding loads. Says nothing about an adapter; the asynchronous probe does.
 * Returns undefined when reachable, else the reason.
 */
export function webGpuPrerequisite(): string | undefined {
  if (environmentHasWebGpu() || installed !== undefined) return undefined;
  const dawn = loadDawn();
  return typeof dawn === 'string' ? dawn : undefined;
}

/** Installs `navigator.gpu` (if the environment lacks it) for one more user; the reason on failure. */
export function acquireWebGpuGlobals(): string | undefined {
  if (environmentHasWebGpu()) return undefined;
  if (installed === undefined) {
    const dawn = loadDawn();
    if (typeof dawn === 'string') return dawn;
    const g = globalThis as GlobalWithNavigator;
    for (const [name, value] of Object.entries(dawn.globals)) {
      if (!(name in g)) Object.defineProperty(g, name, { value, configurable: true, writable: true });
    }
    const gpu = dawn.create([]);
    if (g.navigator === undefined) {
      Object.defineProperty(g, 'navigator', { value: { gpu }, configurable: true, writable: true });
      installed = 'navigator';
    } else {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
      installed = 'gpu';
    }
  }
  users++;
  return undefined;
}

/**
 * One user is done. The last one destroys gpu.js's shared device and removes the global we
 * installed, so Node can exit.
 */
export async function releaseWebGpuGlobals(destroyDevice: () => Promise<void>): Promise<void> {
  if (installed === undefined) return;
  users = Math.max(0, users - 1);
  if (users > 0) return;
  await destroyDevice();
  if (users > 0) return; // someone acquired again while the device was going down
  const g = globalThis as GlobalWithNavigator;
  if (installed === 'navigator') delete (g as { navigator?: NavigatorLike }).navigator;
  else if (g.navigator) delete (g.navigator as NavigatorLike).gpu;
  installed = undefined;
}
