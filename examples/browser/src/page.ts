/**
 * The page: trains a Bernoulli RBM on the bundled digits (served as digits.bin by server.ts) on
 * the best backend this browser has - WebGPU (WGSL), else gpu.js on WebGL2, else the CPU backend
 * (TypeScript kernels) - and shows live filters, samples and the reconstruction error per epoch,
 * with pause/resume and a download of the model file that `boltzmann evaluate` reads.
 *
 * Query parameters: backend=webgpu|webgl2|cpu (force one), rows (training digits, default all
 * served), hidden (default 100), epochs (default 20), batch (default 50), seed (default 1),
 * sampleSteps (Gibbs sweeps per shown sample, default 50).
 */
import { CpuBackend } from '@boltzmann/backend-cpu';
import { GpuBackend } from '@boltzmann/backend-gpu';
import { WebGpuBackend } from '@boltzmann/backend-webgpu';
import { RBM, Trainer, encodeModel } from '@boltzmann/core';
import { Matrix, type Backend } from '@boltzmann/tensor';

/** What the page exposes for scripts and the end-to-end test. */
export interface DemoState {
  backend: string;
  epochs: number;
  errors: number[];
  done: boolean;
  /** True while training is paused and the loop is waiting for resume. */
  waiting: boolean;
  failure?: string;
  /** The model file's bytes (binary, FORMAT.md), as the download button saves them. */
  modelBytes(): Promise<Uint8Array>;
  /** Free energies of the first `n` training digits under the current model. */
  freeEnergies(n: number): Promise<number[]>;
}

interface DomElement {
  textContent: string | null;
  disabled?: boolean;
  addEventListener(type: string, f: () => void): void;
}
interface Canvas2D {
  createImageData(w: number, h: number): { data: Uint8ClampedArray };
  putImageData(img: { data: Uint8ClampedArray }, x: number, y: number): void;
  clearRect(x: number, y: number, w: number, h: number): void;
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  stroke(): void;
  fillText(t: string, x: number, y: number): void;
  strokeStyle: string;
  fillStyle: string;
  lineWidth: number;
  font: string;
}
interface CanvasElement extends DomElement {
  width: number;
  height: number;
  getContext(kind: '2d'): Canvas2D;
}
interface PageGlobals {
  document: {
    getElementById(id: string): DomElement | null;
    createElement(tag: string): DomElement & { href: string; download: string; click(): void; remove(): void };
    body: { appendChild(e: object): void };
  };
  location: { search: string };
  URL: { createObjectURL(b: unknown): string; revokeObjectURL(u: string): void };
  Blob: new (parts: Uint8Array[], options: { type: string }) => unknown;
  __demo?: DemoState;
}

const page = globalThis as unknown as PageGlobals;
const params = new URLSearchParams(page.location.search);
const option = (name: string, fallback: number): number => {
  const v = params.get(name);
  const n = v === null ? fallback : Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`query parameter ${name} must be a positive integer, got ${v}`);
  return n;
};
const el = (id: string): DomElement => {
  const e = page.document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e;
};
const canvas = (id: string): CanvasElement => el(id) as CanvasElement;

/** The best backend available, or the one asked for; with a label saying which. */
async function chooseBackend(wanted: string | null): Promise<{ backend: Backend; label: string; notes: string[] }> {
  const notes: string[] = [];
  if (wanted === null || wanted === 'webgpu') {
    try {
      const be = await WebGpuBackend.create();
      const where = [be.adapter.vendor, be.adapter.architecture].filter(Boolean).join(' ');
      return { backend: be, label: `WebGPU (WGSL kernels${where ? ` on ${where}` : ''})`, notes };
    } catch (e) {
      notes.push(`WebGPU: ${(e as Error).message}`);
    }
  }
  if (wanted === null || wanted === 'webgl2') {
    try {
      return { backend: new GpuBackend({ mode: 'webgl2' }), label: 'gpu.js on WebGL2', notes };
    } catch (e) {
      notes.push(`WebGL2: ${(e as Error).message}`);
    }
  }
  return { backend: new CpuBackend({ precision: 'float32' }), label: 'CPU (TypeScript/WebAssembly kernels)', notes };
}

