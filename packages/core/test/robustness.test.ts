import { expect } from 'chai';
import { CounterRng, DivergenceError, InvalidValueError, Matrix, ReferenceBackend, ShapeError } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { BernoulliLayer, ContrastiveDivergence, DenseConnection, EnergyModel, RBM, Trainer, exactLogLikelihood, type Schedule } from '@boltzmann/core';
import { barsAndStripes, repeatRows } from './helpers.js';

const be = new ReferenceBackend();

describe('divergence guard', function () {
  for (const [label, backend, absurd] of [
    ['float64 reference', be, 1e300],
    ['float32 CpuBackend', new CpuBackend({ precision: 'float32' }), 1e38],
  ] as const) {
    it(`an absurd learning rate throws a DivergenceError naming epoch and parameter, keeping the last good weights (${label})`, async function () {
      const data = repeatRows(barsAndStripes(3), 2);
      const rbm = RBM.create(backend, { visible: 9, hidden: 4, seed: 1 });
      // Sane for two epochs, then absurd.
      const learningRate: Schedule = { value: ({ epoch }) => (epoch < 2 ? 0.1 : absurd), spec: () => ({ type: 'test-jump' }) };
      const trainer = new Trainer(rbm, { learningRate, batchSize: 7, seed: 2 });
      let afterEpoch2: Record<string, Matrix> | undefined;
      let caught: unknown;
      try {
        await trainer.fit(backend === be ? data : data.toFloat32(), {
          epochs: 6,
          onEpoch: async (r) => {
            if (r.epoch === 2) afterEpoch2 = await rbm.getParams();
          },
        });
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(DivergenceError);
      expect((caught as Error).message).to.match(/training diverged in epoch \d: "(visible\.bias|hidden\.bias|visible-hidden\.weights|velocity:[a-z.-]+)" holds NaN or Inf \(learning rate 1e\+\d+/);
      expect((caught as Error).message).to.match(/in epoch 3:/);
      expect(trainer.epoch).to.equal(2);
      const now = await rbm.getParams();
      for (const name of Object.keys(now)) expect(Array.from(now[name]!.data), name).to.deep.equal(Array.from(afterEpoch2![name]!.data));
    });
  }

  it('checkFinite after partialFit names the parameter', async function () {
    const rbm = RBM.create(be, { visible: 2, hidden: 2 });
    const trainer = new Trainer(rbm, { learningRate: 1e308, momentum: 0, batchSize: 2 });
    const batch = Matrix.fromRows([[1, 0], [0, 1]]).toFloat64();
    for (let i = 0; i < 5; i++) await trainer.partialFit(batch);
    let caught: unknown;
    try {
      await trainer.checkFinite();
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(DivergenceError);
    expect((caught as Error).message).to.match(/after step 5: "[a-z.:-]+" holds NaN or Inf/);
  });
});

describe('input validation: clear errors naming the problem', function () {
  const rbm = RBM.create(be, { visible: 3, hidden: 2 });
  const trainer = new Trainer(rbm);
  const good = Matrix.fromRows([[0, 1, 0.5]]).toFloat64();

  it('wrong number of columns', async function () {
    const bad = Matrix.fromRows([[0, 1]]).toFloat64();
    let caught: unknown;
    try {
      await rbm.transform(bad);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(ShapeError);
    expect((caught as Error).message).to.equal('data has 2 columns but the layer has 3 units');
    expect(() => trainer.partialFit(bad)).to.throw(ShapeError, /batch has 2 columns but the layer has 3 units/);
  });

  it('NaN and Inf, with row and column', async function () {
    const bad = Matrix.fromRows([[0, 1, 0], [0, NaN, 1]]).toFloat64();
    let caught: unknown;
    try {
      await trainer.fit(bad, { epochs: 1 });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(InvalidValueError);
    expect((caught as Error).message).to.equal('training data has NaN at row 1, col 1');
    expect(() => trainer.partialFit(Matrix.fromRows([[Infinity, 0, 0]]).toFloat64())).to.throw(InvalidValueError, /batch has Infinity at row 0, col 0/);
  });

  it('values outside [0, 1] for Bernoulli visible units', async function () {
    const bad = Matrix.fromRows([[0, 1, 0], [1, 0, 1.5]]).toFloat64();
    expect(() => trainer.partialFit(bad)).to.throw(InvalidValueError, /batch \(Bernoulli units of layer "visible"\) must lie in \[0, 1\], got 1\.5 at row 1, col 2/);
    let caught: unknown;
    try {
      await trainer.fit(good, { epochs: 1, validation: Matrix.fromRows([[-1, 0, 0]]).toFloat64() });
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).to.match(/validation data .* got -1 at row 0, col 0/);
    let caught2: unknown;
    try {
      await exactLogLikelihood(rbm, bad);
    } catch (error) {
      caught2 = error;
    }
    expect((caught2 as Error).message).to.match(/got 1\.5 at row 1, col 2/);
  });

  it('layer size 0, bad options, bad parameters', function () {
    expect(() => RBM.create(be, { visible: 3, hidden: 0 })).to.throw(InvalidValueError, 'size of layer "hidden" must be a positive integer, got 0');
    expect(() => RBM.create(be, { visible: 2.5, hidden: 2 })).to.throw(InvalidValueError, /size of layer "visible"/);
    expect(() => RBM.create(be, { visible: 3, hidden: 2, weightStd: -1 })).to.throw(InvalidValueError, /weightStd must be a finite number in \[0, Infinity\], got -1/);
    expect(() => RBM.create(be, { visible: 3, hidden: { type: 'gausian', size: 2 } })).to.throw(InvalidValueError, /unknown unit type "gausian"; registered: bernoulli, gaussian, multinomial, relu, softmax/);
    expect(() => RBM.create(be, { visible: 3, hidden: 2, weights: new Matrix(2, 3) })).to.throw(ShapeError, /weights of "visible-hidden" must be 3x2/);
    expect(() => new Trainer(rbm, { batchSize: 0 })).to.throw(InvalidValueError, /batchSize must be an integer/);
    expect(() => new Trainer(rbm, { learningRate: NaN })).to.throw(InvalidValueError, /learningRate/);
    expect(() => new Trainer(rbm, { estimator: { type: 'fast-pcd' } })).to.throw(InvalidValueError, /unknown estimator "fast-pcd"; registered: cd, .*\bpcd\b/);
    expect(() => new ContrastiveDivergence(rbm, { k: 0 })).to.throw(InvalidValueError, /k \(Gibbs steps/);
    expect(() => new ContrastiveDivergence(rbm, { meanLayers: ['visble'] })).to.throw(InvalidValueError, /no layer "visble"; layers: visible, hidden/);
    expect(() => rbm.setParams({ 'hidden.bias': new Matrix(1, 3) }, { partial: true })).to.throw(ShapeError, 'parameter "hidden.bias" must be 1x2, got 1x3');
    expect(() => rbm.setParams({ 'hidden.bias': Matrix.fromRows([[0, NaN]]) }, { partial: true })).to.throw(InvalidValueError, /parameter "hidden.bias" has NaN at row 0, col 1/);
    expect(() => rbm.setParams({ weights: new Matrix(3, 2) })).to.throw(InvalidValueError, /unknown parameter "weights"; parameters: visible.bias, hidden.bias, visible-hidden.weights/);
    expect(() => rbm.setParams({})).to.throw(InvalidValueError, /parameter "visible.bias" is missing/);
  });

  it('contrastive divergence refuses graphs it cannot handle (a 3-layer chain)', function () {
    const v = new BernoulliLayer(be, { name: 'v', size: 3 });
    const h1 = new BernoulliLayer(be, { name: 'h1', size: 2 });
    const h2 = new BernoulliLayer(be, { name: 'h2', size: 2 });
    const rng = new CounterRng(1);
    const dbm = new EnergyModel(be, [v, h1, h2], [new DenseConnection(be, 'v-h1', v, h1, { std: 0.1, rng }), new DenseConnection(be, 'h1-h2', h1, h2, { std: 0.1, rng })]);
    expect(() => new ContrastiveDivergence(dbm)).to.throw(InvalidValueError, /contrastive divergence needs every hidden layer connected only to the visible layer.*layers v, h2 are all clamped/);
    expect(() => new EnergyModel(be, [v, v], [])).to.throw(InvalidValueError, 'two layers are named "v"');
    expect(() => new DenseConnection(be, 'self', v, v, { std: 0.1, rng })).to.throw(ShapeError, /joins layer "v" to itself/);
  });
});
