/**
 * WebGPU benchmarks (bench/webgpu-bench.ts): sgemm 4096^3 per matmul tile, and the 784 x 500
 * CD-1 epoch at batch 100 and 1000 (raw step and core Trainer), one JSON line per result.
 *
 *   npx tsx bench/webgpu.ts                 # Node, through the `webgpu` package (Dawn)
 *   npx tsx bench/webgpu.ts --browser       # the same code in headless Chromium on the GPU
 *   npx tsx bench/webgpu.ts --browser --swiftshader --small   # plumbing check without a GPU
 *
 * --small shrinks everything (sgemm 512, 6,000 rows, one epoch) for a quick check. In the browser
 * the GPU flags are Chromium's Vulkan path (--use-angle=vulkan --enable-features=Vulkan);
 * BOLTZMANN_CHROMIUM=/path/to/chrome picks another Chromium. Where Dawn finds no adapter the
 * Node run prints one line saying why (then try --browser on the same machine).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WEBGPU_BENCH, runWebGpuBench, type WebGpuBenchOptions } from './webgpu-bench.js';

const argv = process.argv.slice(2);
const small = argv.includes('--small');
const options: WebGpuBenchOptions = small ? { gemmSize: 512, gemmReps: 3, rows: 6000, batches: [100, 1000], epochs: 1, rawOnly: false } : DEFAULT_WEBGPU_BENCH;
const print = (line: object): void => console.log(JSON.stringify(line));

if (!argv.includes('--browser')) {
  try {
    await runWebGpuBench(print, options, 'node (dawn)');
  } catch (e) {
    print({ bench: 'webgpu', where: 'node (dawn)', error: (e as Error).message });
    process.exitCode = 1;
  }
} else {
  const { bundle, serve } = await import('../examples/browser/src/bundle.js');
  const { launchChromium, GPU_FLAGS } = await import('../test/browser/harness.js');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const script = await bundle(path.join(here, 'webgpu-page.ts'), { BENCH_OPTIONS: JSON.stringify(options) });
  const server = await serve({ 'index.html': '<!doctype html><meta charset="utf-8"><script type="module" src="bench.js"></script>', 'bench.js': script });
  const swiftshader = argv.includes('--swiftshader');
  // on a GPU machine: Vulkan instead of SwiftShader
  const gpuArgs = swiftshader ? [] : ['--use-angle=vulkan', '--use-vulkan', '--enable-gpu', '--ignore-gpu-blocklist'];
  const browser = await launchChromium(swiftshader ? undefined : { replace: GPU_FLAGS.filter((f) => !f.includes('swiftshader')).concat(gpuArgs) });
  try {
    const page = await browser.newPage();
    let finished = false;
    page.on('console', (m) => {
      const text = m.text();
      if (text === 'BENCH DONE') finished = true;
      else if (text.startsWith('{')) console.log(text);
      else console.error(`page: ${text}`);
    });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(server.url('index.html'));
    while (!finished) await page.waitForTimeout(500);
  } finally {
    await browser.close();
    await server.close();
  }
}
