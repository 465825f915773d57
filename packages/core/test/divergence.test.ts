import { expect } from 'chai';
import { DivergenceError, Matrix, ReferenceBackend, type Tensor } from '@boltzmann/tensor';
import { BlowUpRule, RBM, SparsityTarget, Trainer, buildModel, type Adam, type Schedule, type TrainerOptions } from '@boltzmann/core';
import { loadDigits } from '@boltzmann/data';
import { barsAndStripes, repeatRows } from './helpers.js';

const be = new ReferenceBackend();

describe('a diverging run stops with a DivergenceError and keeps the last good state, whatever the optimizer and regularizers', function () {
  const cases: [string, TrainerOptions, number][] = [
    ['adam', { optimizer: { type: 'adam' } }, 1e308],
    ['l1', { regularizers: [{ type: 'l1', coefficient: 1e-3 }] }, 1e300],
    ['max-norm', { regularizers: [{ type: 'max-norm', maxNorm: 1 }] }, 1e300],
    ['dropout', { regularizers: [{ type: 'dropout', visible: 0.2, hidden: 0.5 }] }, 1e300],
    ['sparsity', { regularizers: [{ type: 'sparsity', target: 0.1 }] }, 1e300],
    ['adam + every regularizer', { optimizer: { type: 'adam' }, regularizers: [{ type: 'l1', coefficient: 1e-3 }, { type: 'dropout' }, { type: 'sparsity' }, { type: 'max-norm', maxNorm: 3 }] }, 1e308],
  ];
  for (const [label, options, absurd] of cases) {
    it(label, async function () {
      const data = repeatRows(barsAndStripes(3), 2);
      const rbm = RBM.create(be, { visible: 9, hidden: 4, seed: 1 });
      // Sane for two epochs, then absurd.
      const learningRate: Schedule = { value: ({ epoch }) => (epoch < 2 ? 0.05 : absurd), spec: () => ({ type: 'test-jump' }) };
      const trainer = new Trainer(rbm, { ...options, learningRate, batchSize: 7, seed: 2 });
      let good: { params: Record<string, Matrix>; state: Record<string, Matrix>; adamSteps?: number } | undefined;
      const snapshot = async () => ({
        params: await rbm.getParams(),
        state: Object.fromEntries(Object.entries(trainer.stateTensors()).map(([k, t]: [string, Tensor]) => [k, be.readSync(t)])),
        ...(trainer.optimizer.type === 'adam' ? { adamSteps: (trainer.optimizer as Adam).t } : {}),
      });
      let caught: unknown;
      try {
        await trainer.fit(data, { epochs: 8, onEpoch: async (r) => void (r.epoch === 2 ? (good = await snapshot()) : undefined), monitor: { freeEnergy: false, pseudoLikelihood: false } });
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(DivergenceError);
      expect((caught as Error).message).to.match(/^training diverged in epoch 3: "(visible\.bias|hidden\.bias|visible-hidden\.weights)" holds NaN or Inf \(learning rate 1e\+30\d/);
      expect(trainer.epoch).to.equal(2);
      const now = await snapshot();
      for (const name of Object.keys(now.params)) expect(Array.from(now.params[name]!.data), name).to.deep.equal(Array.from(good!.params[name]!.data));
      expect(Object.keys(now.state)).to.deep.equal(Object.keys(good!.state));
      for (const name of Object.keys(now.state)) expect(Array.from(now.state[name]!.data), name).to.deep.equal(Array.from(good!.state[name]!.data));
      expect(now.adamSteps).to.equal(good!.adamSteps); // Adam's host step count follows its restored state
      const sparsity = trainer.regularizers.find((r): r is SparsityTarget => r instanceof SparsityTarget);
      if (sparsity) expect(sparsity.initialized).to.equal(true);
    });
  }
});

describe('the slow blow-up: a loss rising by orders of magnitude without NaN is a divergence too', function () {
  // A Gaussian-visible RBM (unit variance) with PCD on raw [0, 1] digits, a step too large, in
  // float64: the reconstruction error goes 0.602, 5.5e4, 1.3e9, 3.4e13, ... and is still finite
  // after 12 epochs, so the NaN check alone never stops it.
  const digits = loadDigits({ split: 'train', count: 300 }).images;
  const gaussianRBM = () =>
    buildModel(be, {
      kind: 'rbm',
      layers: [
        { type: 'gaussian', name: 'visible', size: 784 },
        { type: 'bernoulli', name: 'hidden', size: 32 },
      ],
      connections: [{ type: 'dense', name: 'visible-hidden', from: 'visible', to: 'hidden' }],
    }, { seed: 1 });
  const options = (divergenceFactor?: number | null): TrainerOptions => ({ estimator: { type: 'pcd', k: 1 }, learningRate: 0.1, batchSize: 50, seed: 1, ...(divergenceFactor === undefined ? {} : { divergenceFactor }) });
  const monitor = { freeEnergy: false, pseudoLikelihood: false };

  it('stops with a DivergenceError naming the metric, the epochs and a hint, the last good epoch put back', async function () {
    const model = gaussianRBM();
    const trainer = new Trainer(model, options());
    let good: Record<string, Matrix> | undefined;
    const errors: number[] = [];
    let caught: unknown;
    try {
      await trainer.fit(digits, { epochs: 12, monitor, onEpoch: async (r) => void (errors.push(r.reconstructionError), (good = await model.getParams())) });
    } catch (error) {
      caught = error;
    }
    expect(caught, `reconstruction errors ${errors.join(', ')}`).to.be.instanceOf(DivergenceError);
    const message = (caught as Error).message;
    expect(message).to.match(/^training diverged in epoch 2: the reconstruction error \(reconstructionError\) rose to [\d.e+]+, [\d.e+]+ times its value in the run's first epoch \(0\.6\d* in epoch 1\); the limit is 100 times \(learning rate 0\.1, momentum [\d.]+\); the parameters of epoch 1 were put back\. Lower the learning rate, or standardize the data of Gaussian visible units/);
    expect(message).to.contain('divergenceFactor');
    expect(errors).to.have.length(1);
    expect(trainer.epoch).to.equal(1);
    const now = await model.getParams();
    for (const name of Object.keys(now)) expect(Array.from(now[name]!.data), name).to.deep.equal(Array.from(good![name]!.data));
    trainer.dispose();
    model.dispose();
  });

  it('divergenceFactor sets the rule: null turns it off (12 finite epochs), a larger factor lets the run go further; it is saved with the training config', async function () {
    const model = gaussianRBM();
    const off = new Trainer(model, options(null));
    expect(off.config.divergenceFactor).to.equal(null);
    const reports = await off.fit(digits, { epochs: 12, monitor });
    expect(reports).to.have.length(12);
    expect(reports[11]!.reconstructionError).to.be.above(1e6 * reports[0]!.reconstructionError);
    expect(Number.isFinite(reports[11]!.reconstructionError)).to.equal(true);
    off.dispose();
    model.dispose();
    const wide = gaussianRBM();
    const trainer = new Trainer(wide, options(1e12));
    expect(trainer.config.divergenceFactor).to.equal(1e12);
    let caught: unknown;
    await trainer.fit(digits, { epochs: 12, monitor }).catch((e: unknown) => (caught = e));
    expect((caught as Error).message).to.match(/^training diverged in epoch 4: .* the limit is 1000000000000 times/);
    expect(trainer.epoch).to.equal(3);
    trainer.dispose();
    wide.dispose();
    expect(new Trainer(RBM.create(be, { visible: 2, hidden: 1 })).config.divergenceFactor).to.equal(100);
    expect(() => new Trainer(RBM.create(be, { visible: 2, hidden: 1 }), { divergenceFactor: 1 })).to.throw(/divergenceFactor must be more than 1/);
    expect(() => new Trainer(RBM.create(be, { visible: 2, hidden: 1 }), { divergenceFactor: NaN })).to.throw(/divergenceFactor/);
  });
});

describe('BlowUpRule: the reference is the run\'s first epoch', function () {
  it('a near-perfect fit wandering back up is no blow-up; 100 times the first epoch is; NaN epochs are skipped', function () {
    const rule = new BlowUpRule(100);
    const epoch = (e: number, reconstructionError: number) => {
      const found = rule.find({ reconstructionError });
      if (found === undefined) rule.record(e, { reconstructionError });
      return found;
    };
    expect(epoch(1, NaN)).to.equal(undefined); // not scored: no reference yet
    expect(epoch(2, 0.3)).to.equal(undefined);
    expect(epoch(3, 5e-4)).to.equal(undefined);
    expect(epoch(4, 0.06)).to.equal(undefined); // 120 times the lowest, 0.2 times the first
    expect(epoch(5, 30)).to.equal(undefined); // exactly 100 times: the limit
    expect(epoch(6, 30.5)).to.equal("the reconstruction error (reconstructionError) rose to 30.5, 102 times its value in the run's first epoch (0.3 in epoch 2); the limit is 100 times");
    const tiny = new BlowUpRule(100);
    tiny.record(1, { reconstructionError: 1e-12 });
    expect(tiny.find({ reconstructionError: 1e-5 })).to.equal(undefined); // a first value under 1e-6 counts as 1e-6
    expect(tiny.find({ reconstructionError: 2e-4 })).to.match(/rose to 0\.0002, 200 times/);
  });
});
