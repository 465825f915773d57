import { expect } from 'chai';
import { Matrix, ReferenceBackend, rngState } from '@boltzmann/tensor';
import { ContrastiveDivergence, RBM, exactLogLikelihood } from '@boltzmann/core';
import { cosine, exactLLGradient, flatten, randomBinary, randomHostRBM, repeatRows, toParams, type HostRBM } from './helpers.js';

const be = new ReferenceBackend();

/** The estimator's NLL gradient, negated to an ascent direction, as a HostRBM. */
async function estimate(rbm: RBM, est: ContrastiveDivergence, batch: Matrix, seed: number): Promise<HostRBM> {
  const grads = rbm.createGradients();
  est.computeGradients(be.upload(batch), grads, rngState(seed, 2));
  const [b, c, W] = grads.tensors.map((t) => be.readSync(t));
  expect(rbm.parameters.map((p) => p.name)).to.deep.equal(['visible.bias', 'hidden.bias', 'visible-hidden.weights']);
  return { b: Array.from(b!.data, (x) => -x), c: Array.from(c!.data, (x) => -x), W: W!.toArray().map((r) => r.map((x) => -x)) };
}

describe('contrastive divergence against the exact log-likelihood gradient (enumeration)', function () {
  // Strong weights (uniform in [-3, 3]) so that CD-1's bias is large and the test can tell it from CD-100.
  const host = randomHostRBM(4, 3, 5, 3);
  const data = randomBinary(6, 4, 2);
  const dataRows = data.toArray();
  const exact = exactLLGradient(host, dataRows);

  it('the exact gradient itself matches finite differences of exactLogLikelihood', async function () {
    const rbm = RBM.create(be, { visible: 4, hidden: 3 });
    const base = toParams(host);
    rbm.setParams(base);
    const eps = 1e-5;
    const analytic = { 'visible.bias': exact.b, 'hidden.bias': exact.c, 'visible-hidden.weights': exact.W.flat() };
    for (const [name, values] of Object.entries(analytic)) {
      for (let i = 0; i < values.length; i++) {
        const nudged = (delta: number) => {
          const m = base[name]!.clone();
          m.data[i]! += delta;
          rbm.setParams({ ...base, [name]: m });
          return exactLogLikelihood(rbm, data);
        };
        const fd = ((await nudged(eps)) - (await nudged(-eps))) / (2 * eps);
        expect(fd, `${name}[${i}]`).to.be.closeTo(values[i]!, 1e-7);
      }
    }
  });

  it('CD-k with many steps and chains matches the exact gradient', async function () {
    const rbm = RBM.create(be, { visible: 4, hidden: 3 });
    rbm.setParams(toParams(host));
    // Sampled visible units (a proper Gibbs chain) so that k -> infinity is the model distribution.
    const est = new ContrastiveDivergence(rbm, { k: 100, meanLayers: [] });
    const got = flatten(await estimate(rbm, est, repeatRows(data, 700), 1));
    const want = flatten(exact);
    const maxError = Math.max(...got.map((g, i) => Math.abs(g - want[i]!)));
    const scale = Math.max(...want.map(Math.abs));
    // 4200 chains: Monte Carlo error ~0.01; the largest exact component is ~0.8.
    expect(maxError, `max |CD-100 - exact| (largest exact component ${scale.toFixed(3)})`).to.be.below(0.04);
    expect(cosine(got, want)).to.be.above(0.999);
  });

  it('CD-1 points the same way as the exact gradient (positive cosine)', async function () {
    const rbm = RBM.create(be, { visible: 4, hidden: 3 });
    rbm.setParams(toParams(host));
    const est = new ContrastiveDivergence(rbm, { k: 1 });
    const got = flatten(await estimate(rbm, est, repeatRows(data, 700), 3));
    const want = flatten(exact);
    expect(cosine(got, want)).to.be.above(0.5);
    // ...but it is biased: far further from the exact gradient than CD-100 (measured ~0.22 vs ~0.015).
    expect(Math.max(...got.map((g, i) => Math.abs(g - want[i]!)))).to.be.above(0.1);
  });

  it('PCD-k chains converge to the model distribution too', async function () {
    const rbm = RBM.create(be, { visible: 4, hidden: 3 });
    rbm.setParams(toParams(host));
    const est = new ContrastiveDivergence(rbm, { k: 100, persistent: true });
    const batch = repeatRows(data, 700);
    await estimate(rbm, est, batch, 4); // burn in the persistent chains
    const got = flatten(await estimate(rbm, est, batch, 5));
    const want = flatten(exact);
    expect(Math.max(...got.map((g, i) => Math.abs(g - want[i]!)))).to.be.below(0.04);
  });
});
