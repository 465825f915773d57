/**
 * Runs in the page (bundled by harness.ts): the shared float64-reference conformance suite on
 * the backend named by the page's `?suite=` (webgpu: the WGSL backend; webgl2: gpu.js's WebGL2
 * mode), under mocha's browser build, and publishes each test's outcome on `window` for the
 * Node-side test to report.
 */
import { describeBackendConformance } from '@boltzmann/tensor/testing';
import { WebGpuBackend } from '@boltzmann/backend-webgpu';
import { GpuBackend } from '@boltzmann/backend-gpu';

interface Outcome {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  error?: string;
  ms: number;
}

interface MochaRunner {
  on(event: string, listener: (test: { fullTitle(): string; duration?: number }, error?: Error) => void): MochaRunner;
}

interface PageWindow {
  mocha: { setup(options: object): void; run(): MochaRunner };
  __outcomes: Outcome[];
  __done: boolean;
  __backendNote: string;
}

const page = globalThis as unknown as PageWindow & { location: { search: string } };
const suite = new URLSearchParams(page.location.search).get('suite');
page.__outcomes = [];
page.__done = false;
page.mocha.setup({ ui: 'bdd', timeout: 120_000, reporter: function () {} });

if (suite === 'webgpu') {
  describeBackendConformance('WebGpuBackend (WGSL)', async () => {
    const be = await WebGpuBackend.create();
    page.__backendNote = `${be.name} on ${be.adapter.vendor} ${be.adapter.architecture}`.trim();
    return be;
  });
} else if (suite === 'webgl2') {
  // gpu.js compiles a shader per op and shape: the smaller product shapes its other modes use keep this quick
  const matmulShapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [3, 5, 7],
    [1, 129, 3],
    [129, 3, 1],
    [17, 129, 65],
  ];
  describeBackendConformance(
    'GpuBackend webgl2 (gpu.js)',
    () => {
      const be = new GpuBackend({ mode: 'webgl2' });
      page.__backendNote = `${be.name}, random strategy ${be.randomStrategy.strategy}`;
      return be;
    },
    { matmulShapes },
  );
} else {
  throw new Error(`unknown suite "${suite}"`);
}

page.mocha
  .run()
  .on('pass', (t) => page.__outcomes.push({ title: t.fullTitle(), state: 'passed', ms: t.duration ?? 0 }))
  .on('fail', (t, e) => page.__outcomes.push({ title: t.fullTitle(), state: 'failed', error: `${e?.message ?? e}`, ms: t.duration ?? 0 }))
  .on('pending', (t) => page.__outcomes.push({ title: t.fullTitle(), state: 'pending', ms: 0 }))
  .on('end', () => {
    page.__done = true;
  });
