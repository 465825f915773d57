import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { modelDocument, modelText } from './model-files.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CounterRng, DivergenceError, FormatError, InvalidValueError, Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import {
  RBM,
  RecommenderRBM,
  Trainer,
  compareWithItemMeans,
  holdOutRatings,
  itemMeanPredictions,
  loadModel,
  ratingRmse,
  saveModel,
  type Ratings,
} from '@boltzmann/core';

/** Planted tastes (independent of @boltzmann/data's generator): each of `tastes` groups gives every item a level; users rate with prob `density`, exactly with prob 0.8, else one level off. */
function planted(users: number, items: number, tastes: number, density: number, seed: number): Ratings {
  const rng = new CounterRng(seed, 5);
  const level = rng.uniforms(new Float64Array(tastes * items)).map((u) => Math.floor(u * 5));
  const u3 = rng.uniforms(new Float64Array(users * items * 3));
  const out = { users: [] as number[], items: [] as number[], ratings: [] as number[] };
  for (let u = 0; u < users; u++) {
    const t = u % tastes;
    for (let i = 0; i < items; i++) {
      const [a, b, c] = [u3[3 * (u * items + i)]!, u3[3 * (u * items + i) + 1]!, u3[3 * (u * items + i) + 2]!];
      if (a >= density) continue;
      let l = level[t * items + i]!;
      if (b >= 0.8) l = l === 0 ? 1 : l === 4 ? 3 : l + (c < 0.5 ? 1 : -1);
      out.users.push(u);
      out.items.push(i);
      out.ratings.push(l + 1);
    }
  }
  return out;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('recommender RBM (softmax visible units over rating levels, missing ratings masked)', function () {
  it('predicts the expected rating of the mean-field formula, with only the rated items in p(h | V)', async function () {
    const be = new ReferenceBackend();
    const rbm = RecommenderRBM.create(be, { items: 4, levels: [1, 2, 4], hidden: 3, weightStd: 1, seed: 2 });
    const { 'visible.bias': b0, 'hidden.bias': c0, 'visible-hidden.weights': w } = await rbm.getParams();
    const b = b0!.data.map((_, j) => Math.sin(j + 1));
    const c = c0!.data.map((_, j) => 0.3 * (j - 1));
    rbm.setParams({ 'visible.bias': new Matrix(1, 12, Float64Array.from(b)), 'hidden.bias': new Matrix(1, 3, Float64Array.from(c)) }, { partial: true });
    // user 0 rated item 1 as 4 (level index 2) and item 3 as 1 (index 0)
    const known = { users: [0, 0], items: [1, 3], ratings: [4, 1] };
    const got = await rbm.predict(known, { users: [0, 0, 0], items: [0, 2, 1] });
    const W = (row: number, j: number) => w!.get(row, j);
    const ph = [0, 1, 2].map((j) => sigmoid(c[j]! + W(1 * 3 + 2, j) + W(3 * 3 + 0, j)));
    const expected = (item: number) => {
      const logits = [0, 1, 2].map((k) => b[item * 3 + k]! + ph.reduce((s, p, j) => s + p * W(item * 3 + k, j), 0));
      const z = logits.reduce((s, x) => s + Math.exp(x), 0);
      return logits.reduce((s, x, k) => s + [1, 2, 4][k]! * Math.exp(x) / z, 0);
    };
    [0, 2, 1].forEach((item, q) => expect(got[q]).to.be.closeTo(expected(item), 1e-12));
  });

  it('the masked objective through the core Trainer: one step on a user moves only the weights of the items that user rated', async function () {
    const be = new CpuBackend({ precision: 'float64' });
    const rbm = RecommenderRBM.create(be, { items: 5, levels: [1, 2, 3], hidden: 4, weightStd: 0.5, seed: 3 });
    // Every item is rated by someone; user 1 rated items 1 and 3 only.
    const ratings = { users: [0, 0, 0, 1, 1, 2, 2], items: [0, 2, 4, 1, 3, 0, 4], ratings: [1, 3, 2, 2, 3, 1, 1] };
    const rows = rbm.trainingRows(ratings);
    expect(rows.mask!.row(1).join('')).to.equal('000111000111000');
    const trainer = new Trainer(rbm, { learningRate: 0.5, momentum: 0, weightDecay: 0, initVisibleBiasFromData: false, seed: 2 });
    const before = await rbm.getParams();
    const userRows = (m: Matrix) => be.upload(m.sliceRows(1, 2));
    await trainer.trainStep(userRows(rows.visible), { visibleMask: userRows(rows.mask!) });
    const after = await rbm.getParams();
    const [w0, w1] = [before['visible-hidden.weights']!, after['visible-hidden.weights']!];
    const [b0, b1] = [before['visible.bias']!, after['visible.bias']!];
    const weightsMoved = (unit: number) => [0, 1, 2, 3].some((j) => w1.get(unit, j) !== w0.get(unit, j));
    for (let item = 0; item < 5; item++) {
      const rated = item === 1 || item === 3;
      for (let k = 0; k < 3; k++) {
        expect(weightsMoved(item * 3 + k), `weights of item ${item}, level ${k}`).to.equal(rated);
        expect(b1.get(0, item * 3 + k) !== b0.get(0, item * 3 + k), `bias of item ${item}, level ${k}`).to.equal(rated);
      }
    }
    trainer.dispose();
  });

  it('training never touches the weights or biases of items nobody rated (the mask keeps them out of the energy)', async function () {
    const be = new CpuBackend({ precision: 'float64' });
    const rbm = RecommenderRBM.create(be, { items: 5, levels: [1, 2, 3], hidden: 4, weightStd: 0.5, seed: 3 });
    const before = await rbm.getParams();
    const ratings = { users: [0, 0, 1, 2, 2], items: [0, 2, 0, 2, 4], ratings: [1, 3, 2, 2, 3] }; // items 1 and 3 unrated
    await rbm.fit(ratings, { epochs: 3, batchSize: 2, weightDecay: 0, learningRate: 0.5 });
    const after = await rbm.getParams();
    const w0 = before['visible-hidden.weights']!;
    const w1 = after['visible-hidden.weights']!;
    for (const item of [1, 3]) {
      for (let k = 0; k < 3; k++) {
        for (let j = 0; j < 4; j++) expect(w1.get(item * 3 + k, j)).to.equal(w0.get(item * 3 + k, j));
        // biases were initialised from the (empty) counts, log(1/3), then never moved
        expect(after['visible.bias']!.get(0, item * 3 + k)).to.be.closeTo(Math.log(1 / 3), 1e-15);
      }
    }
    let moved = 0;
    for (let j = 0; j < 4; j++) moved += Math.abs(w1.get(0, j) - w0.get(0, j)) + Math.abs(w1.get(2 * 3 + 2, j) - w0.get(2 * 3 + 2, j));
    expect(moved).to.be.above(1e-3);
  });

  it('beats the item-mean baseline clearly on planted tastes (RMSE on held-out ratings)', async function () {
    const data = planted(240, 30, 4, 0.4, 1);
    const { train, test } = holdOutRatings(data, { fraction: 0.2, seed: 1 });
    const rbm = RecommenderRBM.create(new CpuBackend({ precision: 'float32' }), { items: 30, levels: [1, 2, 3, 4, 5], hidden: 20, seed: 1 });
    const reports = await rbm.fit(train, { epochs: 25, learningRate: 0.05, seed: 1, validation: test });
    const { rbm: rmse, itemMean } = await compareWithItemMeans(rbm, train, test);
    // the noise (20% of ratings one level off) alone costs RMSE ~0.45; item means know no tastes
    expect(itemMean).to.be.above(1.0);
    expect(rmse).to.be.below(0.6);
    expect(rmse).to.be.below(0.6 * itemMean);
    expect(reports.at(-1)!.validationRmse).to.be.closeTo(rmse, 1e-12);
    expect(ratingRmse(itemMeanPredictions(train, test), test.ratings)).to.equal(itemMean);
  });

  it('holds out a fraction of each user, never all of a user', function () {
    const data = { users: [0, 0, 0, 0, 0, 1, 2, 2], items: [0, 1, 2, 3, 4, 0, 0, 1], ratings: [1, 2, 3, 4, 5, 1, 2, 3] };
    const { train, test } = holdOutRatings(data, { fraction: 0.5, seed: 4 });
    expect(train.ratings.length + test.ratings.length).to.equal(8);
    expect(Array.from(test.users).sort()).to.deep.equal([0, 0, 2]);
  });

  it('saves and loads (levels are given again), and rejects bad ratings with clear errors', async function () {
    const be = new CpuBackend({ precision: 'float64' });
    const rbm = RecommenderRBM.create(be, { items: 3, levels: [1, 3, 5], hidden: 2, weightStd: 0.3, seed: 5 });
    const known = { users: [0, 1], items: [0, 2], ratings: [5, 1] };
    const dir = mkdtempSync(join(tmpdir(), 'recommender-'));
    await saveModel(join(dir, 'rec.json'), rbm);
    const loaded = (loadModel(join(dir, 'rec.json'), be).model as RecommenderRBM).withLevels([1, 3, 5]);
    expect(loaded).to.be.instanceOf(RecommenderRBM);
    expect(Array.from(await loaded.predict(known, { users: [0, 1], items: [1, 1] }))).to.deep.equal(Array.from(await rbm.predict(known, { users: [0, 1], items: [1, 1] })));

    const bad = (r: Ratings) => rbm.fit(r, { epochs: 1 }).then(() => expect.fail('should throw'), (e: Error) => e);
    const e1 = await bad({ users: [0, 0], items: [0, 1], ratings: [5, 6] });
    expect(e1).to.be.instanceOf(InvalidValueError);
    expect(e1.message).to.equal('rating 1 (user 0, item 1) is 6, not one of the levels 1, 3, 5');
    expect((await bad({ users: [0], items: [3], ratings: [1] })).message).to.match(/item 3 is outside the 3 items/);
    expect((await bad({ users: [0, 0], items: [1, 1], ratings: [1, 3] })).message).to.match(/user 0 rates item 1 twice/);
    expect(() => RecommenderRBM.create(be, { items: 3, levels: [3, 1] })).to.throw(InvalidValueError, /ascending/);
  });

  it('saves its rating levels: a reloaded model predicts the same ratings on the same scale; bad levels in a file are a FormatError naming the key', async function () {
    const be = new CpuBackend({ precision: 'float64' });
    const levels = [0.5, 1, 1.5, 2.5];
    const rbm = RecommenderRBM.create(be, { items: 4, levels, hidden: 3, weightStd: 0.4, seed: 7 });
    const known = { users: [0, 0, 1, 2], items: [0, 3, 1, 2], ratings: [2.5, 0.5, 1, 1.5] };
    const queries = { users: [0, 0, 1, 1, 2, 3], items: [1, 2, 0, 3, 0, 1] };
    const dir = mkdtempSync(join(tmpdir(), 'recommender-levels-'));
    const file = join(dir, 'rec.json');
    await saveModel(file, rbm);
    const good = modelText(file);
    expect(JSON.parse(good).model.levels).to.deep.equal(levels);

    const loaded = loadModel(file, be).model as RecommenderRBM;
    expect(loaded).to.be.instanceOf(RecommenderRBM);
    expect(loaded.levels).to.deep.equal(levels);
    const expected = await rbm.predict(known, queries);
    expect(Array.from(await loaded.predict(known, queries))).to.deep.equal(Array.from(expected));
    // On the saved scale: levels 1..4 would give other predictions.
    for (const x of expected) expect(x).to.be.within(0.5, 2.5);
    const onDefaultLevels = await (loadModel(file, be).model as RecommenderRBM).withLevels([1, 2, 3, 4]).predict({ ...known, ratings: [4, 1, 2, 3] }, queries);
    expect(Array.from(onDefaultLevels)).to.not.deep.equal(Array.from(expected));
    // Saving the loaded model again gives the same file.
    await saveModel(join(dir, 'again.json'), loaded);
    expect(modelText(join(dir, 'again.json'))).to.equal(good);

    // A file without "levels" (written before the key existed) still loads, on levels 1..K.
    const old = JSON.parse(good);
    delete old.model.levels;
    writeFileSync(file, JSON.stringify(old));
    expect((loadModel(file, be).model as RecommenderRBM).levels).to.deep.equal([1, 2, 3, 4]);

    const badLevels: [unknown, RegExp][] = [
      [[1, 2, 3], /"model\.levels" in model file ".*rec\.json" holds 3 levels, but the visible layer has groups of 4/],
      [[1, 2, 2, 3], /"model\.levels" in model file ".*rec\.json" must be strictly increasing: level 2 \(2\) is not above level 1 \(2\)/],
      [[1, 3, 2, 4], /"model\.levels" .* must be strictly increasing: level 2 \(2\) is not above level 1 \(3\)/],
      [[1, 2, 'x', 4], /"model\.levels" .*: level 2 is "x", not a finite number/],
      ['1,2,3,4', /"model\.levels" .* must be an array of numbers, got "1,2,3,4"/],
    ];
    for (const [value, pattern] of badLevels) {
      const doc = JSON.parse(good);
      doc.model.levels = value;
      writeFileSync(file, JSON.stringify(doc));
      expect(() => loadModel(file, be), JSON.stringify(value)).to.throw(FormatError, pattern);
    }
    // JSON numbers beyond float64 parse as Infinity.
    writeFileSync(file, good.replace(/"levels": \[[^\]]*\]/, '"levels": [1, 2, 3, 1e999]'));
    expect(() => loadModel(file, be)).to.throw(FormatError, /"model\.levels" .*: level 3 is Infinity, not a finite number/);

    // Only a recommender has rating levels.
    const plain = join(dir, 'rbm.json');
    await saveModel(plain, RBM.create(be, { visible: 3, hidden: 2 }));
    const doc = modelDocument(plain);
    expect(doc.model.levels).to.equal(undefined);
    doc.model.levels = [1, 2];
    writeFileSync(plain, JSON.stringify(doc));
    expect(() => loadModel(plain, be)).to.throw(FormatError, /"model\.levels" in model file ".*rbm\.json" holds rating levels, which only a "recommender-rbm" model has; this model is a "rbm"/);
  });
});

describe('RecommenderRBM: divergence', function () {
  it('a learning rate that overflows stops fit with a DivergenceError naming the epoch, the parameters it started from restored', async function () {
    const rbm = RecommenderRBM.create(new CpuBackend({ precision: 'float64' }), { items: 4, levels: [1, 2, 3], hidden: 3, seed: 5 });
    const ratings = { users: [0, 0, 1, 1, 2, 2, 3], items: [0, 1, 1, 2, 0, 3, 2], ratings: [1, 3, 2, 2, 3, 1, 3] };
    await rbm.fit(ratings, { epochs: 1, learningRate: 0.1, batchSize: 1, seed: 5 });
    const good = await rbm.getParams();
    let caught: unknown;
    try {
      await rbm.fit(ratings, { epochs: 2, learningRate: 1e308, batchSize: 1, seed: 5 });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(DivergenceError);
    expect((caught as Error).message).to.match(/^training diverged in epoch 1: ".*" holds NaN or Inf \(learning rate 1e\+308, momentum 0.5\); the last good parameters were restored$/);
    const restored = await rbm.getParams();
    for (const [name, m] of Object.entries(good)) expect(Array.from(restored[name]!.data), name).to.deep.equal(Array.from(m.data));
  });
});
