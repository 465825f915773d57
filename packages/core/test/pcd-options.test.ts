import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidValueError, Matrix, ReferenceBackend, ShapeError, rngState, type Tensor } from '@boltzmann/tensor';
import { ContrastiveDivergence, RBM, Trainer, loadModel, saveModel } from '@boltzmann/core';
import { barsAndStripes, randomBinary, randomHostRBM, repeatRows, toParams } from './helpers.js';

const be = new ReferenceBackend();
const read = (t: Tensor) => Array.from(be.readSync(t).data);

function rbm(nv = 5, nh = 4): RBM {
  const m = RBM.create(be, { visible: nv, hidden: nh });
  m.setParams(toParams(randomHostRBM(nv, nh, 3, 1.5)));
  return m;
}

/** grads (times the number of rows) of one step. */
function scaledGradients(model: RBM, est: ContrastiveDivergence, batch: Matrix, seed: number): { b: number[]; c: number[] } {
  const grads = model.createGradients();
  est.computeGradients(be.upload(batch), grads, rngState(seed, 2));
  const [b, c] = grads.tensors.map(read);
  return { b: b!, c: c! };
}

const isMultiple = (x: number, unit: number) => Math.abs(x / unit - Math.round(x / unit)) < 1e-9;

describe('PCD: chain count and per-layer sample-or-probability choices', function () {
  it('keeps the configured number of chains (default: the first batch\'s rows) and averages the model phase over them', function () {
    const model = rbm();
    const batch = randomBinary(5, 5, 1);
    const byDefault = new ContrastiveDivergence(model, { persistent: true });
    scaledGradients(model, byDefault, batch, 1);
    expect(be.readSync(byDefault.state()['chain.visible']!).rows).to.equal(5);
    const seven = new ContrastiveDivergence(model, { persistent: true, chains: 7, k: 1 });
    scaledGradients(model, seven, batch, 1);
    const chains = be.readSync(seven.state()['chain.hidden']!);
    expect([chains.rows, chains.cols]).to.deep.equal([7, 4]);
    expect(seven.spec()).to.deep.include({ type: 'pcd', chains: 7 });
    // The model phase averages over the 7 chains: the visible-bias gradient is <v>_data - <v>_chains,
    // so 5 * 7 times it is a whole number (binary data, binary chain states).
    const g = scaledGradients(model, seven, batch, 2);
    for (const x of g.b) expect(isMultiple(x, 1 / 35), String(x)).to.equal(true);
    expect(() => new ContrastiveDivergence(model, { chains: 3 })).to.throw(InvalidValueError, /applies to PCD only/);
    expect(() => new ContrastiveDivergence(model, { persistent: true, chains: 0 })).to.throw(InvalidValueError, /chains \(persistent chains\)/);
    expect(() => seven.loadState({ 'chain.visible': new Matrix(3, 5), 'chain.hidden': new Matrix(3, 4) })).to.throw(ShapeError, /holds 3 chains, the estimator was configured for 7/);
  });

  it('statistics: "sample" uses binary chain states, "mean" the probabilities, per layer, in both phases', function () {
    const model = rbm();
    const batch = randomBinary(6, 5, 4);
    const unit = 1 / 6;
    // Defaults: visible = chain state (binary for PCD), hidden = means.
    const dflt = scaledGradients(model, new ContrastiveDivergence(model, { persistent: true }), batch, 3);
    expect(dflt.b.every((x) => isMultiple(x, unit))).to.equal(true);
    expect(dflt.c.every((x) => isMultiple(x, unit))).to.equal(false);
    // Hidden "sample": data and model hidden statistics are both binary samples.
    const sampled = scaledGradients(model, new ContrastiveDivergence(model, { persistent: true, statistics: { hidden: 'sample' } }), batch, 3);
    expect(sampled.c.every((x) => isMultiple(x, unit))).to.equal(true);
    // Visible "mean": the model phase uses E[v | h], so the visible-bias gradient is no longer a multiple of 1/6.
    const means = scaledGradients(model, new ContrastiveDivergence(model, { persistent: true, statistics: { visible: 'mean' } }), batch, 3);
    expect(means.b.every((x) => isMultiple(x, unit))).to.equal(false);
    expect(() => new ContrastiveDivergence(model, { statistics: { hidden: 'probability' as 'mean' } })).to.throw(InvalidValueError, /must be "mean" or "sample"/);
    expect(() => new ContrastiveDivergence(model, { statistics: { hiden: 'mean' } })).to.throw(InvalidValueError, /no layer "hiden"/);
  });

  it('the chain: meanLayers makes PCD carry probabilities instead of binary samples', function () {
    const model = rbm();
    const batch = randomBinary(4, 5, 2);
    const sampled = new ContrastiveDivergence(model, { persistent: true });
    const carried = new ContrastiveDivergence(model, { persistent: true, meanLayers: ['visible'] });
    scaledGradients(model, sampled, batch, 1);
    scaledGradients(model, carried, batch, 1);
    expect(read(sampled.state()['chain.visible']!).every((x) => x === 0 || x === 1)).to.equal(true);
    expect(read(carried.state()['chain.visible']!).every((x) => x === 0 || x === 1)).to.equal(false);
  });

  it('a PCD run with 7 chains, hidden samples, sparsity, dropout, L1 and max-norm resumes from a file as if never stopped', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'core-pcd-'));
    try {
      const data = repeatRows(barsAndStripes(3), 2);
      const options = {
        batchSize: 5,
        seed: 9,
        learningRate: [0.1, 0.1, 0.05, 0.05],
        estimator: { type: 'pcd', chains: 7, k: [1, 2, 2, 3], statistics: { hidden: 'sample' } },
        regularizers: [
          { type: 'sparsity', target: 0.2 },
          { type: 'dropout', visible: 0.1, hidden: 0.3 },
          { type: 'l1', coefficient: 1e-3 },
          { type: 'max-norm', maxNorm: 2 },
        ],
      } as const;
      const straight = RBM.create(be, { visible: 9, hidden: 6, seed: 1 });
      await new Trainer(straight, options).fit(data, { epochs: 4 });
      const model = RBM.create(be, { visible: 9, hidden: 6, seed: 1 });
      const trainer = new Trainer(model, options);
      await trainer.fit(data, { epochs: 2 });
      const file = join(dir, 'pcd.json');
      await saveModel(file, model, trainer);
      const loaded = loadModel(file, be);
      expect(Object.keys(loaded.trainer!.checkpoint().regularizers!)).to.deep.equal(['1:sparsity.q', '1:sparsity.started']);
      await loaded.trainer!.fit(data, { epochs: 2 });
      const a = await straight.getParams();
      const b = await loaded.model.getParams();
      for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).to.deep.equal(Array.from(a[name]!.data));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
