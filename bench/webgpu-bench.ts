/**
 * The WebGPU benchmarks themselves, with no Node imports, so the same code runs in Node (Dawn)
 * and in a page: a large matrix product per tile, the raw CD-1 epoch (bench/cd1-step.ts) and the
 * core Trainer's epoch, 784 x 500 at batch 100 and 1000 on 60,000 rows. Every timing ends with
 * `backend.finish()` (the GPU has run everything). Each result is one JSON object.
 */
import { WebGpuBackend, LARGE_TILE, MEDIUM_TILE, type MatmulTile } from '@boltzmann/backend-webgpu';
import { RBM, Trainer } from '@boltzmann/core';
import { CounterRng, Matrix } from '@boltzmann/tensor';
import { cd1Step, cd1StepFlops, createCd1State } from './cd1-step.js';

/** What to run; the defaults are the sizes. */
export interface WebGpuBenchOptions {
  gemmSize: number;
  gemmReps: number;
  rows: number;
  batches: number[];
  epochs: number;
  /** Skip the Trainer epochs (the raw step only). */
  rawOnly: boolean;
}

export const DEFAULT_WEBGPU_BENCH: WebGpuBenchOptions = { gemmSize: 4096, gemmReps: 5, rows: 60000, batches: [100, 1000], epochs: 2, rawOnly: false };

const now = (): number => performance.now();

/** Binary pixels of a fixed seed: the step's speed does not depend on the data's values. */
function syntheticData(rows: number): Matrix {
  const m = new Matrix(rows, 784, new Float32Array(rows * 784));
  new CounterRng(7).uniforms(m.data);
  for (let i = 0; i < m.data.length; i++) m.data[i] = m.data[i]! < 0.13 ? 1 : 0;
  return m;
}

/** Runs every benchmark, handing each result line to `emit`. */
export async function runWebGpuBench(emit: (line: object) => void, options: WebGpuBenchOptions = DEFAULT_WEBGPU_BENCH, where = ''): Promise<void> {
  const probe = await WebGpuBackend.create();
  const adapter = probe.adapter;
  probe.destroy();
  const base = { where, adapter: `${adapter.vendor} ${adapter.architecture} ${adapter.device} ${adapter.description}`.trim() };

  for (const [tileName, tile] of [['128x128/8x8', LARGE_TILE], ['64x64/4x4', MEDIUM_TILE]] as Array<[string, MatmulTile]>) {
    const be = await WebGpuBackend.create({ matmulTile: tile });
    const n = options.gemmSize;
    const a = be.zeros(n, n, 0.5);
    const b = be.zeros(n, n, 0.25);
    const c = be.zeros(n, n);
    be.matmul(a, b, c);
    await be.finish();
    const t0 = now();
    for (let r = 0; r < options.gemmReps; r++) be.matmul(a, b, c);
    await be.finish();
    const seconds = (now() - t0) / 1000 / options.gemmReps;
    const check = (await be.read(c)).data[0]!;
    emit({ ...base, bench: 'sgemm', backend: 'webgpu', tile: tileName, m: n, n, k: n, seconds, tflops: (2 * n * n * n) / seconds / 1e12, c00: check, c00_expected: 0.125 * n });
    be.destroy();
  }

  const data = syntheticData(options.rows);
  for (const batch of options.batches) {
    const be = await WebGpuBackend.create();
    const s = createCd1State(be, { visible: 784, hidden: 500, batch, learningRate: 0.05, momentum: 0.5, weightDecay: 1e-4, seed: 1 });
    const resident = be.upload(data);
    const order = new CounterRng(3);
    const steps = options.rows / batch;
    const epoch = async (): Promise<number> => {
      const perm = order.permutation(options.rows);
      const t0 = now();
      for (let i = 0; i < steps; i++) cd1Step(s, resident, perm.subarray(i * batch, (i + 1) * batch));
      await be.finish();
      return (now() - t0) / 1000;
    };
    await epoch(); // compiles the pipelines
    const times: number[] = [];
    for (let e = 0; e < options.epochs; e++) times.push(await epoch());
    const best = Math.min(...times);
    emit({ ...base, bench: 'cd1-epoch', backend: 'webgpu', config: 'raw-step', batch, rows: options.rows, seconds_per_epoch: times, gflops: (cd1StepFlops({ visible: 784, hidden: 500, batch }) * steps) / best / 1e9 });
    be.destroy();

    if (options.rawOnly) continue;
    const tb = await WebGpuBackend.create();
    const rbm = RBM.create(tb, { visible: 784, hidden: 500, seed: 1 });
    const trainer = new Trainer(rbm, { seed: 1, batchSize: batch });
    const trainerTimes: number[] = [];
    for (let e = 0; e <= options.epochs; e++) {
      const t0 = now();
      await trainer.fit(data, { epochs: 1, monitor: { pseudoLikelihood: false } });
      await tb.finish();
      trainerTimes.push((now() - t0) / 1000);
    }
    emit({ ...base, bench: 'cd1-epoch', backend: 'webgpu', config: 'core-trainer', batch, rows: options.rows, seconds_per_epoch: trainerTimes.slice(1), first_epoch_seconds: trainerTimes[0] });
    tb.destroy();
  }
}
