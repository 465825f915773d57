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
});
