import { expect } from 'chai';
import { InvalidValueError, Matrix, ReferenceBackend, rngState, type Tensor } from '@boltzmann/tensor';
import {
  ContrastiveDivergence,
  Dropout,
  L1WeightDecay,
  MaxNorm,
  RBM,
  RngStreams,
  SparsityTarget,
  Trainer,
  defaultComponents,
} from '@boltzmann/core';
import { matrix64, randomBinary, randomHostRBM, toParams } from './helpers.js';

/** The built-in component set (read-only). */
const builtins = defaultComponents();

const be = new ReferenceBackend();
/** The weight tensor of an RBM. */
const weightsOf = (m: RBM) => m.parameters.find((p) => p.name === 'visible-hidden.weights')!.tensor;
const read = (t: Tensor) => Array.from(be.readSync(t).data);

function smallRBM(nv: number, nh: number, seed = 1, scale = 1): RBM {
  const rbm = RBM.create(be, { visible: nv, hidden: nh });
  rbm.setParams(toParams(randomHostRBM(nv, nh, seed, scale)));
  return rbm;
}

/** Column norms of a visible x hidden weight matrix. */
function columnNorms(w: Matrix): number[] {
  return Array.from({ length: w.cols }, (_, j) => Math.sqrt(Array.from({ length: w.rows }, (_, i) => w.get(i, j) ** 2).reduce((a, b) => a + b, 0)));
}

describe('L1 weight decay', function () {
  it('adds coefficient * sign(w) to the weights gradient only (sign(0) = 0)', function () {
    const rbm = RBM.create(be, { visible: 2, hidden: 2 });
    rbm.setParams({ 'visible.bias': matrix64([[1, -1]]), 'hidden.bias': matrix64([[2, 2]]), 'visible-hidden.weights': matrix64([[0.3, -2], [0, 5]]) });
    const grads = rbm.createGradients();
    be.fill(grads.tensors[2]!, 1);
    new L1WeightDecay(0.1).addGradient({ model: rbm, grads });
    expect(grads.tensors.map(read)).to.deep.equal([[0, 0], [0, 0], [1.1, 0.9, 1, 1.1]]);
    expect(builtins.regularizers.get('l1')({ type: 'l1', coefficient: 0.2 }).spec()).to.deep.equal({ type: 'l1', coefficient: 0.2, roles: ['weights'] });
    expect(() => builtins.regularizers.get('l1')({ type: 'l1', coeficient: 0.2 })).to.throw(InvalidValueError, /regularizer "l1" has an unknown option "coeficient"; its options are "coefficient", "roles" \(did you mean "coefficient"\?\)/);
  });
});

describe('max-norm', function () {
  it('scales every hidden unit\'s incoming weight column down to the bound, leaving shorter ones alone', function () {
    const rbm = RBM.create(be, { visible: 2, hidden: 3 });
    // Column norms 5, 0.5 and 0.
    rbm.setParams({ 'visible.bias': matrix64([[0, 0]]), 'hidden.bias': matrix64([[0, 0, 0]]), 'visible-hidden.weights': matrix64([[3, 0.3, 0], [-4, 0.4, 0]]) });
    new MaxNorm(1).afterStep(rbm);
    const w = be.readSync(weightsOf(rbm));
    const expected = [0.6, 0.3, 0, -0.8, 0.4, 0];
    Array.from(w.data).forEach((x, i) => expect(x, `element ${i}`).to.be.closeTo(expected[i]!, 1e-15));
    expect(() => new MaxNorm(0)).to.throw(InvalidValueError, /maxNorm/);
  });

  it('after every training step, every column norm is <= the bound (129 hidden units, a large learning rate)', async function () {
    const rbm = RBM.create(be, { visible: 6, hidden: 129, weightStd: 1, seed: 2 });
    const trainer = new Trainer(rbm, { learningRate: 5, batchSize: 5, regularizers: [{ type: 'max-norm', maxNorm: 0.75 }], weightDecay: 0 });
    const data = randomBinary(20, 6, 3);
    let largest = 0;
    for (let s = 0; s < 8; s++) {
      await trainer.partialFit(data.sliceRows((s % 4) * 5, (s % 4) * 5 + 5));
      const norms = columnNorms(be.readSync(weightsOf(rbm)));
      expect(norms.length).to.equal(129);
      for (const [j, n] of norms.entries()) expect(n, `step ${s}, column ${j}`).to.be.at.most(0.75 * (1 + 1e-12));
      largest = Math.max(largest, ...norms);
    }
    expect(largest).to.be.closeTo(0.75, 1e-9); // the bound was hit, so the constraint was tested
  });

  it('a column whose norm overflows becomes NaN (a divergence to report), not zero', function () {
    const rbm = RBM.create(be, { visible: 2, hidden: 2 });
    rbm.setParams({ 'visible.bias': matrix64([[0, 0]]), 'hidden.bias': matrix64([[0, 0]]), 'visible-hidden.weights': matrix64([[1e200, 0.1], [1e200, 0.1]]) });
    new MaxNorm(1).afterStep(rbm);
    const w = read(weightsOf(rbm));
    expect(Number.isNaN(w[0]!)).to.equal(true);
    expect(w[1]).to.equal(0.1);
  });
});

