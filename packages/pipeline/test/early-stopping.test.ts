import { join } from 'node:path';
import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { loadModel, type EpochReport } from '@boltzmann/core';
import { InvalidValueError } from '@boltzmann/tensor';
import { EarlyStopping, resolveTrainOptions, train, type EarlyStopEvent } from '@boltzmann/pipeline';
import { expectSameParams, makeSession, paramsDiffer, plantedRows, runAll, tempDir } from './helpers.js';

function report(epoch: number, fields: Partial<EpochReport> = {}): EpochReport {
  return { epoch, step: epoch * 4, learningRate: 0.1, momentum: 0.5, reconstructionError: 0.1, meanHiddenActivation: 0.5, seconds: 0, ...fields };
}

describe('EarlyStopping (the rule)', function () {
  it('stops after `patience` epochs without an improvement larger than minDelta (max mode)', function () {
    const es = new EarlyStopping({ patience: 2, minDelta: 0.5 });
    const pll = [-10, -9, -8.8, -8.6, -8.55];
    const decisions = pll.map((v, i) => es.update(report(i + 1, { pseudoLogLikelihood: { train: 0, validation: v } })));
    expect(decisions).to.deep.equal(['improved', 'improved', 'waiting', 'stop', 'stop']);
    expect([es.best, es.bestEpoch]).to.deep.equal([-9, 2]);
    expect(es.reason()).to.match(/validation pseudoLogLikelihood did not rise by more than 0\.5 for 3 epochs \(best -9 at epoch 2\)/);
  });

  it('min mode (reconstruction error, free-energy gap) and custom metrics', function () {
    const recon = new EarlyStopping({ metric: 'reconstructionError', patience: 1 });
    expect([0.3, 0.2, 0.25].map((r, i) => recon.update(report(i + 1, { reconstructionError: r })))).to.deep.equal(['improved', 'improved', 'stop']);
    const gap = new EarlyStopping({ metric: 'freeEnergyGap', patience: 3 });
    gap.update(report(1, { freeEnergy: { train: -5, validation: -4 } }));
    expect(gap.best).to.equal(1);
    const custom = new EarlyStopping({ metric: { name: 'epochs', value: (r) => r.epoch, mode: 'min' }, patience: 2 });
    expect([1, 2, 3].map((e) => custom.update(report(e)))).to.deep.equal(['improved', 'waiting', 'stop']);
  });

  it('clear errors for bad options and for a report without the metric', function () {
    expect(() => new EarlyStopping({ patience: 0 })).to.throw(InvalidValueError, /patience must be a positive integer/);
    expect(() => new EarlyStopping({ minDelta: -1 })).to.throw(InvalidValueError, /minDelta/);
    expect(() => new EarlyStopping({ metric: 'accuracy' as never })).to.throw(InvalidValueError, /unknown earlyStopping\.metric "accuracy"/);
    expect(() => new EarlyStopping().update(report(1))).to.throw(InvalidValueError, /watches "validation pseudoLogLikelihood", which the report of epoch 1 does not hold \(give session\.validation/);
  });
});

describe('early stopping in a run', function () {
  const data = plantedRows(37, 9, 1);
  const validation = plantedRows(11, 9, 3);
  let tmp: ReturnType<typeof tempDir>;
  before(function () {
    tmp = tempDir('pipeline-es-');
  });
  after(function () {
    tmp.remove();
  });

  it('stops, restores the best epoch\'s parameters (= a run of that many epochs), and checkpoints the last state', async function () {
    // A metric that is best at epoch 2 and worse afterwards: stop at epoch 2 + patience.
    const metric = { name: 'distance from epoch 2', value: (r: EpochReport) => Math.abs(r.epoch - 2), mode: 'min' as const };
    const path = join(tmp.dir, 'es.json');
    const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
    const events = await runAll(train({ model, trainer, data, validation, epochs: 20 }, { earlyStopping: { metric, patience: 3 }, checkpoint: { path, everyEpochs: 10 } }));
    const stop = events.find((e): e is EarlyStopEvent => e.type === 'early-stop')!;
    expect(stop).to.include({ metric: 'distance from epoch 2', bestValue: 0, bestEpoch: 2, epoch: 5, restoredBest: true });
    const finished = events.at(-1)!;
    expect(finished.type === 'finished' && finished.summary).to.deep.include({ reason: 'early-stop', epochs: 5, best: { metric: 'distance from epoch 2', value: 0, epoch: 2 } });
    expect(events.filter((e) => e.type === 'checkpoint-written').map((e) => e.type === 'checkpoint-written' && e.trigger)).to.deep.equal(['final']);

    const twoEpochs = makeSession(new CpuBackend(), 9, 5);
    await runAll(train({ ...twoEpochs, data, validation, epochs: 2 }));
    await expectSameParams(model, twoEpochs.model);
    // The checkpoint holds the state at the stop (epoch 5), so resuming continues the run, not the best epoch.
    const saved = loadModel(path, new CpuBackend());
    expect(saved.trainer!.epoch).to.equal(5);
    expect(await paramsDiffer(saved.model, model)).to.equal(true);
  });

  it('the default metric falls back alike when monitor options turn the pseudo-likelihood or the free energy off', function () {
    const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
    const metric = (monitor: { freeEnergy?: boolean; pseudoLikelihood?: boolean }, withValidation = true) =>
      resolveTrainOptions({ model, trainer, data, ...(withValidation ? { validation } : {}), epochs: 2 }, { monitor, earlyStopping: {} }).earlyStopping!.metric;
    expect(metric({})).to.equal('pseudoLogLikelihood');
    expect(metric({ pseudoLikelihood: false })).to.equal('freeEnergyGap');
    expect(metric({ pseudoLikelihood: false }, false)).to.equal('reconstructionError');
    expect(metric({ pseudoLikelihood: false, freeEnergy: false })).to.equal('reconstructionError');
    // Named, a metric the monitor options turn off is still an error.
    expect(() => resolveTrainOptions({ model, trainer, data, validation, epochs: 2 }, { monitor: { pseudoLikelihood: false }, earlyStopping: { metric: 'pseudoLogLikelihood' } })).to.throw(
      InvalidValueError,
      /early stopping watches validation pseudoLogLikelihood, which monitor options turn off/,
    );
  });

  it('restoreBest: false keeps the last parameters; the default metric watches held-out PLL', async function () {
    const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
    const events = await runAll(train({ model, trainer, data, validation, epochs: 6 }, { earlyStopping: { patience: 1, minDelta: 1e9, restoreBest: false } }));
    const stop = events.find((e): e is EarlyStopEvent => e.type === 'early-stop')!;
    expect(stop).to.include({ metric: 'validation pseudoLogLikelihood', bestEpoch: 1, epoch: 2, restoredBest: false });
    const reference = makeSession(new CpuBackend(), 9, 5);
    await runAll(train({ ...reference, data, validation, epochs: 2 }));
    await expectSameParams(model, reference.model);
  });
});
