/**
 * The quality table: which library trains the better RBM in the same epochs? On Fashion-MNIST
 * binarized at pixel >= 128, a Bernoulli RBM 784 x 500 trained
 *   - by this library with its defaults (CD-1) and with PCD-1 (every other setting default),
 *   - by scikit-learn's BernoulliRBM and by the PyTorch CD-1 recipe of reference_torch.py
 *     (bench/quality_export.py trains them and writes the raw interop format; loaded here with
 *     loadRawRBM),
 * each for the same number of epochs, then all evaluated the same way: the test log-likelihood
 * between the two sides of the log Z sandwich (AIS from below, reverse AIS from above), the test
 * pseudo-log-likelihood, a logistic regression on the hidden probabilities, training seconds.
 * Also a 2-layer DBM (greedy pretraining): its log Z sandwich (AIS and reverse AIS on h1, v and h2
 * summed out) and the mean-field bound on the test data between the sandwich's ends.
 * One JSON line per model, then a Markdown table. Not a test: nothing is asserted.
 *
 *   npx tsx bench/rbm-quality-table.ts [--epochs 3] [--betas 14500] [--runs 100] [--rows 60000]
 *       [--work .bench-out/table] [--classifier-epochs 10] [--only lib-cd,lib-pcd,sklearn,torch,dbm]
 *       [--precision float32|float64] [--lib-options '{"momentum":0.5}'] [--likelihood-only]
 *
 * --lib-options: Trainer options (JSON) over the library rows' own, to screen a recipe;
 * --likelihood-only: skip the pseudo-log-likelihood and the probe.
 *
 * Needs Debian's dataset-fashion-mnist, python3-sklearn and python3-torch. A model already in
 * --work (rbm.json + train.json from an earlier run with the same epochs) is reused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CpuBackend } from '@boltzmann/backend-cpu';
import {
  RBM,
  Trainer,
  loadRawRBM,
  logLikelihoodSandwich,
  logPartitionSandwich,
  pretrainDBM,
  pseudoLogLikelihood,
  variationalLowerBound,
  type TrainerOptions,
} from '@boltzmann/core';
import { binarize, loadFashionMnist } from '@boltzmann/data';
import type { Matrix } from '@boltzmann/tensor';
import { logisticRegression } from './logistic-regression.js';

interface Options {
  epochs: number;
  betas: number;
  runs: number;
  rows: number;
  work: string;
  classifierEpochs: number;
  only: string[];
  precision: 'float32' | 'float64';
  /** Trainer options (JSON) merged over the library rows' own: one recipe setting changed at a time. */
  libOptions: TrainerOptions;
  /** Skip the pseudo-log-likelihood and the probe (a faster screen of training recipes). */
  likelihoodOnly: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { epochs: 3, betas: 14500, runs: 100, rows: 60000, work: '.bench-out/table', classifierEpochs: 10, only: ['lib-cd', 'lib-pcd', 'sklearn', 'torch', 'dbm'], precision: 'float32', libOptions: {}, likelihoodOnly: false };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i]!, argv[i + 1]];
    if (flag === '--likelihood-only') {
      o.likelihoodOnly = true;
      i--;
      continue;
    }
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--epochs') o.epochs = Number(value);
    else if (flag === '--betas') o.betas = Number(value);
    else if (flag === '--runs') o.runs = Number(value);
    else if (flag === '--rows') o.rows = Number(value);
    else if (flag === '--work') o.work = value;
    else if (flag === '--classifier-epochs') o.classifierEpochs = Number(value);
    else if (flag === '--only') o.only = value.split(',');
    else if (flag === '--precision') o.precision = value as Options['precision'];
    else if (flag === '--lib-options') o.libOptions = JSON.parse(value) as TrainerOptions;
    else throw new Error(`unknown flag ${flag}`);
  }
  return o;
}