describe('dropout', function () {
  /** The masks the estimator draws first from `rng` (visible, then hidden), reproduced. */
  function expectedMasks(seed: number, counter: number, nv: number, nh: number, dropVisible: number, dropHidden: number): [number[], number[]] {
    const rng = rngState(seed, RngStreams.gibbs, counter);
    const mv = be.zeros(1, nv);
    const mh = be.zeros(1, nh);
    be.sampleBernoulli(1 - dropVisible, rng, mv);
    be.sampleBernoulli(1 - dropHidden, rng, mh);
    return [read(mv), read(mh)];
  }

  it('masks a unit in both phases: a dropped unit of a one-row batch gets exactly zero gradient, kept ones do not', function () {
    const [nv, nh] = [7, 9];
    const rbm = smallRBM(nv, nh, 4, 2);
    const dropout = new Dropout({ visible: 0.3, hidden: 0.5 });
    const SEED = 8;
    const [mv, mh] = expectedMasks(SEED, 0, nv, nh, 0.3, 0.5);
    expect(mv.includes(0) && mv.includes(1) && mh.includes(0) && mh.includes(1)).to.equal(true);
    const grads = rbm.createGradients();
    const est = new ContrastiveDivergence(rbm, { k: 2 });
    est.computeGradients(be.upload(matrix64([[1, 0, 1, 1, 0, 1, 1]])), grads, rngState(SEED, RngStreams.gibbs), undefined, { masks: dropout.unitMasks });
    const [gb, gc, gw] = grads.tensors.map((t) => be.readSync(t));
    for (let i = 0; i < nv; i++) {
      if (mv[i] === 0) expect(gb!.data[i], `visible bias ${i}`).to.equal(0);
      for (let j = 0; j < nh; j++) if (mv[i] === 0 || mh[j] === 0) expect(gw!.get(i, j), `W[${i}][${j}]`).to.equal(0);
    }
    for (let j = 0; j < nh; j++) if (mh[j] === 0) expect(gc!.data[j], `hidden bias ${j}`).to.equal(0);
    // Kept units learn (with only the data phase masked, the dropped ones would get -<x>_model instead of 0).
    expect(Array.from(gc!.data).filter((x, j) => mh[j] === 1 && x !== 0).length).to.be.above(0);
  });

  it('through the Trainer: one step leaves the weights of the dropped units untouched', async function () {
    const [nv, nh] = [5, 8];
    const rbm = smallRBM(nv, nh, 6);
    const before = be.readSync(weightsOf(rbm));
    const trainer = new Trainer(rbm, { seed: 11, regularizers: [{ type: 'dropout', hidden: 0.5 }], weightDecay: 0, learningRate: 0.5 });
    await trainer.partialFit(matrix64([[1, 1, 0, 0, 1]]));
    // Visible drop 0 draws no visible mask, so the hidden mask is the first op of the step.
    const hiddenMask = read((() => {
      const t = be.zeros(1, nh);
      be.sampleBernoulli(0.5, rngState(11, RngStreams.gibbs, 0), t);
      return t;
    })());
    const after = be.readSync(weightsOf(rbm));
    let changed = 0;
    for (let j = 0; j < nh; j++) {
      for (let i = 0; i < nv; i++) {
        if (hiddenMask[j] === 0) expect(after.get(i, j), `W[${i}][${j}] of dropped hidden ${j}`).to.equal(before.get(i, j));
        else if (after.get(i, j) !== before.get(i, j)) changed++;
      }
    }
    expect(hiddenMask.includes(0)).to.equal(true);
    expect(changed).to.be.above(0);
  });

  it('PCD chains get masks of their own; test-time weight scaling; clear errors', async function () {
    const rbm = smallRBM(4, 6, 2);
    const trainer = new Trainer(rbm, { estimator: { type: 'pcd', chains: 3 }, regularizers: [{ type: 'dropout', visible: 0.2, hidden: 0.5 }], batchSize: 5 });
    await trainer.fit(randomBinary(10, 4, 1), { epochs: 2, monitor: { freeEnergy: false, pseudoLikelihood: false } });
    expect(be.readSync(trainer.estimator.state()['chain.visible']!).rows).to.equal(3);

    const w = be.readSync(weightsOf(rbm));
    const d = new Dropout({ visible: 0.2, hidden: 0.5 });
    d.scaleForInference(rbm, 'up');
    Array.from(be.readSync(weightsOf(rbm)).data).forEach((x, i) => expect(x).to.be.closeTo(w.data[i]! * 0.8, 1e-15));
    d.scaleForInference(rbm, 'down');
    Array.from(be.readSync(weightsOf(rbm)).data).forEach((x, i) => expect(x).to.be.closeTo(w.data[i]! * 0.4, 1e-15));

    expect(() => new Dropout({ hidden: 1 })).to.throw(InvalidValueError, /dropout "hidden"/);
    expect(() => new Trainer(rbm, { estimator: { type: 'wake-dream' }, regularizers: [new Dropout()] })).to.throw(InvalidValueError, /regularizer "dropout" drops units, which the estimator "wake-dream" does not support/);
    expect(() => new Trainer(rbm, { regularizers: [new Dropout(), { type: 'dropout' }] })).to.throw(InvalidValueError, /only one regularizer may mask units/);
  });
});

