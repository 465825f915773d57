import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CpuBackend } from '@boltzmann/backend-cpu';
import {
  LinearRamp,
  MaxNorm,
  MeanFieldPCD,
  SparsityTarget,
  Trainer,
  annealedImportanceSampling,
  pretrainDBM,
  saveModel,
  variationalLowerBound,
  type DBM,
  type EpochReport,
} from '@boltzmann/core';
import { binarize, imageGrid, loadDigits, writePng } from '@boltzmann/data';
import { CounterRng, type Backend, type Matrix } from '@boltzmann/tensor';

/** Sizes and settings of one run; the defaults are the quick ones (a minute or two on 2 cores). */
export interface DbmMnistOptions {
  /** Layer sizes from the 784 pixels up; default [784, 200, 400] (the paper's is [784, 500, 1000]). */
  layers?: readonly number[];
  /** Training digits (of the 8,000 bundled ones); default all. */
  trainRows?: number;
  /** Test digits (of 2,000) for the variational bound; default all. */
  testRows?: number;
  /** Epochs of each pretraining RBM; default 5. */
  pretrainEpochs?: number;
  /** Epochs of joint training; default 10. */
  jointEpochs?: number;
  /** Joint training's learning rate (momentum ramps 0.5 -> 0.9 over 5 epochs); default 0.001, as monsta-hd. */
  learningRate?: number;
  /** Persistent chains and Gibbs sweeps per step; default 100 and 5. */
  chains?: number;
  gibbsSteps?: number;
  /** Most mean-field updates per batch; default 30 (tolerance 1e-6). */
  meanFieldIterations?: number;
  /**
   * Add monsta-hd's constraints to joint training: max-norm 8 on every unit's incoming weights
   * and a sparsity target per hidden layer (0.2 for h1, 0.1 above, cost 1e-3). Default false:
   * over the short quick run they cost more of the bound than they bring (see the README).
   */
  regularize?: boolean;
  /** AIS intermediate distributions and runs; default 3,000 and 100. */
  aisBetas?: number;
  aisRuns?: number;
  /** Gibbs sweeps from noise for samples.png; default 1,000. */
  sampleSteps?: number;
  /** Where samples.png and dbm.json go. */
  outDir: string;
  seed?: number;
  backend?: Backend;
  log?: (line: string) => void;
}

/** One row of the result table: the model after a stage. */
export interface StageRow {
  stage: string;
  /** AIS estimate of log Z, with its +-3 sigma interval. */
  logZ: number;
  lower: number;
  upper: number;
  /** Mean variational lower bound on log p(v) (nats per digit): test digits and 1,000 training digits. */
  testBound: number;
  trainBound: number;
  /** Seconds of the AIS run. */
  aisSeconds: number;
}

/** What a run gives back. */
export interface DbmMnistResult {
  rows: StageRow[];
  pretraining: EpochReport[][];
  joint: EpochReport[];
  samples: Matrix;
  samplesPath: string;
  /** The persistent chains of joint training (visible means), up to 100 of them. */
  particlesPath: string;
  modelPath: string;
  /** Seconds of pretraining and of joint training. */
  seconds: { pretraining: number; joint: number };
}

/**
 * Salakhutdinov & Hinton's MNIST DBM, small: digits binarized by sampling (fixed seed); greedy
 * pretraining of the RBMs with the DBM corrections; joint training by mean-field PCD; AIS log Z
 * (base-rate start, annealing over the odd layers with the even ones summed out) and the mean
 * test-set variational lower bound after each stage; 100 samples drawn from noise to samples.png
 * and the persistent chains of training ("fantasy particles") to particles.png.
 */
