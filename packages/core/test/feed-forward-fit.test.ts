import { expect } from 'chai';
import { CounterRng, Matrix } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { FeedForwardNet } from '@boltzmann/core';

/**
 * `FeedForwardNet.fit` runs through the library's one epoch loop: against a float64 host
 * reference of minibatch SGD with momentum on softmax regression (the seeded order, a short
 * last batch, the velocities carried across epochs, each epoch's loss the mean over its batches
 * before their steps, the early stop of `onEpoch`).
 */
describe('FeedForwardNet.fit through the epoch loop', function () {
  it('gives the weights and epoch losses of a float64 reference of minibatch SGD with momentum', async function () {
    const [n, d, k] = [23, 5, 3];
    const options = { epochs: 4, learningRate: 0.3, momentum: 0.8, weightDecay: 0.01, batchSize: 7, seed: 4 };
    const rng = new CounterRng(12, 1);
    const x = Matrix.zeros(n, d, 'float64');
    rng.normals(x.data, 0, 1);
    const labels = Array.from({ length: n }, (_, i) => (i * 5 + (x.data[i * d]! > 0 ? 1 : 0)) % k);
    const net = FeedForwardNet.create(new CpuBackend({ precision: 'float64' }), { sizes: [d, k], seed: 2, init: { std: 0.5 } });
    const [start] = await net.getLayers();
    const w = Float64Array.from(start!.weights.data);
    const b = Float64Array.from(start!.bias.data);

    const reports = await net.fit(x, labels, { ...options, onEpoch: (r) => r.epoch < 3 });

    // The reference: host float64, written out.
    const vw = new Float64Array(d * k);
    const vb = new Float64Array(k);
    const order = new CounterRng(options.seed, 3);
    const losses: number[] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      const perm = order.permutation(n);
      let lossSum = 0;
      for (let start = 0; start < n; start += options.batchSize) {
        const rows = perm.subarray(start, Math.min(n, start + options.batchSize));
        const gw = new Float64Array(d * k);
        const gb = new Float64Array(k);
        for (const r of rows) {
          const logits = Array.from({ length: k }, (_, j) => b[j]! + Array.from({ length: d }, (_, i) => x.data[r * d + i]! * w[i * k + j]!).reduce((s, v) => s + v, 0));
          const m = Math.max(...logits);
          const z = logits.reduce((s, l) => s + Math.exp(l - m), 0);
          lossSum -= logits[labels[r]!]! - m - Math.log(z);
          for (let j = 0; j < k; j++) {
            const delta = (Math.exp(logits[j]! - m) / z - (j === labels[r] ? 1 : 0)) / rows.length;
            gb[j]! += delta;
            for (let i = 0; i < d; i++) gw[i * k + j]! += x.data[r * d + i]! * delta;
          }
        }
        for (let i = 0; i < d * k; i++) {
          vw[i] = options.momentum * vw[i]! - options.learningRate * (gw[i]! + options.weightDecay * w[i]!);
          w[i]! += vw[i]!;
        }
        for (let j = 0; j < k; j++) {
          vb[j] = options.momentum * vb[j]! - options.learningRate * gb[j]!;
          b[j]! += vb[j]!;
        }
      }
      losses.push(lossSum / n);
    }

    expect(reports.map((r) => r.epoch)).to.deep.equal([1, 2, 3]);
    reports.forEach((r, e) => expect(r.loss).to.be.closeTo(losses[e]!, 1e-12));
    const [end] = await net.getLayers();
    end!.weights.data.forEach((v, i) => expect(v).to.be.closeTo(w[i]!, 1e-12));
    end!.bias.data.forEach((v, j) => expect(v).to.be.closeTo(b[j]!, 1e-12));
    net.dispose();
  });
});
