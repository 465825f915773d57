import { expect } from 'chai';
import { CounterRng, InvalidValueError, Matrix } from '@boltzmann/tensor';
import { shuffledBatches, trainValidationSplit } from '@boltzmann/data';
import { thrown } from './helpers.js';

describe('batching helpers', function () {
  it('shuffledBatches slices one permutation into batches, keeping the last partial one', function () {
    const batches = [...shuffledBatches(129, 10, new CounterRng(4))];
    expect(batches.map((b) => b.length)).to.deep.equal([...new Array(12).fill(10), 9]);
    batches.forEach((b) => expect(b).to.be.instanceOf(Uint32Array));
    const flat = batches.flatMap((b) => Array.from(b));
    expect(flat).to.deep.equal(Array.from(new CounterRng(4).permutation(129)));
    expect([...flat].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 129 }, (_, i) => i));
  });

  it('dropLast leaves out only the final n % batchSize indices', function () {
    const batches = [...shuffledBatches(129, 10, new CounterRng(4), { dropLast: true })];
    expect(batches.map((b) => b.length)).to.deep.equal(new Array(12).fill(10));
    expect(new Set(batches.flatMap((b) => Array.from(b))).size).to.equal(120);
    expect([...shuffledBatches(3, 3, new CounterRng(1), { dropLast: true })].length).to.equal(1);
    expect([...shuffledBatches(3, 5, new CounterRng(1))].map((b) => b.length)).to.deep.equal([3]);
    expect([...shuffledBatches(1, 1, new CounterRng(1))].map((b) => Array.from(b))).to.deep.equal([[0]]);
  });

  it('draws a new order each epoch (one rng op per call) and checks its arguments at once', function () {
    const rng = new CounterRng(9);
    const first = [...shuffledBatches(129, 129, rng)][0]!;
    const second = [...shuffledBatches(129, 129, rng)][0]!;
    expect(rng.state.counter).to.equal(2);
    expect(Array.from(first)).to.not.deep.equal(Array.from(second));
    // Thrown by the call itself, not later by the first next().
    thrown(() => shuffledBatches(3, 5, rng, { dropLast: true }), InvalidValueError);
    thrown(() => shuffledBatches(0, 5, rng), InvalidValueError);
    thrown(() => shuffledBatches(5, 2.5, rng), InvalidValueError);
  });

  it('trainValidationSplit holds out round(fraction * n) random rows, both parts in original order', function () {
    const m = new Matrix(129, 3, Float32Array.from({ length: 387 }, (_, i) => i));
    const split = trainValidationSplit(m, 0.2, new CounterRng(6));
    expect(split.validationIndices.length).to.equal(26);
    expect(split.trainIndices.length).to.equal(103);
    const all = [...split.trainIndices, ...split.validationIndices].sort((a, b) => a - b);
    expect(all).to.deep.equal(Array.from({ length: 129 }, (_, i) => i));
    for (const indices of [split.trainIndices, split.validationIndices]) {
      for (let i = 1; i < indices.length; i++) expect(indices[i]!).to.be.greaterThan(indices[i - 1]!);
    }
    split.trainIndices.forEach((r, i) => expect(Array.from(split.train.row(i))).to.deep.equal(Array.from(m.row(r))));
    split.validationIndices.forEach((r, i) => expect(Array.from(split.validation.row(i))).to.deep.equal(Array.from(m.row(r))));
    // A random choice, not the last rows.
    expect(split.validationIndices[0]).to.be.below(103);
    expect(trainValidationSplit(new Matrix(3, 1), 0.5, new CounterRng(1)).validation.rows).to.equal(2);
  });

  it('trainValidationSplit refuses fractions that leave a part empty', function () {
    const m = new Matrix(3, 1);
    for (const fraction of [0, 1, NaN, -0.1, 0.1, 0.9]) thrown(() => trainValidationSplit(m, fraction, new CounterRng(1)), InvalidValueError);
    thrown(() => trainValidationSplit(new Matrix(1, 1), 0.5, new CounterRng(1)), InvalidValueError);
  });
});
