import { expect } from 'chai';
import { ReferenceBackend } from '@boltzmann/tensor';
import { BIAS_INIT_EPSILON, RBM, Trainer } from '@boltzmann/core';
import { matrix64, randomBinary } from './helpers.js';

const be = new ReferenceBackend();
const logit = (p: number) => Math.log(p / (1 - p));

describe('Trainer', function () {
  it('sets a fresh visible bias to the logit of the data means, kept 1e-3 away from 0 and 1', async function () {
    const data = matrix64([[0, 1, 0.5], [0, 1, 0], [0, 1, 0], [0, 1, 0.5]]);
    const rbm = RBM.create(be, { visible: 3, hidden: 2 });
    await new Trainer(rbm, { learningRate: 0 }).fit(data, { epochs: 1 });
    const b = Array.from((await rbm.getParams())['visible.bias']!.data);
    expect(BIAS_INIT_EPSILON).to.equal(1e-3);
    expect(b[0]).to.be.closeTo(logit(1e-3), 1e-12);
    expect(b[1]).to.be.closeTo(logit(1 - 1e-3), 1e-12);
    expect(b[2]).to.be.closeTo(logit(0.25), 1e-12);
  });

  it('leaves a visible bias that was already set (a loaded or hand-set model) alone', async function () {
    const rbm = RBM.create(be, { visible: 2, hidden: 2 });
    rbm.setParams({ 'visible.bias': matrix64([[0.3, -0.2]]) }, { partial: true });
    await new Trainer(rbm, { learningRate: 0 }).fit(matrix64([[1, 1]]), { epochs: 1 });
    expect(Array.from((await rbm.getParams())['visible.bias']!.data)).to.deep.equal([0.3, -0.2]);
  });

  it('fit without shuffling equals partialFit on the same batches in order', async function () {
    const data = randomBinary(10, 4, 3);
    const options = { batchSize: 4, shuffle: false, seed: 5, initVisibleBiasFromData: false };
    const a = RBM.create(be, { visible: 4, hidden: 3, seed: 2 });
    await new Trainer(a, options).fit(data, { epochs: 1 });
    const b = RBM.create(be, { visible: 4, hidden: 3, seed: 2 });
    const t = new Trainer(b, options);
    for (const [s, e] of [[0, 4], [4, 8], [8, 10]] as const) t.partialFit(data.sliceRows(s, e));
    const pa = await a.getParams();
    const pb = await b.getParams();
    for (const name of Object.keys(pa)) expect(Array.from(pb[name]!.data), name).to.deep.equal(Array.from(pa[name]!.data));
    expect(t.step).to.equal(3);
  });

  it('onEpoch returning false stops; reports count epochs and steps across fit calls', async function () {
    const rbm = RBM.create(be, { visible: 4, hidden: 3 });
    const trainer = new Trainer(rbm, { batchSize: 3 });
    const data = randomBinary(7, 4, 1);
    const first = await trainer.fit(data, { epochs: 5, onEpoch: (r) => r.epoch < 2 });
    expect(first.map((r) => [r.epoch, r.step])).to.deep.equal([[1, 3], [2, 6]]);
    const more = await trainer.fit(data, { epochs: 1, monitor: { freeEnergy: false, pseudoLikelihood: false } });
    expect(more.map((r) => [r.epoch, r.step])).to.deep.equal([[3, 9]]);
    expect(more[0]!.freeEnergy).to.equal(undefined);
    expect(first[0]!.freeEnergy!.validation).to.equal(undefined);
    expect(first[0]!.meanHiddenActivation).to.be.within(0, 1);
  });

  it('held-out scores are reported beside the training ones', async function () {
    const rbm = RBM.create(be, { visible: 4, hidden: 3 });
    const [r] = await new Trainer(rbm).fit(randomBinary(20, 4, 1), { epochs: 1, validation: randomBinary(6, 4, 2) });
    expect(r!.freeEnergy!.validation).to.be.a('number');
    expect(r!.pseudoLogLikelihood!.validation).to.be.below(0);
  });
});
