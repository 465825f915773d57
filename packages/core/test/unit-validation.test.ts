import { expect } from 'chai';
import { InvalidValueError, Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { ContrastiveDivergence, PseudoLikelihoodMetric, RBM, Trainer, exactLogLikelihood } from '@boltzmann/core';

const be = new ReferenceBackend();
const rows = (r: number[][]) => new Matrix(r.length, r[0]!.length, Float64Array.from(r.flat()));

async function message(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidValueError);
    return (error as Error).message;
  }
  throw new Error('expected an InvalidValueError');
}

describe('unit-range violations give clear errors', function () {
  it('Bernoulli: negative and above 1, naming row and column', async function () {
    const rbm = RBM.create(be, { visible: 3, hidden: 2 });
    expect(await message(() => rbm.transform(rows([[0, 1, 0], [0, -0.5, 1]])))).to.equal('data (Bernoulli units of layer "visible") must lie in [0, 1], got -0.5 at row 1, col 1');
    expect(await message(() => rbm.transform(rows([[0, 1, 2]])))).to.match(/got 2 at row 0, col 2/);
  });

  it('one-hot groups: a row whose group does not sum to 1 names the row and the group', async function () {
    const rbm = RBM.create(be, { visible: { type: 'multinomial', size: 6, groupSize: 3 }, hidden: 2 });
    const prefix = 'training data (multinomial units of layer "visible": 2 groups of 3, one-hot)';
    const trainer = new Trainer(rbm);
    expect(await message(() => trainer.fit(rows([[1, 0, 0, 0, 1, 0], [0, 1, 0, 1, 1, 0]]), { epochs: 1 }))).to.equal(`${prefix}: row 1, group 1 (cols 3-5) sums to 2, not 1`);
    expect(await message(() => trainer.fit(rows([[0, 0, 0, 0, 1, 0]]), { epochs: 1 }))).to.equal(`${prefix}: row 0, group 0 (cols 0-2) sums to 0, not 1`);
    expect(await message(() => trainer.fit(rows([[0.5, 0.5, 0, 0, 1, 0]]), { epochs: 1 }))).to.equal(`${prefix}: row 0, group 0 has 0.5 at col 0; a one-hot group holds only 0 and 1`);
    expect(await message(() => exactLogLikelihood(rbm, rows([[1, 0, 0, -1, 1, 1]])))).to.match(/row 0, group 1 has -1 at col 3/);
  });

  it('multinomial counts: whole numbers summing to the number of draws', async function () {
    const rbm = RBM.create(be, { visible: { type: 'softmax', size: 4, samples: 3 }, hidden: 2 });
    expect(rbm.visible.type).to.equal('multinomial');
    await rbm.transform(rows([[1, 0, 2, 0], [0, 0, 0, 3]]));
    expect(await message(() => rbm.transform(rows([[1, 0, 1, 0]])))).to.equal('data (multinomial units of layer "visible": 1 group of 4, counts of 3 draws): row 0, group 0 (cols 0-3) sums to 2, not 3');
    expect(await message(() => rbm.transform(rows([[1.5, 0, 1.5, 0]])))).to.match(/row 0, group 0 has 1\.5 at col 0; counts are whole numbers in \[0, 3\]/);
  });

  it('ReLU units: negative values; Gaussian units: any finite value', async function () {
    const relu = RBM.create(be, { visible: { type: 'relu', size: 2 }, hidden: 2 });
    expect(await message(() => relu.transform(rows([[0, 4], [-0.25, 1]])))).to.equal('data (ReLU units of layer "visible") must lie in [0, Infinity], got -0.25 at row 1, col 0');
    const gauss = RBM.create(be, { visible: { type: 'gaussian', size: 2 }, hidden: 2 });
    expect((await gauss.transform(rows([[-1e6, 3.5]]))).rows).to.equal(1);
  });

  for (const visible of [3, { type: 'gaussian', size: 3 }, { type: 'gaussian', size: 3, variance: 'learned' }, { type: 'multinomial', size: 3 }, { type: 'relu', size: 3 }]) {
    it(`NaN and Infinity are refused for ${typeof visible === 'number' ? 'bernoulli' : JSON.stringify(visible)} units, naming row and column`, async function () {
      const rbm = RBM.create(be, { visible, hidden: 2 });
      expect(await message(() => rbm.freeEnergyOf(rows([[0, 1, 0], [0, NaN, 1]])))).to.equal('data has NaN at row 1, col 1');
      expect(() => new Trainer(rbm).partialFit(rows([[Infinity, 0, 1]]))).to.throw(InvalidValueError, 'batch has Infinity at row 0, col 0');
    });
  }

  it('bad unit options: misspelt keys, a group size that does not divide, an unknown variance mode, zero draws', function () {
    expect(() => RBM.create(be, { visible: { type: 'gaussian', size: 2, varaince: 'learned' }, hidden: 2 })).to.throw(InvalidValueError, 'layer "visible" (gaussian units) has an unknown option "varaince"; its options are "variance"');
    expect(() => RBM.create(be, { visible: { type: 'gaussian', size: 2, variance: 'free' }, hidden: 2 })).to.throw(InvalidValueError, 'layer "visible": variance of Gaussian units must be "unit" or "learned", got "free"');
    expect(() => RBM.create(be, { visible: 2, hidden: { type: 'multinomial', size: 7, groupSize: 3 } })).to.throw(InvalidValueError, 'layer "hidden": groupSize 3 does not divide its 7 units into whole one-hot groups');
    expect(() => RBM.create(be, { visible: { type: 'multinomial', size: 4, samples: 0 }, hidden: 2 })).to.throw(InvalidValueError, /samples of layer "visible" \(draws per group\) must be an integer in \[1,/);
    expect(() => RBM.create(be, { visible: { type: 'multinomial', size: 1 }, hidden: 2 })).to.throw(InvalidValueError, /groupSize of layer "visible" .* must be an integer in \[2,/);
    expect(() => RBM.create(be, { visible: { type: 'relu', size: 2, groupSize: 2 }, hidden: 2 })).to.throw(InvalidValueError, 'layer "visible" (relu units) has an unknown option "groupSize"; it takes no options');
  });

  it('a learned-variance Gaussian layer cannot carry its mean through a CD chain; by default CD samples it', function () {
    const rbm = RBM.create(be, { visible: { type: 'gaussian', size: 2, variance: 'learned' }, hidden: 2 });
    expect(() => new ContrastiveDivergence(rbm, { meanLayers: ['visible'] })).to.throw(InvalidValueError, /layer "visible" \(gaussian\) needs sampled statistics .* leave it out of meanLayers/);
    expect(new ContrastiveDivergence(rbm).spec().meanLayers).to.deep.equal([]);
    expect(new ContrastiveDivergence(RBM.create(be, { visible: { type: 'gaussian', size: 2 }, hidden: 2 })).spec().meanLayers).to.deep.equal(['visible']);
  });

  it('the pseudo-likelihood (a flip of binary units) is refused for other units, and the trainer leaves it out by default', async function () {
    const rbm = RBM.create(be, { visible: { type: 'gaussian', size: 2 }, hidden: 2 });
    expect(() => new PseudoLikelihoodMetric(rbm)).to.throw(InvalidValueError, 'the pseudo-log-likelihood flips binary units (v -> 1 - v, or -v for spins); layer "visible" holds gaussian units, which declare no two values (twoValued)');
    const [report] = await new Trainer(rbm, { batchSize: 2 }).fit(rows([[0.5, -1], [2, 0]]), { epochs: 1 });
    expect(report!.pseudoLogLikelihood).to.equal(undefined);
    expect(report!.freeEnergy!.train).to.be.a('number');
  });
});
