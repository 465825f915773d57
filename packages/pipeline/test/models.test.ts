import { expect } from 'chai';
import { BoltzmannMachine, DBM, RBM, SparsityTarget, Trainer, type Adam, type Schedule } from '@boltzmann/core';
import { DivergenceError, InvalidValueError, ReferenceBackend, type Tensor } from '@boltzmann/tensor';
import { of } from 'rxjs';
import { train, type EpochEndEvent, type FinishedEvent, type TrainingEvent } from '@boltzmann/pipeline';
import { plantedRows, runAll } from './helpers.js';

const be = new ReferenceBackend();
const data = plantedRows(30, 6, 1);
const validation = plantedRows(10, 6, 2);

function reports(events: TrainingEvent[]) {
  return events.filter((e): e is EpochEndEvent => e.type === 'epoch-end').map((e) => e.report);
}

function summary(events: TrainingEvent[]) {
  return (events.at(-1) as FinishedEvent).summary;
}

describe('train() on models beyond the Bernoulli RBM', function () {
  it('a Gaussian-visible RBM: no pseudo-likelihood by default; asking for it fails at the call, naming the units', async function () {
    const model = RBM.create(be, { visible: { type: 'gaussian', size: 6 }, hidden: 3, seed: 1 });
    const trainer = new Trainer(model, { batchSize: 10, learningRate: 0.01 });
    const [r] = reports(await runAll(train({ model, trainer, data, validation, epochs: 1 })));
    expect(r!.pseudoLogLikelihood).to.equal(undefined);
    expect(r!.freeEnergy!.validation).to.satisfy(Number.isFinite);
    expect(() => train({ model, trainer, data, epochs: 2 }, { monitor: { pseudoLikelihood: true } })).to.throw(
      InvalidValueError,
      /monitor\.pseudoLikelihood: .*flips binary units.*layer "visible" holds gaussian units/,
    );
  });

  it('a DBM: no free energy or pseudo-likelihood by default, hidden activation from the estimator\'s mean-field data phase; matrix and stream data', async function () {
    const model = DBM.create(be, { layers: [6, 4, 3], seed: 2 });
    const trainer = new Trainer(model, { estimator: { type: 'mean-field-pcd' }, batchSize: 10 });
    const [r] = reports(await runAll(train({ model, trainer, data, validation, epochs: 1 })));
    expect(r!.freeEnergy).to.equal(undefined);
    expect(r!.pseudoLogLikelihood).to.equal(undefined);
    expect(r!.reconstructionError).to.satisfy(Number.isFinite);
    expect(r!.meanHiddenActivation).to.be.within(0, 1);
    const [s] = reports(await runAll(train({ model, trainer, data: rowsStream, epochs: 2 })));
    expect(s!.reconstructionError).to.satisfy(Number.isFinite);
    expect(s!.freeEnergy).to.equal(undefined);
    expect(() => train({ model, trainer, data, epochs: 3 }, { monitor: { freeEnergy: true } })).to.throw(InvalidValueError, /monitor\.freeEnergy: .*"hidden1-hidden2"/);
  });

  it('a Boltzmann machine with lateral weights trains under wake/dream: reconstruction error and hidden activation NaN', async function () {
    const model = BoltzmannMachine.create(be, { visible: 6, hidden: 2, weightStd: 0.3, seed: 3 });
    const trainer = new Trainer(model, { estimator: { type: 'wake-dream' }, batchSize: 10, learningRate: 0.05 });
    const events = await runAll(train({ model, trainer, data, validation, epochs: 1 }));
    const [r] = reports(events);
    expect(r!.reconstructionError).to.be.NaN;
    expect(r!.meanHiddenActivation).to.be.NaN;
    expect(r!.freeEnergy).to.equal(undefined);
    expect(summary(events).reason).to.equal('completed');
  });
});

/** Stream data: one subscription per epoch, 3 batches of the planted rows. */
function rowsStream() {
  return of(data.sliceRows(0, 10), data.sliceRows(10, 20), data.sliceRows(20, 30));
}