/** Trains (or reuses) a reference library's RBM through bench/quality_export.py. */
function external(lib: string, o: Options): { dir: string; trainSeconds: number } {
  const dir = join(o.work, lib);
  const record = join(dir, 'train.json');
  if (existsSync(record) && existsSync(join(dir, 'rbm.json'))) {
    const r = JSON.parse(readFileSync(record, 'utf8')) as { epochs: number; rows: number; train_seconds: number };
    if (r.epochs === o.epochs && r.rows === o.rows) return { dir, trainSeconds: r.train_seconds };
  }
  const run = spawnSync('/usr/bin/python3', ['bench/quality_export.py', '--lib', lib, '--out', dir, '--epochs', String(o.epochs), '--rows', String(o.rows)], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX', OMP_WAIT_POLICY: 'PASSIVE' },
  });
  if (run.status !== 0) throw new Error(`quality_export.py --lib ${lib} failed: ${run.stderr}`);
  const line = run.stdout.trim().split('\n').pop()!;
  writeFileSync(record, line);
  return { dir, trainSeconds: (JSON.parse(line) as { train_seconds: number }).train_seconds };
}

async function evaluateRBM(name: string, rbm: RBM, trainSeconds: number, data: { train: Matrix; test: Matrix; trainLabels: Uint8Array; testLabels: Uint8Array }, o: Options, be: CpuBackend) {
  const started = performance.now();
  const logZ = await logPartitionSandwich(rbm, { baseRate: data.train, betas: o.betas, runs: o.runs, seed: 1 });
  const ll = await logLikelihoodSandwich(rbm, data.test, logZ);
  const evalSeconds = (performance.now() - started) / 1000;
  const pll = o.likelihoodOnly ? NaN : await pseudoLogLikelihood(rbm, data.test, { seed: 0 });
  const features = o.likelihoodOnly ? undefined : ([await rbm.transform(data.train), await rbm.transform(data.test)] as const);
  const accuracy = features === undefined ? NaN : logisticRegression(be, features[0], data.trainLabels, features[1], data.testLabels, o.classifierEpochs, 1);
  const hidden = await rbm.transform(data.test.sliceRows(0, 1000));
  let meanHiddenActivation = 0;
  for (const x of hidden.data) meanHiddenActivation += x / hidden.data.length;
  const row = {
    bench: 'rbm-quality-table',
    model: name,
    libOptions: name.startsWith('lib-') ? o.libOptions : undefined,
    epochs: o.epochs,
    trainSeconds: Number(trainSeconds.toFixed(1)),
    testLogLikelihood: [Number(ll.lower.toFixed(2)), Number(ll.upper.toFixed(2))],
    testLogLikelihoodEstimates: { reverse: Number(ll.lowerEstimate.toFixed(2)), ais: Number(ll.upperEstimate.toFixed(2)) },
    logZ: { ais: Number(logZ.lowerEstimate.toFixed(2)), reverse: Number(logZ.upperEstimate.toFixed(2)), gap: Number(logZ.gap.toFixed(2)), agree: logZ.agree, ess: Number(logZ.forward.effectiveSampleSize.toFixed(1)) },
    testPseudoLogLikelihood: Number(pll.toFixed(2)),
    accuracyOnFeatures: Number(accuracy.toFixed(4)),
    meanHiddenActivation: Number(meanHiddenActivation.toFixed(3)),
    evalSeconds: Number(evalSeconds.toFixed(1)),
    betas: o.betas,
    runs: o.runs,
    precision: o.precision,
    warnings: logZ.warnings,
  };
  console.log(JSON.stringify(row));
  return row;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  mkdirSync(o.work, { recursive: true });
  const threshold = 127.5 / 255; // pixel >= 128
  const trainSet = loadFashionMnist({ split: 'train' });
  const testSet = loadFashionMnist({ split: 'test' });
  const train = binarize(o.rows < trainSet.images.rows ? trainSet.images.sliceRows(0, o.rows) : trainSet.images, threshold);
  const data = { train, test: binarize(testSet.images, threshold), trainLabels: trainSet.labels.subarray(0, train.rows), testLabels: testSet.labels };
  const be = new CpuBackend({ precision: o.precision });
  const rows: { model: string; trainSeconds: number; testLogLikelihood: number[]; testPseudoLogLikelihood?: number; accuracyOnFeatures?: number; logZ: { gap?: number; agree?: boolean; ess: number } }[] = [];

  for (const name of o.only) {
    if (name === 'lib-cd' || name === 'lib-pcd') {
      const rbm = RBM.create(be, { visible: 784, hidden: 500, seed: 1 });
      const options: TrainerOptions = { seed: 1, ...(name === 'lib-pcd' ? { estimator: { type: 'pcd' } } : {}), ...o.libOptions };
      const started = performance.now();
      await new Trainer(rbm, options).fit(data.train, { epochs: o.epochs, monitor: { freeEnergy: false, pseudoLikelihood: false } });
      rows.push(await evaluateRBM(name, rbm, (performance.now() - started) / 1000, data, o, be));
      rbm.dispose();
    } else if (name === 'sklearn' || name === 'torch') {
      const { dir, trainSeconds } = external(name, o);
      const rbm = loadRawRBM(join(dir, 'rbm.json'), be);
      rows.push(await evaluateRBM(name, rbm, trainSeconds, data, o, be));
      rbm.dispose();
    } else if (name === 'dbm') {
      const started = performance.now();
      const { dbm, rbms } = await pretrainDBM(be, data.train, { layers: [784, 500, 500], epochs: o.epochs, seed: 1, monitor: { freeEnergy: false, pseudoLikelihood: false } });
      const trainSeconds = (performance.now() - started) / 1000;
      for (const r of rbms) r.dispose();
      const t = performance.now();
      const z = await logPartitionSandwich(dbm, { baseRate: data.train, betas: o.betas, runs: o.runs, seed: 1 });
      // No -F(v) for a DBM: the mean-field bound (linear in log Z) between the sandwich's ends; its lower end is a lower bound on the test log-likelihood.
      const bound = await variationalLowerBound(dbm, data.test, { logZ: 0 });
      const row = {
        bench: 'rbm-quality-table',
        model: 'dbm 784-500-500 (greedy pretraining)',
        epochs: o.epochs,
        trainSeconds: Number(trainSeconds.toFixed(1)),
        testLogLikelihood: [Number((bound - z.upper).toFixed(2)), Number((bound - z.lower).toFixed(2))],
        testLogLikelihoodEstimates: { reverse: Number((bound - z.upperEstimate).toFixed(2)), ais: Number((bound - z.lowerEstimate).toFixed(2)) },
        logZ: { ais: Number(z.lowerEstimate.toFixed(2)), reverse: Number(z.upperEstimate.toFixed(2)), gap: Number(z.gap.toFixed(2)), agree: z.agree, ess: Number(z.forward.effectiveSampleSize.toFixed(1)), summedOut: z.forward.summedOut },
        evalSeconds: Number(((performance.now() - t) / 1000).toFixed(1)),
        betas: o.betas,
        runs: o.runs,
        precision: o.precision,
        warnings: z.warnings,
      };
      console.log(JSON.stringify(row));
      rows.push(row);
      dbm.dispose();
    } else throw new Error(`unknown model ${name}`);
  }
  console.log('\n| model | epochs | train s | test log-lik. [lower, upper] | log Z gap | ESS | test PLL | log. reg. on features |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ll = `[${r.testLogLikelihood[0]}, ${r.testLogLikelihood[1]}]${r.model.startsWith('dbm') ? ' (mean-field bound)' : ''}`;
    console.log(`| ${r.model} | ${o.epochs} | ${r.trainSeconds} | ${ll} | ${r.logZ.gap ?? '-'} | ${r.logZ.ess} | ${r.testPseudoLogLikelihood ?? '-'} | ${r.accuracyOnFeatures ?? '-'} |`);
  }
}

await main();
