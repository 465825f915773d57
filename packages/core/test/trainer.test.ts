import { expect } from 'chai';
import { DivergenceError, InvalidValueError, ReferenceBackend } from '@boltzmann/tensor';
import { BIAS_INIT_EPSILON, BoltzmannMachine, ConditionalRBM, DBM, RBM, Trainer, decodeModel, encodeModel, monitorSupport, trainingLoop } from '@boltzmann/core';
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
    for (const [s, e] of [[0, 4], [4, 8], [8, 10]] as const) await t.partialFit(data.sliceRows(s, e));
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

  it('an AbortSignal stops fit between two steps, mid-epoch too: the reports of the epochs that ended, the counters where it stopped', async function () {
    const rbm = RBM.create(be, { visible: 4, hidden: 3 });
    const trainer = new Trainer(rbm, { batchSize: 3 });
    const data = randomBinary(7, 4, 1);
    const controller = new AbortController();
    const reports = await trainer.fit(data, { epochs: 5, signal: controller.signal, onEpoch: (r) => void (r.epoch === 2 && controller.abort()) });
    expect(reports.map((r) => r.epoch)).to.deep.equal([1, 2]);
    expect([trainer.epoch, trainer.step]).to.deep.equal([2, 6]);
    const mid = new AbortController();
    // Abort while the next step runs: the loop stops before the step after it.
    const step = trainer.trainStep.bind(trainer);
    trainer.trainStep = (batch, options) => step(batch, options).then(() => void (trainer.step === 7 && mid.abort()));
    expect(await trainer.fit(data, { epochs: 1, signal: mid.signal })).to.deep.equal([]);
    expect([trainer.epoch, trainer.step]).to.deep.equal([2, 7]);
  });

  it("stopped after any step, an epoch's last included, the saved state resumes to the uninterrupted run's bytes", async function () {
    const data = randomBinary(7, 5, 3);
    const options = { batchSize: 3, seed: 4, learningRate: 0.1, estimator: { type: 'pcd', chains: 4 } } as const;
    const fresh = () => RBM.create(be, { visible: 5, hidden: 3, seed: 2 });
    const straight = fresh();
    const straightTrainer = new Trainer(straight, options);
    await straightTrainer.fit(data, { epochs: 3 });
    const expected = await encodeModel(straight, straightTrainer);
    for (let stopAfter = 1; stopAfter < 9; stopAfter++) {
      const model = fresh();
      const trainer = new Trainer(model, options);
      const controller = new AbortController();
      const step = trainer.trainStep.bind(trainer);
      trainer.trainStep = (batch, o) => step(batch, o).then(() => void (trainer.step === stopAfter && controller.abort()));
      await trainer.fit(data, { epochs: 3, signal: controller.signal });
      expect(trainer.step).to.equal(stopAfter);
      const loaded = decodeModel(await encodeModel(model, trainer), be);
      await loaded.trainer!.fit(data, { epochs: 3 - loaded.trainer!.epoch });
      const bytes = await encodeModel(loaded.model, loaded.trainer!);
      expect(Buffer.from(bytes).equals(Buffer.from(expected)), `stopped after step ${stopAfter}`).to.equal(true);
    }
    // The same when the consumer of the loop stops at a step's event (break), an epoch's last step included.
    for (let stopAfter = 1; stopAfter < 9; stopAfter++) {
      const model = fresh();
      const trainer = new Trainer(model, options);
      for await (const event of trainingLoop(trainer, data, { untilEpoch: 3 })) if (event.type === 'batch-end' && event.step === stopAfter) break;
      expect(trainer.step).to.equal(stopAfter);
      const loaded = decodeModel(await encodeModel(model, trainer), be);
      await loaded.trainer!.fit(data, { epochs: 3 - loaded.trainer!.epoch });
      const bytes = await encodeModel(loaded.model, loaded.trainer!);
      expect(Buffer.from(bytes).equals(Buffer.from(expected)), `stopped at the event of step ${stopAfter}`).to.equal(true);
    }
  });

  it('held-out scores are reported beside the training ones', async function () {
    const rbm = RBM.create(be, { visible: 4, hidden: 3 });
    const [r] = await new Trainer(rbm).fit(randomBinary(20, 4, 1), { epochs: 1, validation: randomBinary(6, 4, 2) });
    expect(r!.freeEnergy!.validation).to.be.a('number');
    expect(r!.pseudoLogLikelihood!.validation).to.be.below(0);
  });
});

