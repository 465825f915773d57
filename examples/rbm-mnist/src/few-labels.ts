import { CpuBackend } from '@boltzmann/backend-cpu';
import { DBN, FeedForwardNet } from '@boltzmann/core';
import { CounterRng, type Backend, type Matrix } from '@boltzmann/tensor';
import { classifierSettings, type LabeledSet } from './classification.js';

/** Settings of the few-labels comparison; the defaults are the quick ones. */
export interface FewLabelsOptions {
  /** Training images whose labels are withheld, except for `labels` of them; pretraining sees them all. */
  train: LabeledSet;
  test: LabeledSet;
  /** How many labelled training rows each seed draws; default 500. */
  labels?: number;
  /** Layer sizes of the DBN and of the MLP (without the 10-way output); default [784, 100, 100]. */
  layers?: readonly number[];
  /** Epochs of each RBM of the DBN; default 5. */
  pretrainEpochs?: number;
  /** Epochs of fine-tuning (DBN) and of training (MLP); default 20. */
  epochs?: number;
  /** Learning rate of both (momentum 0.9, batch 20, L2 1e-5); default 0.1. */
  learningRate?: number;
  /** One run per seed: its labelled subset, the read-out's and the MLP's initialisation, the batch order. Default [1, 2, 3]. */
  seeds?: readonly number[];
  backend?: Backend;
  log?: (line: string) => void;
}

/** Test accuracies per seed. */
export interface FewLabelsResult {
  labels: number;
  layers: number[];
  seeds: number[];
  dbn: number[];
  mlp: number[];
}

/**
 * Does unsupervised pretraining help when labels are few? A DBN is pretrained greedily on
 * every training image (no labels), then for each seed a fresh copy is fine-tuned on `labels`
 * labelled rows; the same MLP (same layers, sigmoid units, Glorot initialisation) is trained
 * on the same rows with the same settings. Both are scored on the test set.
 */
export async function fewLabels(options: FewLabelsOptions): Promise<FewLabelsResult> {
  const backend = options.backend ?? new CpuBackend({ precision: 'float32' });
  const log = options.log ?? console.log;
  const labels = options.labels ?? 500;
  const layers = [...(options.layers ?? [784, 100, 100])];
  const seeds = [...(options.seeds ?? [1, 2, 3])];
  const epochs = options.epochs ?? 20;
  const { train, test } = options;

  const started = performance.now();
  const pretrained = DBN.create(backend, { layers, seed: 1 });
  await pretrained.pretrain(train.images, { epochs: options.pretrainEpochs ?? 5, trainer: { seed: 1 }, monitor: { freeEnergy: false, pseudoLikelihood: false } });
  const params = await Promise.all(pretrained.rbms.map((r) => r.getParams()));
  pretrained.dispose();
  log(`few labels: DBN ${layers.join('-')} pretrained on ${train.images.rows} unlabelled images (${((performance.now() - started) / 1000).toFixed(1)} s)`);

  const result: FewLabelsResult = { labels, layers, seeds, dbn: [], mlp: [] };
  for (const seed of seeds) {
    const rows = new CounterRng(seed, 11).permutation(train.images.rows).subarray(0, labels);
    const x: Matrix = train.images.gatherRows(rows);
    const y = Array.from(rows, (r) => train.labels[r]!);
    const settings = { ...classifierSettings(epochs, seed), learningRate: options.learningRate ?? 0.1, batchSize: 20 };

    const dbn = DBN.create(backend, { layers, seed: 1 });
    dbn.rbms.forEach((r, i) => r.setParams(params[i]!));
    await dbn.fineTune(x, y, { ...settings, classes: 10, readoutSeed: seed });
    result.dbn.push(await dbn.accuracy(test.images, test.labels));
    dbn.dispose();

    const mlp = FeedForwardNet.create(backend, { sizes: [...layers, 10], seed });
    await mlp.fit(x, y, settings);
    result.mlp.push(await mlp.accuracy(test.images, test.labels));
    mlp.dispose();
    log(`few labels: seed ${seed}: DBN fine-tuned ${(100 * result.dbn.at(-1)!).toFixed(2)}%, MLP from random ${(100 * result.mlp.at(-1)!).toFixed(2)}%`);
  }
  return result;
}

/** Mean and sample standard deviation. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}
