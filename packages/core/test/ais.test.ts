import { expect } from 'chai';
import { InvalidValueError, Matrix } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { binarize, loadDigits } from '@boltzmann/data';
import {
  BoltzmannMachine,
  DBM,
  EnergyModel,
  RBM,
  Trainer,
  aisBetas,
  aisLogLikelihood,
  annealedImportanceSampling,
  exactLogPartition,
  logLikelihoodSandwich,
  logPartitionSandwich,
  pretrainDBM,
  reverseAnnealedImportanceSampling,
  type AISResult,
} from '@boltzmann/core';
import { dbmLogZ, dbmParams, randomHostDBM, wideRbmLogZ } from './dbm-reference.js';
import { randomBinary } from './helpers.js';

const be64 = new CpuBackend({ precision: 'float64' });
const be32 = new CpuBackend({ precision: 'float32' });

/** The exact value lies in AIS's +-3 sigma interval, and the estimate is close (the interval is not vacuous). */
function expectCovers(r: AISResult, exact: number, within: number): void {
  expect(exact, `log Z ${r.logZ} [${r.lower}, ${r.upper}]`).to.be.within(r.lower, r.upper);
  expect(Math.abs(r.logZ - exact)).to.be.below(within);
  expect(r.upper - r.lower).to.be.below(4 * within);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('AIS on a hard trained RBM (784 x 20: PCD without momentum or weight decay, large weights, spurious modes) against exact log Z', function () {
  const data = binarize(loadDigits({ split: 'train', count: 1000 }).images, 0.5);
  const test = binarize(loadDigits({ split: 'test', count: 300 }).images, 0.5);
  let rbm: RBM; // float32: the AIS runs are long, the weights' spread dominates their error
  let exact: number;

  before(async function () {
    rbm = RBM.create(be32, { visible: 784, hidden: 20, seed: 1 });
    await new Trainer(rbm, { seed: 1, learningRate: 0.1, batchSize: 10, momentum: 0, weightDecay: 0, estimator: { type: 'pcd' } }).fit(data, {
      epochs: 10,
      monitor: { freeEnergy: false, pseudoLikelihood: false },
    });
    const rbm64 = RBM.create(be64, { visible: 784, hidden: 20 });
    rbm64.setParams(await rbm.getParams());
    exact = await exactLogPartition(rbm64);
    rbm64.dispose();
  });

  it('is hard: the exact log Z (2^20 hidden states, pairwise route) equals an independent float64 reference, and annealing the hidden units from a uniform start misses it by nats', async function () {
    const p = await rbm.getParams();
    const w = p['visible-hidden.weights']!;
    expect(exact).to.be.closeTo(wideRbmLogZ(w.toFloat64(), p['visible.bias']!.toFloat64().data, p['hidden.bias']!.toFloat64().data), 1e-9);
    expect(Math.max(...Array.from(w.data, Math.abs))).to.be.above(2); // a fresh model's are about 0.01
    const naive = await annealedImportanceSampling(rbm, { start: 'uniform', sumOut: 'even', betas: 300, runs: 25, seed: 5 });
    expect(naive.summedOut).to.deep.equal(['visible']);
    expect(Math.abs(naive.logZ - exact), `naive AIS ${naive.logZ} vs ${exact}`).to.be.above(2);
  });

  it('the default recipe (hidden units summed out, base-rate start, betas dense near 1) lands within 1 nat, and the sandwich holds log Z and the test log-likelihood', async function () {
    const s = await logPartitionSandwich(rbm, { baseRate: data, betas: 3000, runs: 25, seed: 2 });
    const r = s.forward;
    expect([r.summedOut, r.start, r.runs, r.betas, r.logWeights.length]).to.deep.equal([['hidden'], 'base-rate', 25, 3000, 25]);
    expect(r.effectiveSampleSize).to.be.within(1, 25);
    expect(Math.abs(r.logZ - exact), `AIS ${r.logZ} vs exact ${exact}`).to.be.below(1);
    expect(exact, `sandwich [${s.lower}, ${s.upper}]`).to.be.within(s.lower, s.upper);
    expect(s.upperEstimate).to.be.above(s.lowerEstimate - 0.5);
    expect([s.agree, s.warnings]).to.deep.equal([true, []]);
    expect(s.reverse.summedOut).to.deep.equal(['hidden']);
    const ll = await logLikelihoodSandwich(rbm, test, s, { backend: be64 });
    const free = await rbm.freeEnergyOf(test);
    const exactLL = free.reduce((a, f) => a - f / free.length, 0) - exact;
    expect(exactLL).to.be.within(ll.lower, ll.upper);
    expect(ll.upperEstimate).to.be.closeTo(ll.meanNegativeFreeEnergy - r.logZ, 1e-9);
    const rows = await aisLogLikelihood(rbm, test, { logZ: r });
    expect(rows.mean).to.be.closeTo(ll.upperEstimate, 1e-3);
  });

  it('a schedule far too short: the two sides disagree and say so, and the small effective sample size warns', async function () {
    const s = await logPartitionSandwich(rbm, { baseRate: data, betas: 30, runs: 25, seed: 3 });
    expect(s.agree).to.equal(false);
    expect(s.gap).to.be.above(1);
    expect(s.warnings.join('\n')).to.match(/the two sides disagree by [0-9.]+ nats .*use more betas/);
    expect(s.forward.effectiveSampleSize).to.be.below(2.5);
    expect(s.forward.warnings[0]).to.match(/^AIS: the effective sample size of the importance weights is [0-9.]+ of 25 runs/);
  });
});

describe('the log Z sandwich on a hard trained DBM (784-15-9: pretrained, then mean-field PCD without momentum or weight decay) against exact log Z', function () {
  const data = binarize(loadDigits({ split: 'train', count: 600 }).images, 0.5);
  let dbm: DBM; // float32, as trained; the exact value is computed on a float64 copy
  let exact: number;

  before(async function () {
    const quiet = { freeEnergy: false, pseudoLikelihood: false } as const;
    const pretrained = await pretrainDBM(be32, data, { layers: [784, 15, 9], epochs: 10, seed: 3, trainer: { learningRate: 0.1, momentum: 0, weightDecay: 0, batchSize: 20, seed: 3 }, monitor: quiet });
    for (const r of pretrained.rbms) r.dispose();
    dbm = pretrained.dbm;
    await new Trainer(dbm, { estimator: { type: 'mean-field-pcd', k: 1, chains: 50 }, learningRate: 0.1, momentum: 0, weightDecay: 0, batchSize: 20, seed: 3 }).fit(data, { epochs: 10, monitor: quiet });
    const dbm64 = DBM.create(be64, { layers: [784, 15, 9] });
    dbm64.setParams(await dbm.getParams());
    exact = await exactLogPartition(dbm64); // 2^15 states of h1, v and h2 summed out
    dbm64.dispose();
  });

  it('is hard: large weights, and a short AIS on v and h2 from a uniform start misses log Z by nats', async function () {
    const p = await dbm.getParams();
    expect(Math.max(...Array.from(p['visible-hidden1.weights']!.data, Math.abs))).to.be.above(2);
    const naive = await annealedImportanceSampling(dbm, { start: 'uniform', sumOut: 'odd', betas: 300, runs: 20, seed: 5 });
    expect(exact - naive.logZ, `naive AIS ${naive.logZ} vs exact ${exact}`).to.be.above(5); // measured: 20 nats low
  });

  for (const sumOut of ['auto', 'odd'] as const) {
    it(`${sumOut === 'auto' ? 'chains on h1 (v and h2 summed out, the default)' : 'chains on v and h2 (h1 summed out)'}: the exact log Z lies inside the two-sided sandwich for three seeds`, async function () {
      for (const seed of [1, 2, 3]) {
        const s = await logPartitionSandwich(dbm, { baseRate: data, betas: sumOut === 'auto' ? 1000 : 1500, runs: 20, seed, sumOut });
        const at = `seed ${seed}: exact ${exact}, sandwich [${s.lower}, ${s.upper}], AIS ${s.lowerEstimate}, reverse ${s.upperEstimate}`;
        expect(s.reverse.summedOut, at).to.deep.equal(s.forward.summedOut);
        expect(s.forward.summedOut, at).to.deep.equal(sumOut === 'auto' ? ['visible', 'hidden2'] : ['hidden1']);
        expect(exact, at).to.be.within(s.lower, s.upper);
        // Not vacuous: the two estimates within 2.5 nats, the ends within 6 (the lower end is at most log 20 below AIS).
        expect(s.gap, at).to.be.within(-0.5, 2.5);
        expect(s.upper - s.lower, at).to.be.below(6);
      }
    });
  }

  it('a schedule far too short: the sides disagree and say so; the DBM has no -F(v), so the log-likelihood sandwich refuses and names the variational bound', async function () {
    const s = await logPartitionSandwich(dbm, { baseRate: data, betas: 5, runs: 20, seed: 4, sumOut: 'odd' });
    expect(s.agree, `gap ${s.gap}`).to.equal(false);
    expect(s.warnings.join('\n')).to.match(/the two sides disagree/);
    expect((await rejection(logLikelihoodSandwich(dbm, data, s))).message).to.match(/for a DBM subtract the sandwich's ends from variationalLowerBound/);
  });
});

describe('AIS: DBMs against exact enumeration', function () {
  const host = randomHostDBM(10, 8, 6, 11, 1);
  const dbm = DBM.create(be64, { layers: [10, 8, 6] });
  dbm.setParams(dbmParams(host));
  const exact = dbmLogZ(host);
  let data: Matrix; // the model's own samples: the data a base-rate start is meant for

  before(async function () {
    data = await dbm.sample(200, { steps: 100, seed: 1, binary: true });
  });

  for (const start of ['uniform', 'base-rate'] as const) {
    for (const sumOut of ['odd', 'even'] as const) {
      it(`10-8-6, ${start} start, ${sumOut} layers summed out: exact log Z inside +-3 sigma`, async function () {
        const r = await annealedImportanceSampling(dbm, { betas: 1000, runs: 100, start, data: start === 'base-rate' ? data : undefined, sumOut, seed: 3 });
        expect(r.summedOut).to.deep.equal(sumOut === 'odd' ? ['hidden1'] : ['visible', 'hidden2']);
        expectCovers(r, exact, 0.2);
      });
    }
  }

  it('a deeper DBM (8-6-5-4-3) and one with a softmax top layer, both starts', async function () {
    const deep = DBM.create(be64, { layers: [8, 6, 5, 4, 3], seed: 2, weightStd: 0.8 });
    const soft = DBM.create(be64, { layers: [6, 5, { type: 'softmax', size: 4 }], seed: 4, weightStd: 1 });
    for (const model of [deep, soft]) {
      const exactZ = await exactLogPartition(model);
      const x = randomBinary(30, model.layers[0]!.size, 1);
      for (const start of ['uniform', 'base-rate'] as const) {
        const r = await annealedImportanceSampling(model, { betas: 1000, runs: 100, start, data: x, seed: 8 });
        expectCovers(r, exactZ, 0.2);
      }
    }
  });

  it('Gaussian visible units (unit and learned variance) are annealed with their scales kept', async function () {
    for (const variance of ['unit', 'learned'] as const) {
      const rbm = RBM.create(be64, { visible: { type: 'gaussian', size: 6, variance }, hidden: 5, seed: 9, weightStd: 0.4 });
      const params: Record<string, Matrix> = { 'visible.bias': Matrix.fromRows([[0.5, -1, 0.3, 2, 0, -0.4]]).toFloat64(), 'hidden.bias': Matrix.fromRows([[0.2, -0.5, 0.1, 0, 0.3]]).toFloat64() };
      if (variance === 'learned') params['visible.logSigma'] = Matrix.fromRows([[0.3, -0.2, 0, 0.5, -0.4, 0.1]]).toFloat64();
      rbm.setParams(params, { partial: true });
      const exactZ = await exactLogPartition(rbm);
      const x = new Matrix(20, 6, Float64Array.from({ length: 120 }, (_, i) => Math.sin(i) * 2));
      for (const start of ['uniform', 'base-rate'] as const) {
        const r = await annealedImportanceSampling(rbm, { betas: 1000, runs: 100, start, data: x, sumOut: 'odd', seed: 2 });
        expectCovers(r, exactZ, 0.2);
      }
    }
  });

  it('a float32 model annealed on a float64 backend equals the same model in float64; the log weights are reproducible', async function () {
    const m32 = DBM.create(be32, { layers: [7, 5, 4], seed: 3, weightStd: 1 });
    const m64 = DBM.create(be64, { layers: [7, 5, 4] });
    m64.setParams(await m32.getParams());
    const a = await annealedImportanceSampling(m32, { betas: 200, runs: 20, seed: 1, backend: be64 });
    const b = await annealedImportanceSampling(m64, { betas: 200, runs: 20, seed: 1 });
    expect(Array.from(a.logWeights)).to.deep.equal(Array.from(b.logWeights));
    const c = await annealedImportanceSampling(m64, { betas: 200, runs: 20, seed: 2 });
    expect(Array.from(c.logWeights)).to.not.deep.equal(Array.from(b.logWeights));
    // Flushing to the float64 host sum at other intervals changes nothing in float64.
    const d = await annealedImportanceSampling(m64, { betas: 200, runs: 20, seed: 1, flushEvery: 7 });
    Array.from(d.logWeights).forEach((w, i) => expect(w).to.be.closeTo(b.logWeights[i]!, 1e-9));
  });
});

describe('AIS: schedules and bad input', function () {
  it('aisBetas spaces K steps from 0 to 1 like Salakhutdinov & Murray (0.5 and 0.9 at the segment ends)', function () {
    for (const k of [1, 2, 3, 4, 7, 100, 14500]) {
      const b = aisBetas(k);
      expect(b).to.have.length(k + 1);
      expect([b[0], b[k]]).to.deep.equal([0, 1]);
      for (let i = 1; i <= k; i++) expect(b[i]!).to.be.above(b[i - 1]!);
    }
    const full = aisBetas(14500);
    expect(full[500]).to.be.closeTo(0.5, 1e-15);
    expect(full[4500]).to.be.closeTo(0.9, 1e-15);
    expect(full[1] - full[0]!).to.be.closeTo(1e-3, 1e-15);
    expect(full[14500]! - full[14499]!).to.be.closeTo(1e-5, 1e-15);
  });

  it('throws clear errors for zero betas or runs, bad schedules, a base-rate start without data and models it cannot anneal', async function () {
    const rbm = RBM.create(be64, { visible: 4, hidden: 3, seed: 1 });
    expect((await rejection(annealedImportanceSampling(rbm, { betas: 0 }))).message).to.match(/at least one intermediate distribution: betas must be an integer >= 1, got 0/);
    expect((await rejection(annealedImportanceSampling(rbm, { runs: 0 })))).to.be.instanceOf(InvalidValueError).with.property('message').match(/AIS runs must be an integer in \[1/);
    expect((await rejection(annealedImportanceSampling(rbm, { betas: [0.1, 1] }))).message).to.match(/must start at 0 and end at 1/);
    expect((await rejection(annealedImportanceSampling(rbm, { betas: [0, 0.6, 0.5, 1] }))).message).to.match(/must not decrease: beta\[2\] = 0.5 after beta\[1\] = 0.6/);
    expect((await rejection(annealedImportanceSampling(rbm, { start: 'base-rate' }))).message).to.match(/"base-rate" start needs the data/);
    expect((await rejection(annealedImportanceSampling(rbm, { start: 'flat' as 'uniform' }))).message).to.match(/must be "uniform" or "base-rate"/);
    expect((await rejection(annealedImportanceSampling(rbm, { data: Matrix.zeros(3, 5) }))).message).to.match(/5 columns but the layer has 4 units/);
    const relu = RBM.create(be64, { visible: 4, hidden: { type: 'relu', size: 3 } });
    expect((await rejection(annealedImportanceSampling(relu, {}))).message).to.match(/layer "hidden" \(relu\): ReLU units sum out with the stepped-sigmoid approximation/);
    const bm = BoltzmannMachine.create(be64, { visible: 3, hidden: 2, seed: 1 });
    expect((await rejection(annealedImportanceSampling(bm as EnergyModel, {}))).message).to.match(/odd cycle|cannot be split into two blocks/);
    const dbm = DBM.create(be64, { layers: [4, 3, 2] });
    expect((await rejection(aisLogLikelihood(dbm, Matrix.zeros(2, 4)))).message).to.match(/for a DBM use variationalLowerBound/);
    expect((await rejection(reverseAnnealedImportanceSampling(dbm, Matrix.zeros(2, 4)))).message).to.match(/needs every other layer to hang off the visible layer \(an RBM\); for a DBM start it from states of the annealed layers/);
    expect((await rejection(logPartitionSandwich(dbm, { reverseFrom: Matrix.zeros(2, 4) }))).message).to.match(/from visible rows needs every other layer to hang off the visible layer/);
    expect((await rejection(reverseAnnealedImportanceSampling(dbm, { visible: Matrix.zeros(2, 4) }))).message).to.match(/reverse AIS starts need the states of exactly the kept layers \(hidden1; sumOut "auto"\), got visible/);
    expect((await rejection(reverseAnnealedImportanceSampling(rbm, Matrix.zeros(2, 4), { chainsPerRow: 0 }))).message).to.match(/chains per row must be an integer/);
  });
});