describe('sparsity target', function () {
  it('keeps q as a damped MEAN activation and adds cost * (q - p) to the bias and cost * mean(v) (q - p) to the weights', function () {
    const rbm = RBM.create(be, { visible: 3, hidden: 2 });
    const s = new SparsityTarget({ target: 0.1, cost: 0.5, damping: 0.8 });
    s.attach(rbm);
    const v1 = matrix64([[1, 0, 1], [0, 0, 1]]);
    const h1 = matrix64([[0.2, 0.9], [0.4, 0.5]]);
    const v2 = matrix64([[1, 1, 1], [0, 1, 0], [1, 1, 0]]);
    const h2 = matrix64([[0.1, 0.3], [0.1, 0.6], [0.4, 0.3]]);
    s.onDataPhase(rbm, [be.upload(v1), be.upload(h1)]);
    expect(read(s.estimate)).to.deep.equal([0.30000000000000004, 0.7]); // the first batch's mean
    s.onDataPhase(rbm, [be.upload(v2), be.upload(h2)]);
    const q = [0.8 * 0.3 + 0.2 * 0.2, 0.8 * 0.7 + 0.2 * 0.4]; // batch means 0.2 and 0.4, not sums
    read(s.estimate).forEach((x, j) => expect(x).to.be.closeTo(q[j]!, 1e-15));
    const grads = rbm.createGradients();
    s.addGradient({ model: rbm, grads });
    const [gb, gc, gw] = grads.tensors.map((t) => be.readSync(t));
    expect(Array.from(gb!.data)).to.deep.equal([0, 0, 0]);
    gc!.data.forEach((x, j) => expect(x).to.be.closeTo(0.5 * (q[j]! - 0.1), 1e-15));
    const vbar = [2 / 3, 1, 1 / 3];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) expect(gw!.get(i, j)).to.be.closeTo(0.5 * vbar[i]! * (q[j]! - 0.1), 1e-15);
    const biasOnly = new SparsityTarget({ weights: false });
    biasOnly.attach(rbm);
    biasOnly.onDataPhase(rbm, [be.upload(v1), be.upload(h1)]);
    const g2 = rbm.createGradients();
    biasOnly.addGradient({ model: rbm, grads: g2 });
    expect(read(g2.tensors[2]!)).to.deep.equal([0, 0, 0, 0, 0, 0]);
    expect(() => new SparsityTarget({ target: 0 })).to.throw(InvalidValueError, /target/);
    expect(() => new SparsityTarget({ layer: 'visible' }).attach(rbm)).to.throw(InvalidValueError, /"visible" is the data layer/);
  });

  it('drives the mean hidden activation to the target on a small data set', async function () {
    const data = randomBinary(200, 16, 5);
    const run = async (regularizers: { type: string; [k: string]: unknown }[]) => {
      const rbm = RBM.create(be, { visible: 16, hidden: 12, seed: 3 });
      // Momentum 0.5: with 0.9 the lag of q (damping 0.9) and the velocity make the feedback loop overshoot.
      const reports = await new Trainer(rbm, { seed: 2, batchSize: 20, learningRate: 0.1, momentum: 0.5, regularizers }).fit(data, { epochs: 30, monitor: { freeEnergy: false, pseudoLikelihood: false } });
      const features = await rbm.transform(data);
      return { report: reports[reports.length - 1]!.meanHiddenActivation, transform: Array.from(features.data).reduce((a, b) => a + b, 0) / features.data.length };
    };
    const free = await run([]);
    const sparse = await run([{ type: 'sparsity', target: 0.08, cost: 2, damping: 0.9 }]);
    expect(free.transform).to.be.above(0.3);
    expect(sparse.transform).to.be.closeTo(0.08, 0.01);
    expect(sparse.report).to.be.closeTo(0.08, 0.01);
  });
});
