/**
 * Quality of the shipped training defaults on the reference workload: a Bernoulli RBM 784 x 500
 * trained on the 60,000 Fashion-MNIST training images (3 epochs, lr 0.05, batch 100, CD-1 and
 * every other setting at its default), then
 *   - the test pseudo-log-likelihood (scikit-learn's score_samples, mean over the 10,000 test images),
 *   - the test accuracy of a multinomial logistic regression trained on the hidden probabilities,
 *     and on the raw pixels as a baseline,
 * printed as one JSON line beside scikit-learn's and PyTorch's numbers (bench/reference_sklearn.py,
 * bench/reference_torch.py; see bench/README.md).
 * Not a test: nothing is asserted. Needs Debian's dataset-fashion-mnist.
 *
 *   npx tsx bench/rbm-quality.ts [--epochs 3] [--estimator cd|pcd] [--k 1] [--momentum default|0.5|...] [--momentum-ramp-epochs 1]
 *       [--weight-decay 1e-4] [--lr 0.05] [--optimizer sgd|adam] [--sparsity 0.1] [--rows 60000] [--seed 1]
 *       [--precision float32|bfloat16-mixed] [--pixels yes|no]
 *
 * --precision is the training backend's; the trained weights are then copied to a float32
 * backend for every measurement, so two precisions are compared on what they learned.
 * The flags change one setting at a time from the defaults, to compare variants.
 */
import { CpuBackend } from '@boltzmann/backend-cpu';
import { RBM, Trainer, defaultMomentum, pseudoLogLikelihood, type TrainerOptions, type RegularizerSpec } from '@boltzmann/core';
import { loadFashionMnist } from '@boltzmann/data';
import { logisticRegression } from './logistic-regression.js';

/** Measured with bench/reference_sklearn.py and bench/reference_torch.py: after 3 epochs of their own recipes on the same data. */
const REFERENCES = {
  sklearn: { testPseudoLogLikelihood: -217, accuracyOnFeatures: 0.853, accuracyOnPixels: 0.844 },
  pytorch: { testPseudoLogLikelihood: -187, accuracyOnFeatures: 0.877 },
};

interface Options {
  epochs: number;
  rows: number;
  seed: number;
  lr: number;
  estimator: string;
  k: number;
  momentum: string;
  momentumRampEpochs: number | undefined;
  weightDecay: number | undefined;
  optimizer: string;
  sparsity: number | undefined;
  classifierEpochs: number;
  precision: 'float32' | 'bfloat16-mixed';
  /** Whether to fit the classifier on raw pixels too (the baseline; it does not depend on the RBM). */
  pixels: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { epochs: 3, rows: 60000, seed: 1, lr: 0.05, estimator: 'cd', k: 1, momentum: 'default', momentumRampEpochs: undefined, weightDecay: undefined, optimizer: 'sgd', sparsity: undefined, classifierEpochs: 30, precision: 'float32', pixels: true };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i]!, argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const num = Number(value);
    if (flag === '--epochs') o.epochs = num;
    else if (flag === '--rows') o.rows = num;
    else if (flag === '--seed') o.seed = num;
    else if (flag === '--lr') o.lr = num;
    else if (flag === '--estimator') o.estimator = value;
    else if (flag === '--k') o.k = num;
    else if (flag === '--momentum') o.momentum = value;
    else if (flag === '--momentum-ramp-epochs') o.momentumRampEpochs = num;
    else if (flag === '--weight-decay') o.weightDecay = num;
    else if (flag === '--optimizer') o.optimizer = value;
    else if (flag === '--sparsity') o.sparsity = num;
    else if (flag === '--classifier-epochs') o.classifierEpochs = num;
    else if (flag === '--pixels') o.pixels = value !== 'no';
    else if (flag === '--precision') {
      if (value !== 'float32' && value !== 'bfloat16-mixed') throw new Error(`--precision must be float32 or bfloat16-mixed, got ${value}`);
      o.precision = value;
    }
    else throw new Error(`unknown flag ${flag}`);
  }
  return o;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const train = loadFashionMnist({ split: 'train' });
  const test = loadFashionMnist({ split: 'test' });
  const trainImages = o.rows < train.images.rows ? train.images.sliceRows(0, o.rows) : train.images;
  const trainLabels = train.labels.subarray(0, trainImages.rows);
  const trainingBackend = new CpuBackend({ precision: o.precision });
  const be = o.precision === 'float32' ? trainingBackend : new CpuBackend({ precision: 'float32' });

  const rbm = RBM.create(trainingBackend, { visible: 784, hidden: 500, seed: o.seed });
  const options: TrainerOptions = { learningRate: o.lr, batchSize: 100, seed: o.seed, estimator: { type: o.estimator, k: o.k }, optimizer: { type: o.optimizer } };
  if (o.momentum !== 'default') options.momentum = Number(o.momentum);
  else if (o.momentumRampEpochs !== undefined) options.momentum = { ...defaultMomentum().spec(), end: o.momentumRampEpochs };
  if (o.weightDecay !== undefined) options.weightDecay = o.weightDecay;
  if (o.sparsity !== undefined) options.regularizers = [{ type: 'sparsity', target: o.sparsity } satisfies RegularizerSpec];
  const trainer = new Trainer(rbm, options);
  const started = performance.now();
  const reports = await trainer.fit(trainImages, { epochs: o.epochs, monitor: { freeEnergy: false, pseudoLikelihood: false } });
  const trainSeconds = (performance.now() - started) / 1000;

  // Every measurement in float32, whatever the training precision.
  const trained = o.precision === 'float32' ? rbm : RBM.create(be, { visible: 784, hidden: 500, seed: o.seed });
  if (trained !== rbm) trained.setParams(await rbm.getParams());
  const testPll = await pseudoLogLikelihood(trained, test.images, { seed: 0 });
  const lrStarted = performance.now();
  const featuresTrain = await trained.transform(trainImages);
  const featuresTest = await trained.transform(test.images);
  const accuracyOnFeatures = logisticRegression(be, featuresTrain, trainLabels, featuresTest, test.labels, o.classifierEpochs, o.seed);
  const accuracyOnPixels = o.pixels ? logisticRegression(be, trainImages, trainLabels, test.images, test.labels, o.classifierEpochs, o.seed) : NaN;
  const classifierSeconds = (performance.now() - lrStarted) / 1000;

  const last = reports[reports.length - 1]!;
  console.log(
    JSON.stringify({
      bench: 'rbm-quality',
      data: 'fashion-mnist',
      rows: trainImages.rows,
      model: '784x500 bernoulli',
      training: { ...trainer.config, epochs: o.epochs },
      precision: o.precision,
      kernels: trainingBackend.kernels,
      testPseudoLogLikelihood: Number(testPll.toFixed(2)),
      accuracyOnFeatures: Number(accuracyOnFeatures.toFixed(4)),
      accuracyOnPixels: o.pixels ? Number(accuracyOnPixels.toFixed(4)) : null,
      meanHiddenActivation: Number(last.meanHiddenActivation.toFixed(4)),
      reconstructionError: Number(last.reconstructionError.toFixed(5)),
      weightNorm: last.weightNorm,
      updateNorm: last.updateNorm,
      trainSeconds: Number(trainSeconds.toFixed(1)),
      secondsPerEpoch: reports.map((r) => Number(r.seconds.toFixed(2))),
      classifierSeconds: Number(classifierSeconds.toFixed(1)),
      classifier: `multinomial logistic regression, SGD momentum 0.9, batch 100, ${o.classifierEpochs} epochs, lr 0.1 -> 0.01, L2 1e-5`,
      references: REFERENCES,
    }),
  );
}

await main();