describe('Trainer monitoring on models beyond the Bernoulli RBM', function () {
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
  const quiet = { learningRate: 0, momentum: 0, weightDecay: 0, initVisibleBiasFromData: false } as const;

  it('a DBM: no free energy or pseudo-likelihood by default (no closed form); asking for them names the connection in the way', async function () {
    const dbm = DBM.create(be, { layers: [4, 3, 2], seed: 1 });
    const trainer = new Trainer(dbm, { estimator: { type: 'mean-field-pcd' }, batchSize: 5 });
    const [r] = await trainer.fit(randomBinary(10, 4, 1), { epochs: 1, validation: randomBinary(4, 4, 2) });
    expect(r!.freeEnergy).to.equal(undefined);
    expect(r!.pseudoLogLikelihood).to.equal(undefined);
    expect(r!.reconstructionError).to.be.a('number').and.satisfy(Number.isFinite);
    expect(r!.meanHiddenActivation).to.be.within(0, 1);
    const before = trainer.step;
    for (const monitor of [{ freeEnergy: true }, { pseudoLikelihood: true, freeEnergy: false }]) {
      let error: unknown;
      await trainer.fit(randomBinary(10, 4, 1), { epochs: 1, monitor }).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(InvalidValueError);
      expect((error as Error).message).to.match(monitor.freeEnergy ? /monitor\.freeEnergy: .*connection "hidden1-hidden2" joins layers "hidden1" and "hidden2"/ : /monitor\.pseudoLikelihood: .*free energ/);
    }
    expect(trainer.step, 'refused before training').to.equal(before);
  });

  it('a Gaussian-visible RBM: asking for the pseudo-likelihood is an error naming the units', async function () {
    const rbm = RBM.create(be, { visible: { type: 'gaussian', size: 3 }, hidden: 2 });
    const trainer = new Trainer(rbm);
    const data = matrix64([[0.5, -1, 2], [1, 0, -0.5]]);
    const [r] = await trainer.fit(data, { epochs: 1 });
    expect(r!.pseudoLogLikelihood).to.equal(undefined);
    expect(r!.freeEnergy!.train).to.satisfy(Number.isFinite);
    let error: unknown;
    await trainer.fit(data, { epochs: 1, monitor: { pseudoLikelihood: true } }).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(InvalidValueError);
    expect((error as Error).message).to.match(/monitor\.pseudoLikelihood: .*flips binary units.*layer "visible" holds gaussian units/);
  });

  it('a Boltzmann machine with lateral weights trains under wake/dream: reconstruction and hidden activation are NaN, free energy absent', async function () {
    const bm = BoltzmannMachine.create(be, { visible: 4, hidden: 2, weightStd: 0.5, seed: 3 });
    expect(() => new Trainer(bm), 'CD cannot sample it').to.throw(InvalidValueError, /close an odd cycle.*block Gibbs/);
    const trainer = new Trainer(bm, { estimator: { type: 'wake-dream' }, learningRate: 0.1, batchSize: 5 });
    const [r] = await trainer.fit(randomBinary(10, 4, 4), { epochs: 1, validation: randomBinary(4, 4, 5) });
    expect(r!.reconstructionError).to.be.NaN;
    expect(r!.meanHiddenActivation).to.be.NaN;
    expect(r!.freeEnergy).to.equal(undefined);
    expect(r!.pseudoLogLikelihood).to.equal(undefined);
    expect(r!.weightNorm).to.be.above(0);
    let error: unknown;
    await trainer.fit(randomBinary(10, 4, 4), { epochs: 1, monitor: { freeEnergy: true, pseudoLikelihood: false } }).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(InvalidValueError);
    expect((error as Error).message).to.match(/monitor\.freeEnergy: .*connection "hidden-hidden" joins layer "hidden" to itself/);
  });

  it('a semi-restricted machine (lateral visible weights only): free energy, pseudo-likelihood and hidden activation against float64 references', async function () {
    const bm = BoltzmannMachine.create(be, { visible: 4, hidden: 3, lateral: { hidden: false }, weightStd: 0.7, bias: [0.3, -0.2, 0.1, 0.4, -0.5, 0.2, 0.6], seed: 7 });
    const p = await bm.getParams();
    const b = p['visible.bias']!.data;
    const c = p['hidden.bias']!.data;
    const L = p['visible-visible.weights']!;
    const W = p['visible-hidden.weights']!;
    const data = randomBinary(12, 4, 6);
    let f = 0;
    let act = 0;
    for (let r = 0; r < data.rows; r++) {
      const v = data.row(r);
      let e = 0;
      for (let i = 0; i < 4; i++) {
        e -= b[i]! * v[i]!;
        for (let j = 0; j < 4; j++) e -= 0.5 * v[i]! * L.data[i * 4 + j]! * v[j]!;
      }
      for (let j = 0; j < 3; j++) {
        let x = c[j]!;
        for (let i = 0; i < 4; i++) x += v[i]! * W.data[i * 3 + j]!;
        e -= softplus(x);
        act += sigmoid(x);
      }
      f += e;
    }
    const [r] = await new Trainer(bm, { estimator: { type: 'wake-dream' }, ...quiet, batchSize: 5 }).fit(data, { epochs: 1 });
    expect(r!.freeEnergy!.train).to.be.closeTo(f / data.rows, 1e-12);
    expect(r!.meanHiddenActivation).to.be.closeTo(act / (data.rows * 3), 1e-12);
    expect(r!.pseudoLogLikelihood!.train).to.be.below(0);
    expect(r!.reconstructionError).to.be.NaN;
  });

  it('a fully visible machine: free energy = mean energy, no hidden activation', async function () {
    const bm = BoltzmannMachine.create(be, { visible: 3, weightStd: 0.8, bias: [0.2, -0.4, 0.1], seed: 2 });
    const p = await bm.getParams();
    const L = p['visible-visible.weights']!;
    const data = randomBinary(8, 3, 9);
    let e = 0;
    for (let r = 0; r < data.rows; r++) {
      const v = data.row(r);
      for (let i = 0; i < 3; i++) {
        e -= p['visible.bias']!.data[i]! * v[i]!;
        for (let j = 0; j < 3; j++) e -= 0.5 * v[i]! * L.data[i * 3 + j]! * v[j]!;
      }
    }
    const [r] = await new Trainer(bm, { estimator: { type: 'wake-dream' }, ...quiet }).fit(data, { epochs: 1 });
    expect(r!.freeEnergy!.train).to.be.closeTo(e / data.rows, 1e-12);
    expect(r!.meanHiddenActivation).to.be.NaN;
    expect(r!.pseudoLogLikelihood!.train).to.be.below(0);
  });
});

