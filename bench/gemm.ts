/**
 * GFLOP/s of each CPU matrix-product kernel on the five products of one CD-1 step of a
 * Bernoulli RBM 784 x 500 at batch 100. One JSON line per (kernel, product) on stdout, then
 * one per kernel for the whole step.
 *
 *   npx tsx bench/gemm.ts [--rounds 7] [--kernels native,wasm,ts]
 *
 * Rounds are interleaved (every kernel runs every product once per round) and each figure is
 * the median over rounds, so a slow minute on this shared machine hits all kernels alike.
 */
import { CounterRng, type MatmulShape } from '@boltzmann/tensor';
import type { Gemm } from '@boltzmann/backend-cpu';
import { gemmConfigurations } from './configurations.js';

/** One product of the step, named, with its resolved sizes and options. */
interface Product extends MatmulShape {
  name: string;
}

const BATCH = 100;
const VISIBLE = 784;
const HIDDEN = 500;

/** The products of a CD-1 step, as cd1-step.ts issues them. */
const PRODUCTS: Product[] = [
  { name: 'v0 W (100x784 by 784x500)', m: BATCH, k: VISIBLE, n: HIDDEN, transposeA: false, transposeB: false, alpha: 1, beta: 0 },
  { name: 'h0 W^T (100x500 by 500x784)', m: BATCH, k: HIDDEN, n: VISIBLE, transposeA: false, transposeB: true, alpha: 1, beta: 0 },
  { name: 'v1 W (100x784 by 784x500)', m: BATCH, k: VISIBLE, n: HIDDEN, transposeA: false, transposeB: false, alpha: 1, beta: 0 },
  { name: 'v0^T h0 (784x100 by 100x500)', m: VISIBLE, k: BATCH, n: HIDDEN, transposeA: true, transposeB: false, alpha: 0.01, beta: 0 },
  { name: 'v1^T h1 (784x100 by 100x500), beta 1', m: VISIBLE, k: BATCH, n: HIDDEN, transposeA: true, transposeB: false, alpha: -0.01, beta: 1 },
];

function parseArgs(argv: string[]): { rounds: number; kernels: string[] | undefined } {
  let rounds = 7;
  let kernels: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') rounds = Number(argv[++i]);
    else if (argv[i] === '--kernels') kernels = argv[++i]!.split(',');
    else throw new Error(`unknown option ${argv[i]}; see the comment at the top of bench/gemm.ts`);
  }
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  return { rounds, kernels };
}

function randomArray(rng: CounterRng, size: number): Float32Array {
  const data = new Float32Array(size);
  rng.uniforms(data);
  return data;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Seconds per call: enough calls to fill ~`budget` seconds (at least 2), after one warm-up call. */
function timeProduct(gemm: Gemm, p: Product, a: Float32Array, b: Float32Array, c: Float32Array, budget: number): number {
  const args = { m: p.m, n: p.n, k: p.k, a, transposeA: p.transposeA, b, transposeB: p.transposeB, c, alpha: p.alpha, beta: p.beta };
  let start = performance.now();
  gemm.run(args);
  const once = (performance.now() - start) / 1000;
  const calls = Math.max(2, Math.min(200, Math.round(budget / Math.max(once, 1e-6))));
  start = performance.now();
  for (let i = 0; i < calls; i++) gemm.run(args);
  return (performance.now() - start) / 1000 / calls;
}

function main(): void {
  const { rounds, kernels } = parseArgs(process.argv.slice(2));
  const configurations = gemmConfigurations().filter((c) => kernels === undefined || kernels.includes(c.name));
  for (const c of configurations) if (c.gemm === undefined) console.log(JSON.stringify({ kernel: c.name, unavailable: c.why }));
  const available = configurations.filter((c) => c.gemm !== undefined);
  const rng = new CounterRng(11);
  const operands = PRODUCTS.map((p) => ({ a: randomArray(rng, p.m * p.k), b: randomArray(rng, p.k * p.n), c: randomArray(rng, p.m * p.n) }));
  const seconds = available.map(() => PRODUCTS.map((): number[] => []));
  for (let round = 0; round < rounds; round++) {
    available.forEach((config, ci) => {
      PRODUCTS.forEach((p, pi) => {
        const { a, b, c } = operands[pi]!;
        seconds[ci]![pi]!.push(timeProduct(config.gemm!, p, a, b, c, 0.05));
      });
    });
  }
  available.forEach((config, ci) => {
    let stepSeconds = 0;
    PRODUCTS.forEach((p, pi) => {
      const s = median(seconds[ci]![pi]!);
      stepSeconds += s;
      const flops = 2 * p.m * p.n * p.k;
      console.log(JSON.stringify({ kernel: config.name, gemm: config.gemm!.name, product: p.name, m: p.m, k: p.k, n: p.n, ms: Number((s * 1000).toFixed(3)), gflops: Number((flops / s / 1e9).toFixed(1)) }));
    });
    const stepFlops = PRODUCTS.reduce((sum, p) => sum + 2 * p.m * p.n * p.k, 0);
    console.log(JSON.stringify({ kernel: config.name, gemm: config.gemm!.name, product: 'CD-1 step (all five)', ms: Number((stepSeconds * 1000).toFixed(3)), gflops: Number((stepFlops / stepSeconds / 1e9).toFixed(1)), epoch_gemm_seconds: Number((stepSeconds * 600).toFixed(2)) }));
  });
}

main();
