/**
 * `npx tsx examples/rbm-mnist/src/main.ts [--full]`: RBM features + logistic regression +
 * fine-tuning on the bundled digits and, when Debian's dataset-fashion-mnist is installed, on
 * Fashion-MNIST; then a DBN against the same MLP from random initialisation with 500 labels.
 * The quick default takes a few minutes on 2 cores; --full uses 1024 hidden units, the whole
 * Fashion-MNIST and more epochs and seeds.
 */
import { FASHION_MNIST_DIR, loadDigits, loadFashionMnist } from '@boltzmann/data';
import { FormatError } from '@boltzmann/tensor';
import { rbmClassification, type ClassificationResult, type LabeledSet } from './classification.js';
import { fewLabels, meanStd } from './few-labels.js';
import { markdownTable } from './table.js';

const args = process.argv.slice(2);
for (const a of args) if (a !== '--full') throw new Error(`unknown option ${a}; the only option is --full`);
const full = args.includes('--full');
const settings = full
  ? { hidden: 1024, rbmEpochs: 30, classifierEpochs: 30, fashionTrain: 60000, fashionTest: 10000 }
  : { hidden: 256, rbmEpochs: 10, classifierEpochs: 20, fashionTrain: 10000, fashionTest: 2000 };

const digitsTrain = loadDigits({ split: 'train' });
const digitsTest = loadDigits({ split: 'test' });
const results: ClassificationResult[] = [];
results.push(await rbmClassification({ dataset: 'bundled digits', train: digitsTrain, test: digitsTest, ...settings }));

let fashion: { train: LabeledSet; test: LabeledSet } | undefined;
try {
  const train = loadFashionMnist({ split: 'train' });
  const test = loadFashionMnist({ split: 'test' });
  const take = (s: LabeledSet, n: number): LabeledSet => ({ images: s.images.sliceRows(0, Math.min(n, s.images.rows)), labels: Array.from(s.labels).slice(0, n) });
  fashion = { train: take(train, settings.fashionTrain), test: take(test, settings.fashionTest) };
} catch (error) {
  if (!(error instanceof FormatError)) throw error;
  console.log(`Fashion-MNIST skipped: not installed in ${FASHION_MNIST_DIR} (apt-get install dataset-fashion-mnist)`);
}
if (fashion) results.push(await rbmClassification({ dataset: `Fashion-MNIST (${fashion.train.images.rows} / ${fashion.test.images.rows})`, ...fashion, ...settings }));

const few = await fewLabels({
  train: digitsTrain,
  test: digitsTest,
  labels: 500,
  layers: full ? [784, 256, 256] : [784, 100, 100],
  pretrainEpochs: full ? 10 : 5,
  epochs: 20,
  seeds: full ? [1, 2, 3, 4, 5] : [1, 2, 3],
});

console.log('\nTest accuracy (%):\n');
const models = results[0]!.rows.map((r) => r.model);
console.log(markdownTable(['model', ...results.map((r) => r.dataset)], models.map((m, i) => [m, ...results.map((r) => (100 * r.rows[i]!.accuracy).toFixed(2))])));
const d = meanStd(few.dbn);
const m = meanStd(few.mlp);
console.log(`\n${few.labels} labelled digits (of 8,000; the DBN pretrained on all 8,000 without labels), ${few.seeds.length} seeds, test accuracy (%):\n`);
console.log(markdownTable(['model', 'mean', 'std', 'per seed'], [
  [`DBN ${few.layers.join('-')} fine-tuned`, (100 * d.mean).toFixed(2), (100 * d.std).toFixed(2), few.dbn.map((x) => (100 * x).toFixed(1)).join(', ')],
  [`MLP ${few.layers.join('-')}-10 from random`, (100 * m.mean).toFixed(2), (100 * m.std).toFixed(2), few.mlp.map((x) => (100 * x).toFixed(1)).join(', ')],
]));
