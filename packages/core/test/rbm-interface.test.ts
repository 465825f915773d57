import { expect } from 'chai';
import { InvalidValueError, Matrix, ReferenceBackend, ShapeError } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { RBM, Trainer, UpdateNormMetric, WeightNormMetric, pseudoLogLikelihoodRows } from '@boltzmann/core';
import { matrix64, randomBinary, randomHostRBM, toParams } from './helpers.js';

const be = new ReferenceBackend();
/** The weight tensor of an RBM. */
const weightsOf = (m: RBM) => m.parameters.find((p) => p.name === 'visible-hidden.weights')!.tensor;
const norm = (xs: ArrayLike<number>) => Math.sqrt(Array.from(xs).reduce((s, x) => s + x * x, 0));

describe('weight norm and update norm metrics', function () {
  it('weightNorm is the Frobenius norm of the weights; updateNorm the mean norm of the observed steps\' weight changes', async function () {
    const rbm = RBM.create(be, { visible: 3, hidden: 129, weightStd: 0.5, seed: 4 });
    const weights = new WeightNormMetric(rbm);
    expect(await weights.value()).to.be.closeTo(norm(be.readSync(weightsOf(rbm)).data), 1e-12);
    const updates = new UpdateNormMetric(rbm);
    expect(Number.isNaN(await updates.value())).to.equal(true);
    const trainer = new Trainer(rbm, { learningRate: 0.3, batchSize: 4 });
    const data = randomBinary(8, 3, 2);
    const changes: number[] = [];
    for (const observed of [true, false, true]) {
      const before = be.readSync(weightsOf(rbm));
      if (observed) updates.beforeStep();
      await trainer.partialFit(data.sliceRows(0, 4));
      updates.update();
      const after = be.readSync(weightsOf(rbm));
      if (observed) changes.push(norm(after.data.map((x, i) => x - before.data[i]!)));
    }
    expect(updates.steps).to.equal(2);
    expect(await updates.value()).to.be.closeTo((changes[0]! + changes[1]!) / 2, 1e-12);
    updates.reset();
    expect(updates.steps).to.equal(0);
    updates.dispose();
  });

  it('the trainer\'s epoch report carries both', async function () {
    const rbm = RBM.create(be, { visible: 4, hidden: 3, seed: 1 });
    const data = randomBinary(5, 4, 3);
    const trainer = new Trainer(rbm, { batchSize: 5, learningRate: 0.2 }); // one step an epoch: it is the observed one
    let before: Matrix | undefined;
    const [r1, r2] = await trainer.fit(data, { epochs: 2, onEpoch: (r) => void (r.epoch === 1 ? (before = be.readSync(weightsOf(rbm))) : undefined) });
    const after = be.readSync(weightsOf(rbm));
    expect(r1!.weightNorm).to.be.closeTo(norm(before!.data), 1e-12);
    expect(r2!.weightNorm).to.be.closeTo(norm(after.data), 1e-12);
    expect(r2!.updateNorm).to.be.closeTo(norm(after.data.map((x, i) => x - before!.data[i]!)), 1e-12);
  });
});