describe('early stopping\'s default metric where the pseudo-likelihood is not available', function () {
  it('Gaussian visible units: the free-energy gap with held-out data, else the reconstruction error', async function () {
    for (const withValidation of [true, false]) {
      const model = RBM.create(be, { visible: { type: 'gaussian', size: 6 }, hidden: 3, seed: 1 });
      const trainer = new Trainer(model, { batchSize: 10, learningRate: 0.01 });
      const events = await runAll(train({ model, trainer, data, ...(withValidation ? { validation } : {}), epochs: 2 }, { earlyStopping: { patience: 5 } }));
      const best = summary(events).best!;
      const at = reports(events).find((r) => r.epoch === best.epoch)!;
      expect(best.metric).to.equal(withValidation ? 'freeEnergyGap' : 'reconstructionError');
      expect(best.value).to.equal(withValidation ? at.freeEnergy!.validation! - at.freeEnergy!.train : at.reconstructionError);
    }
  });

  it('a metric the model cannot give is an error at the call, and so is a model with no default at all', function () {
    const gaussian = RBM.create(be, { visible: { type: 'gaussian', size: 6 }, hidden: 3 });
    const t1 = new Trainer(gaussian);
    expect(() => train({ model: gaussian, trainer: t1, data, validation, epochs: 2 }, { earlyStopping: { metric: 'pseudoLogLikelihood' } })).to.throw(
      InvalidValueError,
      /earlyStopping\.metric "pseudoLogLikelihood": .*gaussian units/,
    );
    const bm = BoltzmannMachine.create(be, { visible: 6, hidden: 2 });
    const t2 = new Trainer(bm, { estimator: { type: 'wake-dream' } });
    expect(() => train({ model: bm, trainer: t2, data, validation, epochs: 2 }, { earlyStopping: {} })).to.throw(
      InvalidValueError,
      /early stopping has no default metric for this boltzmann-machine model: .*pseudoLogLikelihood.*freeEnergyGap.*reconstructionError.*give earlyStopping\.metric/,
    );
    expect(() => train({ model: bm, trainer: t2, data, epochs: 2 }, { earlyStopping: { metric: 'reconstructionError' } })).to.throw(InvalidValueError, /earlyStopping\.metric "reconstructionError": .*odd cycle/);
  });
});

describe('train() guards the whole training state and checks schedules up front', function () {
  it('a per-epoch list schedule shorter than session.epochs fails at the call (not after training)', function () {
    const model = RBM.create(be, { visible: 6, hidden: 3 });
    const trainer = new Trainer(model, { learningRate: [0.1, 0.05] });
    expect(() => train({ model, trainer, data, epochs: 3 })).to.throw(InvalidValueError, /the learningRate schedule \("list"\) has values for 2 epochs, but training runs to epoch 3/);
    expect(trainer.step).to.equal(0);
    expect(() => train({ model, trainer, data, epochs: 2 })).to.not.throw();
  });

  it('a divergence restores the optimizer\'s and the regularizers\' state with the parameters (Adam\'s step count, a sparsity estimate)', async function () {
    const model = RBM.create(be, { visible: 6, hidden: 3, seed: 1 });
    const learningRate: Schedule = { value: ({ epoch }) => (epoch < 2 ? 0.05 : 1e308), spec: () => ({ type: 'test-jump' }) };
    const trainer = new Trainer(model, { learningRate, optimizer: { type: 'adam' }, regularizers: [{ type: 'sparsity', target: 0.1 }], batchSize: 10, seed: 2 });
    const snapshot = () => ({
      params: Object.fromEntries(model.parameters.map((p) => [p.name, Array.from(be.readSync(p.tensor).data)])),
      state: Object.fromEntries(Object.entries(trainer.stateTensors()).map(([k, t]: [string, Tensor]) => [k, Array.from(be.readSync(t).data)])),
      adamSteps: (trainer.optimizer as Adam).t,
    });
    let good: ReturnType<typeof snapshot> | undefined;
    let error: unknown;
    await new Promise<void>((resolve) =>
      train({ model, trainer, data, epochs: 6 }, { monitor: { freeEnergy: false, pseudoLikelihood: false } }).subscribe({
        next: (e) => void (e.type === 'epoch-end' && e.report.epoch === 2 ? (good = snapshot()) : undefined),
        error: (e: unknown) => {
          error = e;
          resolve();
        },
        complete: resolve,
      }),
    );
    expect(error).to.be.instanceOf(DivergenceError);
    expect(Object.keys(good!.state).some((k) => k.includes('sparsity'))).to.equal(true);
    const now = snapshot();
    expect(now).to.deep.equal(good);
    expect(trainer.regularizers.find((r): r is SparsityTarget => r instanceof SparsityTarget)!.initialized).to.equal(true);
    expect([trainer.epoch, trainer.step]).to.deep.equal([2, 6]);
  });
});