describe('Trainer divergence guard outside fit', function () {
  const paramsOf = async (m: RBM) => Object.fromEntries(Object.entries(await m.getParams()).map(([k, v]) => [k, Array.from(v.data)]));

  it('a learning rate that diverges in the first partialFits (before any fit) restores the initial parameters, not zeros', async function () {
    const rbm = RBM.create(be, { visible: 3, hidden: 2, seed: 4 });
    rbm.setParams({ 'visible.bias': matrix64([[0.3, -0.2, 0.1]]) }, { partial: true });
    const initial = await paramsOf(rbm);
    const trainer = new Trainer(rbm, { learningRate: 1e300, momentum: 0.9 });
    const batch = matrix64([[1, 0, 1], [0, 1, 0], [1, 1, 0]]);
    for (let i = 0; i < 4; i++) await trainer.partialFit(batch);
    let error: unknown;
    await trainer.checkFinite().catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(DivergenceError);
    expect(await paramsOf(rbm)).to.deep.equal(initial);
  });

  it('parameters set after the trainer was built, and those a passing checkFinite saw, are the ones put back', async function () {
    const rbm = RBM.create(be, { visible: 3, hidden: 2, seed: 4 });
    const trainer = new Trainer(rbm, { learningRate: 0.1 });
    rbm.setParams({ 'hidden.bias': matrix64([[0.5, -0.5]]) }, { partial: true });
    const set = await paramsOf(rbm);
    const poison = be.upload(matrix64([[NaN, 0, 1]]));
    await trainer.trainStep(poison);
    await trainer.checkFinite().catch(() => undefined);
    expect(await paramsOf(rbm), 'the state before the first step').to.deep.equal(set);
    const batch = matrix64([[1, 0, 1], [0, 1, 0]]);
    for (let i = 0; i < 3; i++) await trainer.partialFit(batch);
    await trainer.checkFinite();
    const checked = await paramsOf(rbm);
    expect(checked).to.not.deep.equal(set);
    await trainer.trainStep(poison);
    let error: unknown;
    await trainer.checkFinite().catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(DivergenceError);
    expect(await paramsOf(rbm), 'the state the last passing check saw').to.deep.equal(checked);
  });
});

describe('monitorSupport', function () {
  it('says which epoch metrics a model allows from visible data alone, and names what is in the way', function () {
    const reasons = (m: Parameters<typeof monitorSupport>[0]) => Object.entries(monitorSupport(m)).filter(([, r]) => r !== undefined).map(([k, r]) => `${k}: ${r}`);
    expect(reasons(RBM.create(be, { visible: 3, hidden: 2 }))).to.deep.equal([]);
    expect(reasons(RBM.create(be, { visible: { type: 'gaussian', size: 3 }, hidden: 2 }))).to.deep.equal([
      'pseudoLogLikelihood: the pseudo-log-likelihood flips binary units (v -> 1 - v, or -v for spins), and layer "visible" holds gaussian units, which declare no two values (twoValued)',
    ]);
    const dbm = reasons(DBM.create(be, { layers: [3, 2, 2] }));
    expect(dbm.map((r) => r.split(':')[0])).to.deep.equal(['freeEnergy', 'pseudoLogLikelihood', 'meanHiddenActivation']);
    expect(dbm[2]).to.match(/layer "hidden1" also depends on layer "hidden2"/);
    const bm = reasons(BoltzmannMachine.create(be, { visible: 3, hidden: 2 }));
    expect(bm.map((r) => r.split(':')[0])).to.deep.equal(['freeEnergy', 'pseudoLogLikelihood', 'reconstructionError', 'meanHiddenActivation']);
    expect(bm[2]).to.match(/block Gibbs sweep, and layers "visible" and "visible" close an odd cycle/);
    expect(reasons(BoltzmannMachine.create(be, { visible: 3 })).map((r) => r.split(':')[0])).to.deep.equal(['reconstructionError', 'meanHiddenActivation']);
    const crbm = reasons(ConditionalRBM.create(be, { visible: 2, hidden: 3, order: 2 }));
    expect(crbm[0]).to.match(/^freeEnergy: .*connection "history-hidden" joins layers "history" and "hidden"/);
  });
});
