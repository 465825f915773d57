import { CpuBackend, TsGemm, gemmCandidates } from '@boltzmann/backend-cpu';
import { registerBackend } from '@boltzmann/tensor';
import { runCli } from '@boltzmann/cli';
registerBackend({ name: 'cpu-ts', priority: 0, available: () => true, create: (o) => new CpuBackend({ precision: o?.precision, gemm: new TsGemm() }) });
registerBackend({ name: 'cpu-wasm', priority: 0, available: () => true, create: (o) => new CpuBackend({ precision: o?.precision, gemm: gemmCandidates.find((c) => c.name === 'wasm-simd')!.create()! }) });
const t0 = performance.now();
const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() });
console.log('exit', code, 'seconds', ((performance.now() - t0) / 1000).toFixed(1));
