import { expect } from 'chai';
import { CounterRng, InvalidValueError, Matrix } from '@boltzmann/tensor';
import { barsAndStripes, barsAndStripesCount, binarize, gaussianMixture, plantedOneHot } from '@boltzmann/data';
import { thrown } from './helpers.js';

const key = (row: ArrayLike<number>) => Array.from(row).join('');

/** Every size x size binary image in which all rows, or all columns, are constant (brute force). */
function bruteForceBarsAndStripes(size: number): Set<string> {
  const out = new Set<string>();
  for (let code = 0; code < 2 ** (size * size); code++) {
    const px = Array.from({ length: size * size }, (_, i) => Math.floor(code / 2 ** i) % 2);
    const rowsConstant = Array.from({ length: size }, (_, r) => px.slice(r * size, (r + 1) * size).every((v) => v === px[r * size])).every(Boolean);
    const colsConstant = Array.from({ length: size }, (_, c) => px.filter((_, i) => i % size === c).every((v) => v === px[c])).every(Boolean);
    if (rowsConstant || colsConstant) out.add(px.join(''));
  }
  return out;
}

describe('synthetic data sets', function () {
  describe('bars and stripes', function () {
    it('lists exactly the 2^(n+1) - 2 distinct patterns (checked against brute force)', function () {
      for (const size of [1, 2, 3, 4]) {
        const m = barsAndStripes(size);
        expect([m.rows, m.cols]).to.deep.equal([barsAndStripesCount(size), size * size]);
        expect(m.rows).to.equal(2 ** (size + 1) - 2);
        const listed = Array.from({ length: m.rows }, (_, r) => key(m.row(r)));
        expect(new Set(listed).size, 'distinct').to.equal(m.rows);
        expect(new Set(listed)).to.deep.equal(bruteForceBarsAndStripes(size));
      }
      // The documented order: stripe pattern 1 (top row on) then, after all stripes, bar pattern 1 (left column on).
      expect(key(barsAndStripes(3).row(1))).to.equal('111000000');
      expect(key(barsAndStripes(3).row(8))).to.equal('100100100');
    });

    it('samples uniformly over the distinct patterns, reproducibly', function () {
      const all = new Map<string, number>();
      const listed = barsAndStripes(3);
      for (let r = 0; r < listed.rows; r++) all.set(key(listed.row(r)), 0);
      const n = 7001;
      const sample = barsAndStripes(3, { count: n, rng: new CounterRng(5) });
      for (let r = 0; r < n; r++) {
        const k = key(sample.row(r));
        expect(all.has(k), k).to.equal(true);
        all.set(k, all.get(k)! + 1);
      }
      // Chi-square with 13 degrees of freedom: 45 is far in the tail (p < 1e-4). Drawing the
      // orientation first without the redraw (all-off and all-on twice as likely) gives about 650.
      const expected = n / 14;
      const chi2 = [...all.values()].reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
      expect(chi2).to.be.below(45);
      expect(Array.from(barsAndStripes(3, { count: 5, rng: new CounterRng(9) }).data)).to.deep.equal(Array.from(barsAndStripes(3, { count: 5, rng: new CounterRng(9) }).data));
      const one = barsAndStripes(1, { count: 129, rng: new CounterRng(1) });
      expect(new Set(one.data)).to.deep.equal(new Set([0, 1]));
    });

    it('rejects sampling without an rng and listing too many patterns', function () {
      thrown(() => barsAndStripes(3, { count: 4 }), InvalidValueError);
      thrown(() => barsAndStripes(20), InvalidValueError);
      thrown(() => barsAndStripes(0), InvalidValueError);
    });
  });

  describe('Gaussian mixture', function () {
    const weights = [0.2, 0.3, 0.5];
    const g = gaussianMixture({ components: 3, dim: 5, count: 3001, std: 0.5, separation: 4, weights: [2, 3, 5], rng: new CounterRng(3) });

    it('returns the planted truth: normalised weights, means, labels', function () {
      expect([g.data.rows, g.data.cols, g.means.rows, g.means.cols]).to.deep.equal([3001, 5, 3, 5]);
      expect(Array.from(g.weights)).to.deep.equal(weights);
      expect(g.std).to.equal(0.5);
      const counts = [0, 0, 0];
      for (const l of g.labels) counts[l]!++;
      counts.forEach((c, k) => expect(c).to.be.closeTo(3001 * weights[k]!, 5 * Math.sqrt(3001 * weights[k]! * (1 - weights[k]!))));
    });

    it('each component has the planted mean and variance (float64 recount)', function () {
      let squares = 0;
      for (let k = 0; k < 3; k++) {
        const rows = Array.from({ length: 3001 }, (_, i) => i).filter((i) => g.labels[i] === k);
        for (let j = 0; j < 5; j++) {
          const mean = rows.reduce((s, i) => s + g.data.get(i, j), 0) / rows.length;
          expect(mean, `component ${k}, coordinate ${j}`).to.be.closeTo(g.means.get(k, j), (5 * 0.5) / Math.sqrt(rows.length));
          squares += rows.reduce((s, i) => s + (g.data.get(i, j) - g.means.get(k, j)) ** 2, 0);
        }
      }
      // Relative standard error of the pooled variance is sqrt(2 / 15005), under 1.2%.
      expect(squares / (3001 * 5)).to.be.closeTo(0.25, 0.25 * 0.06);
    });

    it('is reproducible, never picks a zero-weight component, and checks its options', function () {
      const again = gaussianMixture({ components: 3, dim: 5, count: 3001, std: 0.5, separation: 4, weights: [2, 3, 5], rng: new CounterRng(3) });
      expect(Array.from(again.data.data)).to.deep.equal(Array.from(g.data.data));
      const zero = gaussianMixture({ components: 3, dim: 1, count: 129, weights: [0, 1, 0], rng: new CounterRng(4) });
      expect(new Set(zero.labels)).to.deep.equal(new Set([1]));
      thrown(() => gaussianMixture({ components: 2, dim: 1, count: 1, weights: [1], rng: new CounterRng(1) }), InvalidValueError);
      thrown(() => gaussianMixture({ components: 2, dim: 1, count: 1, weights: [1, -1], rng: new CounterRng(1) }), InvalidValueError);
      thrown(() => gaussianMixture({ components: 2, dim: 1, count: 1, weights: [0, 0], rng: new CounterRng(1) }), InvalidValueError);
      thrown(() => gaussianMixture({ components: 2, dim: 1, count: 1, std: NaN, rng: new CounterRng(1) }), InvalidValueError);
    });
  });

  describe('planted one-hot', function () {
    const s = plantedOneHot({ groups: 3, categories: 5, prototypes: 2, count: 4001, purity: 0.7, rng: new CounterRng(8) });

    it('every group of every row is one-hot', function () {
      expect([s.data.rows, s.data.cols]).to.deep.equal([4001, 15]);
      for (let i = 0; i < 4001; i++) {
        for (let g = 0; g < 3; g++) {
          const block = Array.from(s.data.row(i).subarray(g * 5, g * 5 + 5));
          expect(block.filter((v) => v === 1).length).to.equal(1);
          expect(block.filter((v) => v === 0).length).to.equal(4);
        }
      }
    });

    it('category frequencies match the planted probabilities', function () {
      for (let p = 0; p < 2; p++) {
        const rows = Array.from({ length: 4001 }, (_, i) => i).filter((i) => s.labels[i] === p);
        for (let g = 0; g < 3; g++) {
          let blockSum = 0;
          for (let c = 0; c < 5; c++) {
            const prob = s.probabilities.get(p, g * 5 + c);
            blockSum += prob;
            expect(prob).to.be.closeTo(c === s.favored[p * 3 + g] ? 0.7 : 0.075, 1e-15);
            const freq = rows.reduce((n, i) => n + s.data.get(i, g * 5 + c), 0) / rows.length;
            expect(freq, `prototype ${p}, group ${g}, category ${c}`).to.be.closeTo(prob, 5 * Math.sqrt((prob * (1 - prob)) / rows.length));
          }
          expect(blockSum).to.be.closeTo(1, 1e-12);
        }
      }
    });

    it('handles one category and checks purity', function () {
      const single = plantedOneHot({ groups: 2, categories: 1, prototypes: 3, count: 3, rng: new CounterRng(1) });
      expect(Array.from(single.data.data)).to.deep.equal([1, 1, 1, 1, 1, 1]);
      thrown(() => plantedOneHot({ groups: 1, categories: 4, prototypes: 1, count: 1, purity: 0.2, rng: new CounterRng(1) }), InvalidValueError);
      thrown(() => plantedOneHot({ groups: 1, categories: 4, prototypes: 1, count: 1, purity: 1.1, rng: new CounterRng(1) }), InvalidValueError);
    });
  });

  describe('binarize', function () {
    it('thresholds strictly and keeps the precision', function () {
      const m = new Matrix(1, 4, Float64Array.of(0.2, 0.5, 0.7, -1));
      const b = binarize(m, 0.5);
      expect(b.data).to.be.instanceOf(Float64Array);
      expect(Array.from(b.data)).to.deep.equal([0, 0, 1, 0]);
      thrown(() => binarize(Matrix.fromRows([[NaN]]), 0.5), InvalidValueError);
      thrown(() => binarize(m, NaN), InvalidValueError);
    });

    it('samples Bernoulli draws with the given probabilities', function () {
      const probs = new Matrix(129, 129, new Float32Array(129 * 129).fill(0.3));
      const b = binarize(probs, 'sample', new CounterRng(2));
      const n = 129 * 129;
      const ones = Array.from(b.data).reduce((s, v) => s + v, 0);
      expect(new Set(b.data)).to.deep.equal(new Set([0, 1]));
      expect(ones / n).to.be.closeTo(0.3, 5 * Math.sqrt((0.3 * 0.7) / n));
      const edges = binarize(Matrix.fromRows([[0, 1, 0, 1]]), 'sample', new CounterRng(3));
      expect(Array.from(edges.data)).to.deep.equal([0, 1, 0, 1]);
      thrown(() => binarize(Matrix.fromRows([[1.5]]), 'sample', new CounterRng(1)), InvalidValueError);
      thrown(() => (binarize as unknown as (m: Matrix, mode: 'sample') => Matrix)(probs, 'sample'), InvalidValueError);
    });
  });
});