export async function runDbmMnist(options: DbmMnistOptions): Promise<DbmMnistResult> {
  const backend = options.backend ?? new CpuBackend({ precision: 'float32' });
  const log = options.log ?? console.log;
  const seed = options.seed ?? 1;
  const layers = [...(options.layers ?? [784, 200, 400])];
  const train = binarize(loadDigits({ split: 'train', count: options.trainRows }).images, 'sample', new CounterRng(seed, 100));
  const test = binarize(loadDigits({ split: 'test', count: options.testRows }).images, 'sample', new CounterRng(seed, 101));
  const trainProbe = train.sliceRows(0, Math.min(1000, train.rows));
  mkdirSync(options.outDir, { recursive: true });
  const quiet = { freeEnergy: false, pseudoLikelihood: false };

  // 1. Greedy pretraining (first RBM with doubled input, last with doubled hidden units).
  let started = performance.now();
  const pretraining: EpochReport[][] = layers.slice(1).map(() => []);
  const { dbm, rbms } = await pretrainDBM(backend, train, {
    layers,
    epochs: options.pretrainEpochs ?? 5,
    seed,
    trainer: layers.slice(1).map((_, i) => ({ seed: seed + i, learningRate: i === 0 ? 0.05 : 0.02 })),
    monitor: quiet,
    onEpoch: (i, r) => {
      pretraining[i]!.push(r);
      log(`pretraining RBM ${i + 1}: epoch ${r.epoch}, reconstruction error ${r.reconstructionError.toFixed(4)}, mean hidden activation ${r.meanHiddenActivation.toFixed(3)}`);
    },
  });
  for (const r of rbms) r.dispose();
  const pretrainingSeconds = (performance.now() - started) / 1000;

  const rows: StageRow[] = [];
  const evaluate = async (stage: string, model: DBM) => {
    const t = performance.now();
    const z = await annealedImportanceSampling(model, { betas: options.aisBetas ?? 3000, runs: options.aisRuns ?? 100, data: train, seed });
    const aisSeconds = (performance.now() - t) / 1000;
    const meanField = { logZ: z.logZ, maxIterations: 50, tolerance: 1e-6 };
    const row: StageRow = {
      stage,
      logZ: z.logZ,
      lower: z.lower,
      upper: z.upper,
      testBound: await variationalLowerBound(model, test, meanField),
      trainBound: await variationalLowerBound(model, trainProbe, meanField),
      aisSeconds,
    };
    rows.push(row);
    log(`${stage}: AIS log Z ${row.logZ.toFixed(2)} [${row.lower.toFixed(2)}, ${row.upper.toFixed(2)}] (${z.summedOut.join(' and ')} summed out, ${aisSeconds.toFixed(1)} s), bound on log p(v): test ${row.testBound.toFixed(2)}, train ${row.trainBound.toFixed(2)}`);
  };
  await evaluate('composed from the pretrained RBMs', dbm);

  // 2. Joint training: mean-field data phase, persistent chains started at data.
  started = performance.now();
  const estimator = new MeanFieldPCD(dbm, { k: options.gibbsSteps ?? 5, chains: options.chains ?? 100, init: 'data', maxIterations: options.meanFieldIterations ?? 30, tolerance: 1e-6 });
  const trainer = new Trainer(dbm, {
    estimator,
    learningRate: options.learningRate ?? 0.001,
    momentum: new LinearRamp({ from: 0.5, to: 0.9, end: 5 }),
    batchSize: 100,
    weightDecay: 1e-5,
    regularizers:
      options.regularize !== true
        ? []
        : [new MaxNorm(8), ...dbm.layers.slice(1).map((layer, i) => new SparsityTarget({ layer: layer.name, target: i === 0 ? 0.2 : 0.1, cost: 1e-3 }))],
    seed,
  });
  const joint = await trainer.fit(train, {
    epochs: options.jointEpochs ?? 10,
    monitor: quiet,
    onEpoch: (r) => log(`joint training: epoch ${r.epoch}, reconstruction error ${r.reconstructionError.toFixed(4)}, mean h1 activation ${r.meanHiddenActivation.toFixed(3)}, mean-field iterations ${estimator.lastInference?.iterations}, ${r.seconds.toFixed(1)} s`),
  });
  const jointSeconds = (performance.now() - started) / 1000;
  const modelPath = join(options.outDir, 'dbm.json');
  await saveModel(modelPath, dbm, trainer);
  const particles = await estimator.particles();
  const particlesPath = join(options.outDir, 'particles.png');
  if (particles) writePng(particlesPath, imageGrid(particles.sliceRows(0, Math.min(100, particles.rows)), { columns: 10 }));
  trainer.dispose();
  await evaluate('jointly trained', dbm);

  // 3. Samples from noise.
  const samples = await dbm.sample(100, { steps: options.sampleSteps ?? 1000, seed });
  const samplesPath = join(options.outDir, 'samples.png');
  writePng(samplesPath, imageGrid(samples, { columns: 10 }));
  log(`100 samples (${options.sampleSteps ?? 1000} Gibbs sweeps from noise) written to ${samplesPath}, the persistent chains of training to ${particlesPath}; model saved to ${modelPath}`);
  dbm.dispose();
  return { rows, pretraining, joint, samples, samplesPath, particlesPath, modelPath, seconds: { pretraining: pretrainingSeconds, joint: jointSeconds } };
}

/** The result table in Markdown. */
export function formatRows(rows: readonly StageRow[]): string {
  const header = ['model', 'AIS log Z', '+-3 sigma interval', 'test bound (nats)', 'train bound (nats)'];
  const cells = rows.map((r) => [r.stage, r.logZ.toFixed(2), `[${r.lower.toFixed(2)}, ${r.upper.toFixed(2)}]`, r.testBound.toFixed(2), r.trainBound.toFixed(2)]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]!.length)));
  const line = (xs: readonly string[]) => `| ${xs.map((x, c) => x.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}