describe('initialisation', function () {
  it('weights N(0, std) seeded; weights and biases from arrays', async function () {
    const wide = RBM.create(be, { visible: 64, hidden: 129, weightStd: 0.3, seed: 7 });
    const w = Array.from(be.readSync(weightsOf(wide)).data);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(mean).to.be.closeTo(0, 0.01);
    expect(std).to.be.closeTo(0.3, 0.01);
    const again = RBM.create(be, { visible: 64, hidden: 129, weightStd: 0.3, seed: 7 });
    expect(Array.from(be.readSync(weightsOf(again)).data)).to.deep.equal(Array.from(w));

    const given = RBM.create(be, { visible: 2, hidden: 3, weights: matrix64([[1, 2, 3], [4, 5, 6]]), visibleBias: [0.5, -0.5], hiddenBias: matrix64([[1, 0, -1]]) });
    const p = await given.getParams();
    expect(Array.from(p['visible.bias']!.data)).to.deep.equal([0.5, -0.5]);
    expect(Array.from(p['hidden.bias']!.data)).to.deep.equal([1, 0, -1]);
    expect(Array.from(p['visible-hidden.weights']!.data)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(() => RBM.create(be, { visible: 2, hidden: 3, visibleBias: [1, 2, 3] })).to.throw(ShapeError, 'visibleBias must hold 2 values, got 3');
    expect(() => RBM.create(be, { visible: 2, hidden: 3, hiddenBias: new Matrix(3, 1) })).to.throw(ShapeError, 'hiddenBias must be 1x3, got 3x1');
    expect(() => RBM.create(be, { visible: 2, hidden: 3, hiddenBias: [0, NaN, 0] })).to.throw(InvalidValueError, /NaN at row 0, col 1/);
  });

  it('initFrom copies another RBM\'s parameters across backends and precisions, and refuses other shapes', async function () {
    const source = RBM.create(new CpuBackend({ precision: 'float32' }), { visible: 5, hidden: 3, seed: 2, weightStd: 1, hiddenBias: [0.25, -1, 2] });
    const copy = RBM.create(be, { visible: 5, hidden: 3, initFrom: source });
    const [a, b] = [await source.getParams(), await copy.getParams()];
    for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).to.deep.equal(Array.from(a[name]!.data));
    expect(() => RBM.create(be, { visible: 5, hidden: 4, initFrom: source })).to.throw(ShapeError, 'initFrom: parameter "hidden.bias" is 1x3 in the source, 1x4 here');
    expect(() => RBM.create(be, { visible: 5, hidden: 3, initFrom: source, weights: new Matrix(5, 3) })).to.throw(InvalidValueError, /do not also give weights/);
  });
});

describe('the scikit-learn-like interface', function () {
  it('scoreSamples is the per-row pseudo-log-likelihood (seeded), transform/reconstruct/sample/getParams/setParams shapes', async function () {
    const rbm = RBM.create(be, { visible: 6, hidden: 4 });
    rbm.setParams(toParams(randomHostRBM(6, 4, 8)));
    const data = randomBinary(9, 6, 5);
    const scores = await rbm.scoreSamples(data, { seed: 3 });
    expect(Array.from(scores)).to.deep.equal(Array.from(await pseudoLogLikelihoodRows(rbm, data, { seed: 3 })));
    expect(scores.length).to.equal(9);
    expect(Array.from(await rbm.scoreSamples(data))).to.not.deep.equal(Array.from(scores));
    const features = await rbm.transform(data);
    const recon = await rbm.reconstruct(data);
    const samples = await rbm.sample(5, { steps: 3, seed: 1 });
    expect([features.rows, features.cols, recon.rows, recon.cols, samples.rows, samples.cols]).to.deep.equal([9, 4, 9, 6, 5, 6]);
    let caught: unknown;
    try {
      await rbm.scoreSamples(new Matrix(2, 5));
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(ShapeError);
    const other = RBM.create(be, { visible: 6, hidden: 4, seed: 9 });
    other.setParams(await rbm.getParams());
    expect(Array.from(await other.scoreSamples(data, { seed: 3 }))).to.deep.equal(Array.from(scores));
  });

  it('float64 precision: training on a float64 CpuBackend follows the float64 reference to 1e-12; float32 to 1e-4', async function () {
    const data = randomBinary(30, 7, 6);
    const train = async (backend: CpuBackend | ReferenceBackend, d: Matrix) => {
      const rbm = RBM.create(backend, { visible: 7, hidden: 5, seed: 3, weightStd: 0.1 });
      await new Trainer(rbm, { batchSize: 10, seed: 4, learningRate: 0.1 }).fit(d, { epochs: 3, monitor: { freeEnergy: false, pseudoLikelihood: false } });
      return rbm.getParams();
    };
    const reference = await train(be, data);
    const double = await train(new CpuBackend({ precision: 'float64' }), data);
    const single = await train(new CpuBackend({ precision: 'float32' }), data.toFloat32());
    for (const name of Object.keys(reference)) {
      expect(double[name]!.data).to.be.instanceOf(Float64Array);
      double[name]!.data.forEach((x, i) => expect(x, name).to.be.closeTo(reference[name]!.data[i]!, 1e-12));
      expect(single[name]!.data).to.be.instanceOf(Float32Array);
      single[name]!.data.forEach((x, i) => expect(x, name).to.be.closeTo(reference[name]!.data[i]!, 1e-4));
    }
  });
});
