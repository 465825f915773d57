import { expect } from 'chai';
import { DivergenceError, Matrix, ReferenceBackend, type Tensor } from '@boltzmann/tensor';
import { RBM, SparsityTarget, Trainer, type Adam, type Schedule, type TrainerOptions } from '@boltzmann/core';
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
