import { expect } from 'chai';
import { InvalidValueError, Matrix, ReferenceBackend, rngState } from '@boltzmann/tensor';
import { ContrastiveDivergence, EpochList, ExponentialDecay, RBM, StepDecay, Trainer, toSchedule, defaultComponents } from '@boltzmann/core';
import { randomBinary, randomHostRBM, toParams } from './helpers.js';

/** The built-in component set (read-only). */
const builtins = defaultComponents();

const be = new ReferenceBackend();
const at = (epoch: number, step = 0) => ({ epoch, step });

describe('schedules: per-epoch list, step decay, exponential decay', function () {
  it('give the hand-computed values, by epoch or by step', function () {
    const list = new EpochList([0.1, 0.05, 0.01]);
    expect([0, 1, 2].map((e) => list.value(at(e)))).to.deep.equal([0.1, 0.05, 0.01]);
    expect(list.definedEpochs).to.equal(3);
    expect(() => list.value(at(3))).to.throw(InvalidValueError, /has 3 values \(epochs 0\.\.2\), but epoch 3 was asked for/);

    const stairs = new StepDecay({ initial: 0.1, factor: 0.5, every: 2 });
    expect([0, 1, 2, 3, 4, 7].map((e) => stairs.value(at(e)))).to.deep.equal([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]);
    const stepStairs = new StepDecay({ initial: 1, factor: 0.1, every: 100, unit: 'step' });
    expect(stepStairs.value(at(9, 99))).to.equal(1);
    expect(stepStairs.value(at(0, 250))).to.equal(0.1 ** 2);

    const smooth = new ExponentialDecay({ initial: 0.2, rate: 0.9 });
    expect([0, 1, 3].map((e) => smooth.value(at(e)))).to.deep.equal([0.2, 0.2 * 0.9, 0.2 * 0.9 ** 3]);
    expect(new ExponentialDecay({ initial: 1, rate: 0.5, unit: 'step' }).value(at(0, 4))).to.equal(0.0625);
  });

  it('round-trip through their JSON specs and the registry; arrays are per-epoch lists', function () {
    for (const s of [new EpochList([3, 2, 1]), new StepDecay({ initial: 0.1, factor: 0.5, every: 2 }), new ExponentialDecay({ initial: 0.2, rate: 0.9 })]) {
      const again = toSchedule(JSON.parse(JSON.stringify(s.spec())), 'learningRate');
      for (const e of [0, 1, 2]) expect(again.value(at(e)), s.spec().type).to.equal(s.value(at(e)));
    }
    expect(toSchedule([0.3, 0.2], 'learningRate').value(at(1))).to.equal(0.2);
    expect(builtins.schedules.names()).to.include.members(['constant', 'linear', 'list', 'step-decay', 'exponential']);
    expect(() => new EpochList([])).to.throw(InvalidValueError, /non-empty/);
    expect(() => new EpochList([0.1, NaN])).to.throw(InvalidValueError, /value 1 must be a finite number/);
    expect(() => new StepDecay({ initial: 1, factor: 0.5, every: 0 })).to.throw(InvalidValueError, /every/);
    expect(() => new ExponentialDecay({ initial: 1, rate: -1 })).to.throw(InvalidValueError, /rate/);
  });

  it('a list shorter than the epochs asked for fails at fit time, naming the schedule and the lengths, before any step', async function () {
    const data = randomBinary(12, 4, 1);
    for (const [options, name] of [
      [{ learningRate: [0.1, 0.1, 0.05] }, 'learningRate'],
      [{ momentum: { type: 'list', values: [0.5, 0.6, 0.7] } }, 'momentum'],
      [{ estimator: { type: 'cd', k: [1, 1, 2] } }, 'estimator k'],
    ] as const) {
      const rbm = RBM.create(be, { visible: 4, hidden: 3, seed: 1 });
      const before = await rbm.getParams();
      const trainer = new Trainer(rbm, { batchSize: 4, ...options });
      let caught: unknown;
      try {
        await trainer.fit(data, { epochs: 5 });
      } catch (error) {
        caught = error;
      }
      expect(caught, name).to.be.instanceOf(InvalidValueError);
      expect((caught as Error).message).to.equal(`the ${name} schedule ("list") has values for 3 epochs, but training runs to epoch 5 (5 epochs in all); give at least 5 values`);
      expect(trainer.step).to.equal(0);
      const after = await rbm.getParams();
      expect(Array.from(after['visible-hidden.weights']!.data)).to.deep.equal(Array.from(before['visible-hidden.weights']!.data));
      // Within the list it trains, and a later fit counts the epochs already done.
      await trainer.fit(data, { epochs: 2 });
      let later: unknown;
      try {
        await trainer.fit(data, { epochs: 2 });
      } catch (error) {
        later = error;
      }
      expect((later as Error).message, name).to.match(/has values for 3 epochs, but training runs to epoch 4 \(4 epochs in all\)/);
    }
  });

  it("CD's k follows its schedule: at each epoch the gradient is that of CD with the scheduled constant k", async function () {
    const rbm = RBM.create(be, { visible: 5, hidden: 3 });
    rbm.setParams(toParams(randomHostRBM(5, 3, 4, 2)));
    const batch = be.upload(randomBinary(7, 5, 3));
    const scheduled = new ContrastiveDivergence(rbm, { k: { type: 'list', values: [1, 4, 2] } });
    const gradients = (est: ContrastiveDivergence, epoch: number) => {
      const grads = rbm.createGradients();
      est.computeGradients(batch, grads, rngState(9, 2), undefined, { clock: at(epoch, 10 * epoch) });
      return grads.tensors.flatMap((t) => Array.from(be.readSync(t).data));
    };
    for (const [epoch, k] of [[0, 1], [1, 4], [2, 2]] as const) {
      expect(gradients(scheduled, epoch), `epoch ${epoch}`).to.deep.equal(gradients(new ContrastiveDivergence(rbm, { k }), epoch));
      expect(scheduled.k).to.equal(k);
    }
    // k = 4 and k = 1 really differ here (else the comparison above could not fail).
    expect(gradients(new ContrastiveDivergence(rbm, { k: 4 }), 0)).to.not.deep.equal(gradients(new ContrastiveDivergence(rbm, { k: 1 }), 0));
    expect(scheduled.spec().k).to.deep.equal({ type: 'list', values: [1, 4, 2] });
    expect(new ContrastiveDivergence(rbm, { k: 3 }).spec().k).to.equal(3);
    const fractional = new ContrastiveDivergence(rbm, { k: { type: 'linear', from: 1, to: 2, end: 2 } });
    const refused = await fractional.computeGradients(batch, rbm.createGradients(), rngState(9, 2), undefined, { clock: at(1, 10) }).then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(InvalidValueError);
    expect((refused as Error).message).to.match(/k \(Gibbs steps of contrastive divergence\) at epoch 1, step 10 must be an integer in \[1, .*\], got 1\.5/);
  });

  it('learning rate, momentum and k schedules drive the trainer epoch by epoch', async function () {
    const rbm = RBM.create(be, { visible: 4, hidden: 2 });
    const trainer = new Trainer(rbm, {
      learningRate: { type: 'step-decay', initial: 0.1, factor: 0.5, every: 1 },
      momentum: [0, 0.5, 0.9],
      estimator: { type: 'cd', k: [1, 2, 3] },
      batchSize: 6,
    });
    const reports = await trainer.fit(Matrix.fromRows([[1, 0, 1, 0], [0, 1, 0, 1]]).toFloat64(), { epochs: 3 });
    expect(reports.map((r) => [r.learningRate, r.momentum])).to.deep.equal([[0.1, 0], [0.05, 0.5], [0.025, 0.9]]);
    expect((trainer.estimator as ContrastiveDivergence).k).to.equal(3);
    expect(trainer.config.momentum).to.deep.equal({ type: 'list', values: [0, 0.5, 0.9] });
  });
});