/** Draws `count` rows of `m` (each a 28x28 image, min-max scaled per image) as a grid. */
function drawImages(target: CanvasElement, m: Matrix, count: number, columns: number): void {
  const size = 28;
  const scale = 2;
  const rows = Math.ceil(count / columns);
  target.width = columns * (size * scale + 2);
  target.height = rows * (size * scale + 2);
  const ctx = target.getContext('2d');
  for (let k = 0; k < count; k++) {
    const img = ctx.createImageData(size * scale, size * scale);
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = 0; p < size * size; p++) {
      const v = m.get(k, p);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const span = hi - lo || 1;
    for (let y = 0; y < size * scale; y++) {
      for (let x = 0; x < size * scale; x++) {
        const g = Math.round((255 * (m.get(k, Math.floor(y / scale) * size + Math.floor(x / scale)) - lo)) / span);
        const o = 4 * (y * size * scale + x);
        img.data[o] = img.data[o + 1] = img.data[o + 2] = g;
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, (k % columns) * (size * scale + 2), Math.floor(k / columns) * (size * scale + 2));
  }
}

/** The reconstruction error per epoch as a line chart. */
function drawChart(target: CanvasElement, errors: number[]): void {
  const ctx = target.getContext('2d');
  const w = target.width;
  const h = target.height;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#333';
  ctx.font = '12px sans-serif';
  ctx.fillText('reconstruction error per epoch', 8, 14);
  if (errors.length === 0) return;
  const hi = Math.max(...errors);
  const lo = Math.min(...errors);
  const span = hi - lo || hi || 1;
  ctx.strokeStyle = '#1565c0';
  ctx.lineWidth = 2;
  ctx.beginPath();
  errors.forEach((e, i) => {
    const x = 30 + ((w - 40) * i) / Math.max(1, errors.length - 1);
    const y = h - 20 - ((h - 50) * (e - lo)) / span;
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillText(hi.toFixed(4), 2, 32);
  ctx.fillText(lo.toFixed(4), 2, h - 6);
}

async function main(): Promise<void> {
  const hidden = option('hidden', 100);
  const epochs = option('epochs', 20);
  const batchSize = option('batch', 50);
  const seed = option('seed', 1);
  const sampleSteps = option('sampleSteps', 50);
  const bytes = new Uint8Array(await (await fetch('digits.bin')).arrayBuffer());
  const available = bytes.length / 784;
  const rows = Math.min(option('rows', available), available);
  const pixels = new Float32Array(rows * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = bytes[i]! / 255;
  const data = new Matrix(rows, 784, pixels);

  const { backend, label, notes } = await chooseBackend(params.get('backend'));
  el('backend').textContent = `Backend: ${label}${notes.length ? ` (passed over: ${notes.join('; ')})` : ''}`;
  const rbm = RBM.create(backend, { visible: 784, hidden, seed });
  const trainer = new Trainer(rbm, { seed, batchSize });
  const state: DemoState = {
    backend: label,
    epochs: 0,
    errors: [],
    done: false,
    waiting: false,
    modelBytes: () => encodeModel(rbm, trainer),
    freeEnergies: async (n) => Array.from(await rbm.freeEnergyOf(data.sliceRows(0, Math.min(n, rows)))),
  };
  page.__demo = state;

  let paused = false;
  let wake: (() => void) | undefined;
  const pause = el('pause');
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) wake?.();
  });
  const download = el('download');
  download.disabled = false;
  download.addEventListener('click', () => {
    void state.modelBytes().then((bytes) => {
      const url = page.URL.createObjectURL(new page.Blob([bytes], { type: 'application/octet-stream' }));
      const a = page.document.createElement('a');
      a.href = url;
      a.download = 'rbm-digits.json';
      page.document.body.appendChild(a);
      a.click();
      a.remove();
      // revoked later: the browser reads the blob after the click returns
      setTimeout(() => page.URL.revokeObjectURL(url), 60_000);
    }, (e: unknown) => {
      el('status').textContent = `download failed: ${e instanceof Error ? e.message : String(e)}`;
    });
  });

  drawImages(canvas('data'), data, Math.min(16, rows), 8);
  el('samples-caption').textContent = `samples (${sampleSteps} Gibbs sweeps from noise)`;
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (paused) {
      state.waiting = true;
      el('status').textContent = `paused after epoch ${state.epochs}`;
      await new Promise<void>((resolve) => (wake = resolve));
      state.waiting = false;
    }
    // one epoch per call: the trainer keeps its position, so this is one run, pausable between epochs
    const [report] = await trainer.fit(data, { epochs: 1, monitor: { pseudoLikelihood: false, rows: Math.min(200, rows) } });
    state.errors.push(report!.reconstructionError);
    state.epochs = report!.epoch;
    el('status').textContent = `epoch ${report!.epoch} of ${epochs}: reconstruction error ${report!.reconstructionError.toFixed(5)}`;
    drawChart(canvas('chart'), state.errors);
    const weights = await backend.read(rbm.parameters.find((p) => p.role === 'weights')!.tensor);
    drawImages(canvas('filters'), weights.transpose(), Math.min(hidden, 32), 8);
    drawImages(canvas('samples'), await rbm.sample(16, { steps: sampleSteps }), 16, 8);
  }
  state.done = true;
  el('status').textContent = `done: ${state.epochs} epochs, reconstruction error ${state.errors.at(-1)!.toFixed(5)}`;
}

main().catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  page.__demo = { ...(page.__demo ?? { backend: '', epochs: 0, errors: [], waiting: false, modelBytes: async () => new Uint8Array(0), freeEnergies: async () => [] }), done: true, failure: message };
  el('status').textContent = `failed: ${message}`;
});
