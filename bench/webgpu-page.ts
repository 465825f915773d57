/** The browser side of bench/webgpu.ts: runs the benchmarks and logs each JSON line. */
import { runWebGpuBench, type WebGpuBenchOptions } from './webgpu-bench.js';

declare const BENCH_OPTIONS: WebGpuBenchOptions;

runWebGpuBench((line) => console.log(JSON.stringify(line)), BENCH_OPTIONS, `browser (${navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? 'unknown'})`)
  .catch((e: unknown) => console.log(JSON.stringify({ bench: 'webgpu', where: 'browser', error: e instanceof Error ? e.message : String(e) })))
  .finally(() => console.log('BENCH DONE'));
