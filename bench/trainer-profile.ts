/**
 * The core Trainer (RBM 784 x 500, batch 100, CD-1, its defaults) for several epochs in one
 * `fit`, for a profiler: after loading the data nothing but training runs, so a sampling
 * profiler started a few seconds in sees the epoch alone. One JSON line per epoch (wall and
 * CPU seconds, reconstruction error), then one with a hash of the trained weights' bits: two
 * checkouts that compute the same bits print the same hash (same seed, same data).
 *
 *   npx tsx --conditions=@boltzmann/source bench/trainer-profile.ts [--precision bfloat16-mixed] [--rows 6000] [--epochs 2]
 *   BOLTZMANN_GEMM_THREADS=1 perf record -D 5000 -e cpu-clock -F 4000 -- node --perf-basic-prof \
 *     --import tsx --conditions=@boltzmann/source bench/trainer-profile.ts --precision bfloat16-mixed --epochs 30
 *   perf report --no-children --sort symbol
 */
import { Matrix } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { RBM, Trainer } from '@boltzmann/core';
import { loadTrainingImages } from './fashion-mnist.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} needs a value`);
  return value;
}

const precision = option('precision', 'float32');
if (precision !== 'float32' && precision !== 'bfloat16-mixed') throw new Error(`--precision must be float32 or bfloat16-mixed, got "${precision}"`);
const rows = Number(option('rows', '6000'));
const epochs = Number(option('epochs', '2'));
if (!Number.isInteger(rows) || rows < 100 || rows % 100 !== 0) throw new Error(`--rows must be a multiple of 100, got ${rows}`);
if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`--epochs must be a positive integer, got ${epochs}`);

const backend = new CpuBackend({ precision });
const images = loadTrainingImages(rows);
const rbm = RBM.create(backend, { visible: 784, hidden: 500, seed: 1 });
const trainer = new Trainer(rbm, { seed: 1, batchSize: 100, learningRate: 0.05 });
let cpuStart = process.cpuUsage();
await trainer.fit(new Matrix(images.rows, images.cols, images.data), {
  epochs,
  monitor: { freeEnergy: false, pseudoLikelihood: false },
  onEpoch: (report) => {
    const cpu = process.cpuUsage(cpuStart);
    cpuStart = process.cpuUsage();
    console.log(JSON.stringify({ bench: 'trainer-profile', kernels: backend.kernels, data: images.source, rows, epoch: report.epoch, seconds: report.seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, reconstructionError: report.reconstructionError }));
  },
});
let hash = 0;
for (const p of rbm.parameters) for (const bits of new Uint32Array((await backend.read(p.tensor)).data.buffer)) hash = (Math.imul(hash, 31) + bits) | 0;
console.log(JSON.stringify({ bench: 'trainer-profile', kernels: backend.kernels, rows, epochs, parameterBitsHash: hash }));
backend.destroy();
