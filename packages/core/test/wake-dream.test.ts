import { expect } from 'chai';
import { DivergenceError, InvalidValueError, Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import {
  BoltzmannMachine,
  EpochList,
  RBM,
  Trainer,
  WakeDream,
  empiricalDistribution,
  entropy,
  exactBoltzmannLogLikelihood,
  exactLogLikelihood,
  graphQuadraticEnergy,
  type EnergyModel,
  type Schedule,
  type WakeDreamOptions,
} from '@boltzmann/core';
import { bruteDistribution, bruteLogLikelihood, drawRows, randomBM, type HostBM } from './general-bm-reference.js';

const be = new CpuBackend({ precision: 'float64' });

/** Mean log-likelihood of `data` under the machine, exactly. */
async function logLikelihood(bm: BoltzmannMachine, data: Matrix): Promise<number> {
  return exactBoltzmannLogLikelihood(await bm.toQuadraticEnergy(), data, bm.visible.size);
}

/** The 3-bit parity set: the 4 even-parity vectors, 25 copies each. Entropy log 4; any pairwise model without hidden units reaches at best log(1/8). */
function paritySet(): Matrix {
  const even = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]];
  return Matrix.fromRows(Array.from({ length: 100 }, (_, r) => even[r % 4]!)).toFloat64();
}

describe('wake/dream learning of general Boltzmann machines', function () {
  it('exact wake/dream gradients equal finite differences of the exact log-likelihood (3 visible + 2 hidden)', async function () {
    const host = randomBM(5, 50, 0.8);
    const ref = new ReferenceBackend();
    const bm = BoltzmannMachine.create(ref, { visible: 3, hidden: 2, weights: host.M, bias: host.b });
    const data = Matrix.fromRows([[1, 0, 1], [0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 0]]).toFloat64();
    const grads = bm.createGradients();
    await new WakeDream(bm).computeGradients(ref.upload(data), grads, { seed: 0, stream: 0, counter: 0 });
    const h = 1e-5;
    const ll = (p: HostBM) => bruteLogLikelihood(p, data);
    const bumpPair = (i: number, j: number, d: number): HostBM => {
      const M = host.M.map((r) => [...r]);
      M[i]![j]! += d;
      M[j]![i]! += d;
      return { M, b: host.b };
    };
    const pairSlope = (i: number, j: number) => (ll(bumpPair(i, j, h)) - ll(bumpPair(i, j, -h))) / (2 * h);
    // grads hold d(-log-likelihood): descent learns
    const vv = ref.readSync(grads.byConnection[0]!.at(0)!); // visible-visible
    const hh = ref.readSync(grads.byConnection[1]!.at(0)!); // hidden-hidden
    const vh = ref.readSync(grads.byConnection[2]!.at(0)!); // visible-hidden
    expect(vv.get(0, 2)).to.be.closeTo(-pairSlope(0, 2), 1e-7);
    expect(vv.get(2, 0)).to.be.closeTo(-pairSlope(0, 2), 1e-7);
    expect(vv.get(1, 1)).to.equal(0);
    expect(hh.get(0, 1)).to.be.closeTo(-pairSlope(3, 4), 1e-7);
    expect(vh.get(2, 1)).to.be.closeTo(-pairSlope(2, 4), 1e-7);
    expect(vh.get(0, 0)).to.be.closeTo(-pairSlope(0, 3), 1e-7);
    const biasSlope = (i: number) => {
      const up = { M: host.M, b: host.b.map((x, k) => (k === i ? x + h : x)) };
      const down = { M: host.M, b: host.b.map((x, k) => (k === i ? x - h : x)) };
      return (ll(up) - ll(down)) / (2 * h);
    };
    expect(ref.readSync(grads.byLayer[0]![0]!).get(0, 1)).to.be.closeTo(-biasSlope(1), 1e-7);
    expect(ref.readSync(grads.byLayer[1]![0]!).get(0, 0)).to.be.closeTo(-biasSlope(3), 1e-7);
  });

  it('exact expectations fit a pairwise target over 4 visible units to its entropy bound (no hidden units)', async function () {
    const target = randomBM(4, 60, 1.5);
    const data = drawRows(bruteDistribution(target), 4, 2000, 1);
    const bound = -entropy(empiricalDistribution(data)); // the best any model can do on this data
    const bm = BoltzmannMachine.create(be, { visible: 4, seed: 1 });
    const before = await logLikelihood(bm, data);
    const trainer = wakeDreamTrainer(bm, { learningRate: 0.5, momentum: 0.5 });
    await trainer.fit(data, { epochs: 300 });
    const after = await logLikelihood(bm, data);
    expect(before).to.be.below(bound - 0.1);
    // the data's empirical distribution is not exactly pairwise: 2000 rows leave a KL of ~(16-1-10)/4000 nats
    expect(after).to.be.above(bound - 0.01);
  });

  it('Glauber estimates get there too (persistent dream chains, minibatches)', async function () {
    const target = randomBM(4, 60, 1.5);
    const data = drawRows(bruteDistribution(target), 4, 2000, 1);
    const bound = -entropy(empiricalDistribution(data));
    const bm = BoltzmannMachine.create(be, { visible: 4, seed: 1 });
    const trainer = wakeDreamTrainer(bm, { expectations: 'gibbs', chains: 200, sweeps: 2, batchSize: 200, learningRate: 0.1, momentum: 0.5, seed: 2 });
    await trainer.fit(data, { epochs: 30 });
    expect(await logLikelihood(bm, data)).to.be.above(bound - 0.05);
  });

  it('hidden units learn 3-bit parity, which a machine without them cannot (exact expectations)', async function () {
    const data = paritySet();
    const bound = -Math.log(4);
    const withoutHidden = BoltzmannMachine.create(be, { visible: 3, seed: 3 });
    await wakeDreamTrainer(withoutHidden, { learningRate: 0.5 }).fit(data, { epochs: 200 });
    const llWithout = await logLikelihood(withoutHidden, data);
    expect(llWithout).to.be.closeTo(-Math.log(8), 0.01); // pair correlations of parity are those of independent fair bits

    const withHidden = BoltzmannMachine.create(be, { visible: 3, hidden: 3, weightStd: 0.5, seed: 3 });
    await wakeDreamTrainer(withHidden, { learningRate: 0.5, momentum: 0.9 }).fit(data, { epochs: 1500 });
    const llWith = await logLikelihood(withHidden, data);
    expect(llWith).to.be.above(bound - 0.15);
    expect(llWith - llWithout).to.be.above(0.5); // log 2 = 0.69 is the most there is to gain
  });

  it('with Glauber estimates in both phases, hidden units still beat the no-hidden optimum on parity', async function () {
    const data = paritySet();
    const bm = BoltzmannMachine.create(be, { visible: 3, hidden: 3, weightStd: 1, seed: 3 });
    const trainer = wakeDreamTrainer(bm, { expectations: 'gibbs', chains: 200, sweeps: 10, clampedSweeps: 20, batchSize: 100, learningRate: 0.2, momentum: 0.5, seed: 4 });
    await trainer.fit(data, { epochs: 1500 });
    // no-hidden optimum: log(1/8) = -2.079; seeds 3, 5, 7, 11 reach -1.49 to -1.62
    expect(await logLikelihood(bm, data)).to.be.above(-1.75);
  });

  it('is registered as the "wake-dream" estimator: the core Trainer drives it on an RBM (a bipartite Boltzmann machine)', async function () {
    const target = randomBM(4, 61, 1.5);
    const data = drawRows(bruteDistribution(target), 4, 500, 3);
    const rbm = RBM.create(be, { visible: 4, hidden: 3, weightStd: 0.1, seed: 1 });
    const llOf = async () => exactBoltzmannLogLikelihood(await graphQuadraticEnergy(rbm), data, 4);
    const before = await llOf();
    const trainer = new Trainer(rbm, { estimator: { type: 'wake-dream' }, learningRate: 0.2, batchSize: 500, weightDecay: 0 });
    await trainer.fit(data, { epochs: 100, monitor: { freeEnergy: false, pseudoLikelihood: false } });
    expect(trainer.config.estimator.type).to.equal('wake-dream');
    expect(await llOf()).to.be.above(before + 0.3);
    expect(await llOf()).to.be.closeTo(await exactLogLikelihood(rbm, data), 1e-9); // the two exact routes agree
  });

  it('rejects data that is not 0/1, and too many units for exact expectations', function () {
    const bm = BoltzmannMachine.create(be, { visible: 3 });
    const trainer = wakeDreamTrainer(bm);
    return trainer.fit(Matrix.fromRows([[0, 0.5, 1]]).toFloat64(), { epochs: 1 }).then(
      () => expect.fail('should throw'),
      (error: Error) => {
        expect(error).to.be.instanceOf(InvalidValueError);
        expect(error.message).to.match(/binary data \(0 or 1\), got 0.5 at row 0, col 1/);
        expect(() => new WakeDream(BoltzmannMachine.create(be, { visible: 15, hidden: 10 }))).to.throw(InvalidValueError, /use expectations "gibbs"/);
      },
    );
  });
});

