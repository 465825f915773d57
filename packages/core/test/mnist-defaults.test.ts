import { expect } from 'chai';
import { createRequire } from 'node:module';
import { Matrix } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { RBM, Trainer, pseudoLogLikelihoodRows, type EpochReport } from '@boltzmann/core';

const require = createRequire(import.meta.url);

/** `perDigit` images of each digit starting at `offset`, interleaved 0,1,...,9,0,1,... (grey levels in [0, 1]). */
function digits(offset: number, perDigit: number): Matrix {
  const out = new Matrix(perDigit * 10, 784);
  for (let d = 0; d < 10; d++) {
    const raw = (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data;
    for (let i = 0; i < perDigit; i++) out.data.set(raw.slice((offset + i) * 784, (offset + i + 1) * 784), (i * 10 + d) * 784);
  }
  return out;
}

describe('the default training settings learn on real MNIST digits (CpuBackend, float32)', function () {
  it('CD-1, lr 0.05, batch 100, momentum ramp, L2 1e-4: held-out pseudo-log-likelihood far above the biases-only model', async function () {
    const train = digits(0, 200); // 2000 images
    const heldOut = digits(200, 50); // 500 other images
    const be = new CpuBackend({ precision: 'float32' });
    const rbm = RBM.create(be, { visible: 784, hidden: 64, seed: 1 });
    const trainer = new Trainer(rbm, { seed: 1 });
    const reports: EpochReport[] = await trainer.fit(train, { epochs: 6, validation: heldOut, monitor: { rows: 500 } });

    // Baseline: independent pixels: no weights, the visible bias the trainer starts from (logit of the means).
    const baseline = RBM.create(be, { visible: 784, hidden: 64, weightStd: 0 });
    const columnMeans = new Float64Array(784);
    for (let i = 0; i < train.data.length; i++) columnMeans[i % 784]! += train.data[i]! / train.rows;
    baseline.visible.initializeFromData!(columnMeans);
    const mean = (xs: Float64Array) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const pllBaseline = mean(await pseudoLogLikelihoodRows(baseline, heldOut, { seed: 1 }));
    const pllTrained = mean(await pseudoLogLikelihoodRows(rbm, heldOut, { seed: 1 }));
    const first = reports[0]!;
    const last = reports.at(-1)!;
    // Measured: baseline -208.4, trained -148.5; reconstruction 0.0669 -> 0.0404; activation 0.41.
    const summary = `baseline ${pllBaseline.toFixed(1)}, trained ${pllTrained.toFixed(1)}; recon ${first.reconstructionError.toFixed(4)} -> ${last.reconstructionError.toFixed(4)}; activation ${last.meanHiddenActivation.toFixed(3)}`;
    expect(pllTrained - pllBaseline, summary).to.be.above(40);
    expect(last.reconstructionError, summary).to.be.below(first.reconstructionError * 0.7);
    // no collapse of the hidden units, and no overfitting yet (held-out free energy close to the training one)
    expect(last.meanHiddenActivation, summary).to.be.within(0.1, 0.9);
    expect(Math.abs(last.freeEnergy!.validation! - last.freeEnergy!.train), summary).to.be.below(10);
  });

  it('PCD-1 with its defaults (momentum 0, the trainer\'s other settings) learns without collapsing the hidden units; with the trainer\'s momentum ramp it collapses', async function () {
    const train = digits(0, 200);
    const heldOut = digits(200, 50);
    const be = new CpuBackend({ precision: 'float32' });
    const trained = async (options: { momentum?: number | { type: 'linear'; from: number; to: number; end: number } }) => {
      const rbm = RBM.create(be, { visible: 784, hidden: 64, seed: 1 });
      const trainer = new Trainer(rbm, { seed: 1, estimator: { type: 'pcd' }, ...options });
      const reports = await trainer.fit(train, { epochs: 6, monitor: { rows: 500, freeEnergy: false } });
      const pll = (await pseudoLogLikelihoodRows(rbm, heldOut, { seed: 1 })).reduce((a, x) => a + x / heldOut.rows, 0);
      const momentum = trainer.config.momentum;
      rbm.dispose();
      return { pll, activation: reports.at(-1)!.meanHiddenActivation, momentum };
    };
    const byDefault = await trained({});
    const ramp = await trained({ momentum: { type: 'linear', from: 0.5, to: 0.9, end: 1 } });
    const summary = `defaults: PLL ${byDefault.pll.toFixed(1)}, activation ${byDefault.activation.toFixed(3)}; momentum ramp: PLL ${ramp.pll.toFixed(1)}, activation ${ramp.activation.toFixed(3)}`;
    // Measured: defaults PLL -188.7, activation 0.440; momentum ramp PLL -191.3, activation 0.023.
    expect(byDefault.momentum, summary).to.deep.equal({ type: 'constant', value: 0 });
    expect(byDefault.activation, summary).to.be.within(0.1, 0.9);
    expect(ramp.activation, summary).to.be.below(0.1);
    expect(byDefault.pll, summary).to.be.above(ramp.pll);
  });
});
