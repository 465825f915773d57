import { CpuBackend } from '@boltzmann/backend-cpu';
import { DBN, FeedForwardNet, RBM, Trainer, type ClassifierFitOptions } from '@boltzmann/core';
import type { Backend, Matrix } from '@boltzmann/tensor';

/** Images (one a row, values in [0, 1]) with their class labels. */
export interface LabeledSet {
  images: Matrix;
  labels: ArrayLike<number>;
}

/** Sizes and settings of one classification run; the defaults are the quick ones. */
export interface ClassificationOptions {
  /** Name of the data set, for the table. */
  dataset: string;
  train: LabeledSet;
  test: LabeledSet;
  /** Hidden units of the RBM and of the MLP; default 256. */
  hidden?: number;
  /** RBM training epochs (CD-1, the library defaults); default 10. */
  rbmEpochs?: number;
  /** Epochs of every classifier (logistic regressions, MLPs); default 20. */
  classifierEpochs?: number;
  seed?: number;
  backend?: Backend;
  log?: (line: string) => void;
}

/** One line of the result table. */
export interface AccuracyRow {
  model: string;
  accuracy: number;
  seconds: number;
}

/** What a classification run measured. */
export interface ClassificationResult {
  dataset: string;
  rows: AccuracyRow[];
  /** The RBM's reconstruction error after each epoch. */
  reconstructionErrors: number[];
}

/** SGD settings shared by every classifier of the comparison, so they differ only in features and initialisation. */
export function classifierSettings(epochs: number, seed: number): ClassifierFitOptions {
  return { epochs, learningRate: 0.05, momentum: 0.9, batchSize: 32, weightDecay: 1e-5, seed };
}

/**
 * monsta-hd's first experiment, in four rows: multinomial logistic regression on the pixels,
 * the same on an RBM's hidden probabilities, an MLP with one sigmoid hidden layer from random
 * (Glorot) initialisation, and the same MLP initialised from the RBM (weights and hidden
 * biases, a fresh softmax layer) and fine-tuned by backpropagation.
 */
export async function rbmClassification(options: ClassificationOptions): Promise<ClassificationResult> {
  const backend = options.backend ?? new CpuBackend({ precision: 'float32' });
  const log = options.log ?? console.log;
  const hidden = options.hidden ?? 256;
  const epochs = options.classifierEpochs ?? 20;
  const seed = options.seed ?? 1;
  const { train, test } = options;
  const rows: AccuracyRow[] = [];
  const timed = async (model: string, run: () => Promise<number>) => {
    const started = performance.now();
    const accuracy = await run();
    const row = { model, accuracy, seconds: (performance.now() - started) / 1000 };
    rows.push(row);
    log(`${options.dataset}: ${model}: test accuracy ${(100 * accuracy).toFixed(2)}% (${row.seconds.toFixed(1)} s)`);
  };
  const settings = classifierSettings(epochs, seed);

  await timed('logistic regression on pixels', async () => {
    const net = FeedForwardNet.create(backend, { sizes: [train.images.cols, 10], seed });
    await net.fit(train.images, train.labels, settings);
    const a = await net.accuracy(test.images, test.labels);
    net.dispose();
    return a;
  });

  const rbm = RBM.create(backend, { visible: train.images.cols, hidden, seed });
  const reconstructionErrors: number[] = [];
  const rbmStarted = performance.now();
  const trainer = new Trainer(rbm, { seed }); // CD-1, lr 0.05, momentum 0.5 -> 0.9, L2 1e-4
  await trainer.fit(train.images, {
    epochs: options.rbmEpochs ?? 10,
    monitor: { freeEnergy: false, pseudoLikelihood: false },
    onEpoch: (r) => {
      reconstructionErrors.push(r.reconstructionError);
    },
  });
  trainer.dispose();
  log(`${options.dataset}: RBM ${train.images.cols}x${hidden} trained, reconstruction error ${reconstructionErrors[0]?.toFixed(4)} -> ${reconstructionErrors.at(-1)?.toFixed(4)} (${((performance.now() - rbmStarted) / 1000).toFixed(1)} s)`);

  await timed(`logistic regression on RBM features (${hidden})`, async () => {
    const features = await rbm.transform(train.images);
    const testFeatures = await rbm.transform(test.images);
    const net = FeedForwardNet.create(backend, { sizes: [hidden, 10], seed });
    await net.fit(features, train.labels, settings);
    const a = await net.accuracy(testFeatures, test.labels);
    net.dispose();
    return a;
  });

  await timed(`MLP ${train.images.cols}-${hidden}-10 from random initialisation`, async () => {
    const net = FeedForwardNet.create(backend, { sizes: [train.images.cols, hidden, 10], seed });
    await net.fit(train.images, train.labels, settings);
    const a = await net.accuracy(test.images, test.labels);
    net.dispose();
    return a;
  });

  await timed(`MLP ${train.images.cols}-${hidden}-10 fine-tuned from the RBM`, async () => {
    const dbn = new DBN(backend, [rbm]);
    await dbn.fineTune(train.images, train.labels, { ...settings, classes: 10, readoutSeed: seed });
    const a = await dbn.accuracy(test.images, test.labels);
    dbn.dispose(); // disposes the RBM too
    return a;
  });
  return { dataset: options.dataset, rows, reconstructionErrors };
}