describe('wake/dream through the core Trainer: divergence', function () {
  it('a learning rate that blows up stops with a DivergenceError naming the epoch, the last good parameters restored', async function () {
    const be = new CpuBackend({ precision: 'float64' });
    const bm = BoltzmannMachine.create(be, { visible: 3, hidden: 1, seed: 2 });
    const data = Matrix.fromRows([[1, 0, 1], [0, 1, 1], [1, 1, 0]]);
    // 0.5 in the first epoch, then a rate that overflows within the next one (3 steps of 1 row).
    const trainer = wakeDreamTrainer(bm, { learningRate: new EpochList([0.5, 1e308, 1e308]), batchSize: 1, seed: 2 });
    await trainer.fit(data, { epochs: 1 });
    const good = await bm.getParams();
    let caught: unknown;
    try {
      await trainer.fit(data, { epochs: 2 });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(DivergenceError);
    expect((caught as Error).message).to.match(/training diverged in epoch 2: ".*" holds NaN or Inf \(learning rate 1e\+308, momentum 0.5\); the last good parameters were restored/);
    const restored = await bm.getParams();
    for (const [name, m] of Object.entries(good)) expect(Array.from(restored[name]!.data), name).to.deep.equal(Array.from(m.data));
    expect(trainer.epoch).to.equal(1);
    trainer.dispose();
  });
});

/**
 * A core Trainer driving the wake/dream estimator with the settings these tests were tuned on:
 * learning rate 0.1, momentum 0.5, no weight decay, the whole data set as one batch, the
 * visible bias left as created.
 */
function wakeDreamTrainer(model: EnergyModel, options: WakeDreamOptions & { learningRate?: number | Schedule; momentum?: number; batchSize?: number; seed?: number } = {}): Trainer {
  const { learningRate = 0.1, momentum = 0.5, batchSize = 2 ** 30, seed = 0, ...estimator } = options;
  return new Trainer(model, { estimator: new WakeDream(model, estimator), learningRate, momentum, batchSize, seed, weightDecay: 0, initVisibleBiasFromData: false });
}
