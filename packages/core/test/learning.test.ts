import { expect } from 'chai';
import { Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { RBM, Trainer, exactLogLikelihood, exactLogPartition } from '@boltzmann/core';
import { barsAndStripes, binaryStates, bruteFreeEnergy, randomHostRBM, repeatRows, toParams } from './helpers.js';

const be = new ReferenceBackend();

describe('learning bars and stripes 3x3 (exact log-likelihood by enumeration)', function () {
  const data = barsAndStripes(3); // 14 patterns; the best possible mean log-likelihood is -log 14 = -2.64
  const train = repeatRows(data, 5);

  async function trainOnce(estimator: { type: string; k: number }, seed: number, epochs: number, learningRate = 0.1) {
    const rbm = RBM.create(be, { visible: 9, hidden: 8, seed });
    const before = await exactLogLikelihood(rbm, data);
    const trainer = new Trainer(rbm, { learningRate, batchSize: 14, momentum: 0.5, weightDecay: 0, seed, estimator });
    const reports = await trainer.fit(train, { epochs });
    return { rbm, before, after: await exactLogLikelihood(rbm, data), reports };
  }

  // Measured with these seeds: CD-1 -6.24 -> -3.38 (other seeds -3.4 to -3.8); PCD-1 -6.24 -> -3.52.
  it('CD-1 raises the exact log-likelihood from about -6.2 to above -3.7', async function () {
    const { before, after, reports } = await trainOnce({ type: 'cd', k: 1 }, 1, 300);
    expect(before).to.be.below(-6);
    expect(after, `untrained ${before.toFixed(3)}, trained ${after.toFixed(3)}`).to.be.above(-3.7);
    expect(after - before).to.be.above(2.5);
    // the monitors move the right way too
    expect(reports.at(-1)!.reconstructionError).to.be.below(reports[0]!.reconstructionError / 3);
    expect(reports.at(-1)!.pseudoLogLikelihood!.train).to.be.above(reports[0]!.pseudoLogLikelihood!.train + 1);
  });

  it('PCD-1 learns it as well (gain above 2.2 nats)', async function () {
    const { before, after } = await trainOnce({ type: 'pcd', k: 1 }, 2, 600, 0.05);
    expect(after - before, `untrained ${before.toFixed(3)}, trained ${after.toFixed(3)}`).to.be.above(2.2);
  });

  it('the same seed trains to bit-identical weights; another seed does not', async function () {
    const a = await (await trainOnce({ type: 'cd', k: 1 }, 7, 5)).rbm.getParams();
    const b = await (await trainOnce({ type: 'cd', k: 1 }, 7, 5)).rbm.getParams();
    const c = await (await trainOnce({ type: 'cd', k: 1 }, 8, 5)).rbm.getParams();
    for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).to.deep.equal(Array.from(a[name]!.data));
    expect(Array.from(c['visible-hidden.weights']!.data)).to.not.deep.equal(Array.from(a['visible-hidden.weights']!.data));
  });
});

describe('Gibbs sampling', function () {
  it('free-running chains reach the exact distribution p(v) of a small RBM', async function () {
    const host = randomHostRBM(3, 2, 4, 1.5);
    const rbm = RBM.create(be, { visible: 3, hidden: 2 });
    rbm.setParams(toParams(host));
    const n = 20000;
    const samples = await rbm.sample(n, { steps: 20, seed: 5, binary: true });
    const counts = new Array(8).fill(0);
    for (let r = 0; r < n; r++) counts[samples.get(r, 0) + 2 * samples.get(r, 1) + 4 * samples.get(r, 2)]++;
    const logZ = await exactLogPartition(rbm);
    let tv = 0;
    binaryStates(3).forEach((v, s) => {
      tv += Math.abs(counts[s]! / n - Math.exp(-bruteFreeEnergy(host, v) - logZ)) / 2;
    });
    expect(tv, 'total variation distance to the exact p(v)').to.be.below(0.015);
  });

  it('sample() returns probabilities by default, advances its own stream, and repeats with a seed', async function () {
    const rbm = RBM.create(be, { visible: 5, hidden: 3, weightStd: 1, seed: 2 });
    const p = await rbm.sample(4, { steps: 3 });
    expect(Array.from(p.data).some((x) => x > 0 && x < 1)).to.equal(true);
    const q = await rbm.sample(4, { steps: 3 });
    expect(Array.from(q.data)).to.not.deep.equal(Array.from(p.data));
    const s1 = await rbm.sample(4, { steps: 3, seed: 9 });
    const s2 = await rbm.sample(4, { steps: 3, seed: 9 });
    expect(Array.from(s1.data)).to.deep.equal(Array.from(s2.data));
  });

  it('transform and reconstruct give the conditional means', async function () {
    const host = randomHostRBM(3, 2, 8);
    const rbm = RBM.create(be, { visible: 3, hidden: 2 });
    rbm.setParams(toParams(host));
    const v = Matrix.fromRows([[1, 0, 1], [0, 0, 0], [0.5, 1, 0]]).toFloat64();
    const h = await rbm.transform(v);
    const r = await rbm.reconstruct(v);
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    for (let n = 0; n < 3; n++) {
      const hn = host.c.map((c, j) => sig(c + host.W.reduce((s, row, i) => s + v.get(n, i) * row[j]!, 0)));
      hn.forEach((x, j) => expect(h.get(n, j)).to.be.closeTo(x, 1e-12));
      host.b.forEach((b, i) => expect(r.get(n, i)).to.be.closeTo(sig(b + host.W[i]!.reduce((s, w, j) => s + w * hn[j]!, 0)), 1e-12));
    }
  });
});
