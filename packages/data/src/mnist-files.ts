import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, InvalidValueError } from '@boltzmann/tensor';
import { readIdx } from './idx.js';
import { idxToImages } from './idx-datasets.js';
import type { LabeledImages, Split } from './labeled-images.js';

/** Where Debian's `dataset-fashion-mnist` package puts its four IDX .gz files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST's class names, indexed by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** The standard MNIST file names (without .gz), shared by Fashion-MNIST. */
export const MNIST_FILE_NAMES: Readonly<Record<Split, { images: string; labels: string }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

const CLASS_COUNT = 10;

/**
 * The names a standard file may have on disk: as published (`train-images-idx3-ubyte`), with
 * the dot some mirrors use (`train-images.idx3-ubyte`), each raw or gzipped.
 */
function candidateNames(standard: string): string[] {
  const dotted = standard.replace(/-(idx\d-ubyte)$/, '.$1');
  return [standard, `${standard}.gz`, dotted, `${dotted}.gz`];
}

/** The first existing candidate for a standard name in `dir`, or undefined. */
function findFile(dir: string, standard: string): string | undefined {
  return candidateNames(standard).map((n) => join(dir, n)).find((p) => existsSync(p));
}

function checkSplit(split: unknown): Split {
  if (split !== 'train' && split !== 'test') throw new InvalidValueError(`split must be 'train' or 'test', got ${String(split)}`);
  return split;
}

/**
 * Reads one split of an MNIST-format data set from `dir` and checks it: 28x28-style
 * [count, height, width] unsigned-byte images, one label in 0..9 per image.
 * `missing` builds the error thrown when a file is absent.
 */
function loadIdxPair(dir: string, split: Split, missing: (file: string, tried: string[]) => string): LabeledImages {
  const names = MNIST_FILE_NAMES[split];
  const imagesPath = findFile(dir, names.images);
  if (imagesPath === undefined) throw new FormatError(missing(names.images, candidateNames(names.images)));
  const labelsPath = findFile(dir, names.labels);
  if (labelsPath === undefined) throw new FormatError(missing(names.labels, candidateNames(names.labels)));

  const imageTensor = readIdx(imagesPath);
  if (imageTensor.dims.length !== 3) {
    throw new FormatError(`${imagesPath}: images must have 3 dimensions [count, height, width], got [${imageTensor.dims.join(', ')}]`);
  }
  const { images, height, width } = idxToImages(imageTensor, imagesPath);

  const labelTensor = readIdx(labelsPath);
  if (labelTensor.dtype !== 'uint8' || labelTensor.dims.length !== 1) {
    throw new FormatError(`${labelsPath}: labels must be one dimension of unsigned bytes, got ${labelTensor.dtype} [${labelTensor.dims.join(', ')}]`);
  }
  const labels = labelTensor.data as Uint8Array;
  if (labels.length !== images.rows) {
    throw new FormatError(`${labelsPath} holds ${labels.length} labels but ${imagesPath} holds ${images.rows} images`);
  }
  for (let i = 0; i < labels.length; i++) {
    // The labels start after the 8-byte header of a one-dimensional IDX file.
    if (labels[i]! >= CLASS_COUNT) throw new FormatError(`${labelsPath}: label ${labels[i]} of image ${i} is not a class 0..9 (at byte offset ${8 + i})`);
  }
  return { images, labels, height, width };
}

/**
 * Loads MNIST files you downloaded yourself from `dir`: the four standard names
 * (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
 * `t10k-labels-idx1-ubyte`), each raw or `.gz`, also with the `.idx3-ubyte` spelling some
 * mirrors use. Images come back in [0, 1], one a row. Default split: 'train'.
 */
export function loadMnistIdx(dir: string, split: Split = 'train'): LabeledImages {
  checkSplit(split);
  return loadIdxPair(dir, split, (file, tried) => `MNIST file ${file} not found in ${dir} (looked for ${tried.join(', ')})`);
}

/** Options of {@link loadFashionMnist}. */
export interface FashionMnistOptions {
  /** The folder holding the four IDX files. Default: where Debian's `dataset-fashion-mnist` installs them. */
  dir?: string;
  /** 60,000 training or 10,000 test images. Default 'train'. */
  split?: Split;
}

/**
 * Loads Fashion-MNIST (28x28 grayscale clothing images in 10 classes, see
 * FASHION_MNIST_CLASSES). By default it reads the files of Debian's `dataset-fashion-mnist`
 * package; when they are absent the error says to install that package or to pass `dir`.
 */
export function loadFashionMnist(options: FashionMnistOptions = {}): LabeledImages {
  const dir = options.dir ?? FASHION_MNIST_DIR;
  const split = checkSplit(options.split ?? 'train');
  return loadIdxPair(dir, split, (file) =>
    options.dir === undefined
      ? `Fashion-MNIST not found: ${file}(.gz) is not in ${dir}. Install it with \`apt-get install dataset-fashion-mnist\`, or pass { dir } naming a folder that holds the four Fashion-MNIST IDX files`
      : `Fashion-MNIST not found: ${file}(.gz) is not in ${dir}. Pass { dir } naming a folder that holds the four Fashion-MNIST IDX files, or leave dir out to use ${FASHION_MNIST_DIR} (Debian package dataset-fashion-mnist)`,
  );
}
