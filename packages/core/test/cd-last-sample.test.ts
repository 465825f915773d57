import { expect } from 'chai';
import { ReferenceBackend, rngState, type RngState, type Tensor } from '@boltzmann/tensor';
import { ContrastiveDivergence, Dropout, GibbsSampler, RBM, type LayerOptions, type StatisticSource } from '@boltzmann/core';
import { randomBinary } from './helpers.js';

/** A float64 backend that counts its random ops. */
class CountingBackend extends ReferenceBackend {
  randomOps = 0;
  override sampleBernoulli(p: Tensor | number, rng: RngState, out: Tensor): void {
    this.randomOps++;
    super.sampleBernoulli(p, rng, out);
  }
  override sampleCategorical(p: Tensor, groupSize: number, rng: RngState, out: Tensor): void {
    this.randomOps++;
    super.sampleCategorical(p, groupSize, rng, out);
  }
}

/**
 * CD-k as it was before the last hidden sample was dropped: every update of block 1 samples.
 * Visible chain state = its mean (CD's default), statistics: the visible chain state and the
 * hidden layer's `hiddenStatistic`.
 */
function sampleEverywhereStep(rbm: RBM, batch: Tensor, grads: ReturnType<RBM['createGradients']>, rng: RngState, k: number, hiddenStatistic: StatisticSource): void {
  const sampler = new GibbsSampler(rbm, { meanLayers: ['visible'] });
  const chain = sampler.createChain(batch.rows);
  const hidden = (): Tensor => (hiddenStatistic === 'mean' ? chain.means[1]! : chain.states[1]!);
  rbm.backend.copy(batch, chain.states[0]!);
  sampler.updateBlock(chain, 1, rng);
  rbm.addEnergyGradients([chain.states[0]!, hidden()], 1 / batch.rows, grads, false);
  for (let s = 0; s < k; s++) sampler.sweep(chain, rng);
  rbm.addEnergyGradients([chain.states[0]!, hidden()], -1 / batch.rows, grads, true);
  chain.dispose();
}

/** `skippedOps`: the random ops of the hidden layer's sample, which steps after the first leave out. */
function run(hidden: LayerOptions, k: number, hiddenStatistic: StatisticSource, skippedOps: number): void {
  const be = new CountingBackend();
  const rbm = RBM.create(be, { visible: 6, hidden, weightStd: 0.8, seed: 3 });
  const data = randomBinary(20, 6, 7);
  const estimator = new ContrastiveDivergence(rbm, { k, statistics: { hidden: hiddenStatistic } });
  const grads = rbm.createGradients();
  const want = rbm.createGradients();
  const rng = rngState(5, 1);
  const reference = rngState(5, 1);
  for (let step = 0; step < 4; step++) {
    const batch = be.upload(data.sliceRows(step * 5, step * 5 + 5));
    const before = be.randomOps;
    estimator.computeGradients(batch, grads, rng);
    const ops = be.randomOps - before;
    const opsBefore = be.randomOps;
    sampleEverywhereStep(rbm, batch, want, reference, k, hiddenStatistic);
    const referenceOps = be.randomOps - opsBefore;
    // Bit-identical gradients and the same stream position: every later draw is the same.
    grads.tensors.forEach((g, i) => expect(Array.from(be.readSync(g).data), `gradient ${i}, step ${step}`).to.deep.equal(Array.from(be.readSync(want.tensors[i]!).data)));
    expect(rng.counter, `counter after step ${step}`).to.equal(reference.counter);
    // The first step samples (to count the keys), later ones skip the last hidden sample when its statistics are means.
    expect(ops, `random ops of step ${step}`).to.equal(step > 0 ? referenceOps - skippedOps : referenceOps);
    // Move the parameters, so the steps differ.
    rbm.parameters.forEach((p, i) => be.axpby(1, p.tensor, -0.5, grads.tensors[i]!, p.tensor));
  }
}

describe('CD leaves out the last hidden sample when nothing reads it', function () {
  it('Bernoulli hidden units, CD-1 and CD-3: same gradients and RNG stream as sampling it, one random op fewer a step', function () {
    run(4, 1, 'mean', 1);
    run(4, 3, 'mean', 1);
  });

  it('a hidden layer drawing several keys per sample (multinomial, 3 draws a group) keeps the stream too', function () {
    run({ type: 'multinomial', size: 6, groupSize: 3, samples: 3 }, 2, 'mean', 3);
  });

  it('hidden statistics "sample" still sample the last update (they are read)', function () {
    run(4, 2, 'sample', 0);
  });

  it('PCD samples its persistent chains every sweep', function () {
    const be = new CountingBackend();
    const rbm = RBM.create(be, { visible: 6, hidden: 4, weightStd: 0.8, seed: 3 });
    const estimator = new ContrastiveDivergence(rbm, { k: 1, persistent: true });
    const batch = be.upload(randomBinary(5, 6, 7));
    const rng = rngState(5, 1);
    estimator.computeGradients(batch, rbm.createGradients(), rng);
    const before = be.randomOps;
    estimator.computeGradients(batch, rbm.createGradients(), rng);
    // Data phase: none (PCD takes hidden means); one sweep: visible and hidden samples.
    expect(be.randomOps - before).to.equal(2);
  });

  it('with dropout masks the stream matches too', function () {
    const draw = (skip: boolean): { grads: number[][]; counter: number } => {
      const be = new ReferenceBackend();
      const rbm = RBM.create(be, { visible: 6, hidden: 5, weightStd: 0.8, seed: 3 });
      const estimator = new ContrastiveDivergence(rbm, { k: 1 });
      const dropout = new Dropout({ visible: 0.2, hidden: 0.5 });
      const rng = rngState(9, 1);
      const grads = rbm.createGradients();
      const data = randomBinary(15, 6, 2);
      for (let step = 0; step < 3; step++) {
        const batch = be.upload(data.sliceRows(step * 5, step * 5 + 5));
        if (skip) estimator.computeGradients(batch, grads, rng, undefined, { masks: dropout.unitMasks });
        else {
          // Masks first (visible, hidden), then the same as a sampling-everywhere CD-1 with masks applied.
          const masks = dropout.unitMasks.draw(rbm, 5, rng, 'data');
          const sampler = new GibbsSampler(rbm, { meanLayers: ['visible'] });
          const chain = sampler.createChain(5);
          const mask = (l: number): void => {
            const m = masks[l];
            if (m === undefined) return;
            be.binary('mul', chain.states[l]!, m, chain.states[l]!);
            if (chain.means[l] !== chain.states[l]) be.binary('mul', chain.means[l]!, m, chain.means[l]!);
          };
          be.copy(batch, chain.states[0]!);
          mask(0);
          sampler.updateBlock(chain, 1, rng);
          mask(1);
          rbm.addEnergyGradients([chain.states[0]!, chain.means[1]!], 1 / 5, grads, false);
          sampler.updateBlock(chain, 0, rng);
          mask(0);
          sampler.updateBlock(chain, 1, rng);
          mask(1);
          rbm.addEnergyGradients([chain.states[0]!, chain.means[1]!], -1 / 5, grads, true);
        }
        rbm.parameters.forEach((p, i) => be.axpby(1, p.tensor, -0.5, grads.tensors[i]!, p.tensor));
      }
      return { grads: grads.tensors.map((g) => Array.from(be.readSync(g).data)), counter: rng.counter };
    };
    const got = draw(true);
    const want = draw(false);
    expect(got.counter).to.equal(want.counter);
    expect(got.grads).to.deep.equal(want.grads);
    expect(got.grads[0]!.some((x) => x !== 0)).to.equal(true);
  });
});
