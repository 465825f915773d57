import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { RBM, Trainer, encodeModel, loadRBM, saveModel } from '@boltzmann/core';
import { pairParams, randomPair, randomStates, type UnitSpecLike } from './unit-reference.js';

const be = new ReferenceBackend();
const rows64 = (r: number[][]) => new Matrix(r.length, r[0]!.length, Float64Array.from(r.flat()));

const TYPES: UnitSpecLike[] = [
  { type: 'bernoulli', size: 3 },
  { type: 'gaussian', size: 2 },
  { type: 'gaussian', size: 2, variance: 'learned' },
  { type: 'multinomial', size: 6, groupSize: 3 },
  { type: 'multinomial', size: 3, samples: 2 },
  { type: 'relu', size: 2 },
];

describe('model files round-trip every unit type', function () {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'units-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  TYPES.forEach((spec, t) => {
    for (const side of ['visible', 'hidden'] as const) {
      it(`${JSON.stringify(spec)} as the ${side} layer: spec, parameters, free energies and the file itself`, async function () {
        const other: UnitSpecLike = { type: 'bernoulli', size: 3 };
        const [vs, hs] = side === 'visible' ? [spec, other] : [other, spec];
        const rbm = RBM.create(be, { visible: vs, hidden: hs, seed: 3 });
        rbm.setParams(pairParams(randomPair(vs, hs, 20 + t, 1)));
        const path = join(dir, `model-${t}-${side}.json`);
        await saveModel(path, rbm);
        const { model } = loadRBM(path, be);
        expect(model.spec()).to.deep.equal(rbm.spec());
        expect(model.layer(side).spec()).to.deep.include({ ...spec, name: side });
        const [a, b] = [await rbm.getParams(), await model.getParams()];
        expect(Object.keys(b)).to.deep.equal(Object.keys(a));
        for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).to.deep.equal(Array.from(a[name]!.data));
        const v = rows64(randomStates(vs, 5, t));
        expect(Array.from(await model.freeEnergyOf(v))).to.deep.equal(Array.from(await rbm.freeEnergyOf(v)));
        expect(Buffer.from(await encodeModel(model)).equals(readFileSync(path))).to.equal(true);
      });
    }
  });

  it('resuming PCD training of a learned-variance Gaussian RBM from a file continues the same run', async function () {
    const vs: UnitSpecLike = { type: 'gaussian', size: 2, variance: 'learned' };
    const data = rows64(randomStates(vs, 40, 9));
    const options = { estimator: { type: 'pcd', k: 2 }, learningRate: 0.02, batchSize: 10, seed: 4 };
    const monitor = { pseudoLikelihood: false };
    const straight = RBM.create(be, { visible: vs, hidden: { type: 'multinomial', size: 3 }, seed: 1 });
    await new Trainer(straight, options).fit(data, { epochs: 3, monitor });
    const first = RBM.create(be, { visible: vs, hidden: { type: 'multinomial', size: 3 }, seed: 1 });
    const trainer = new Trainer(first, options);
    await trainer.fit(data, { epochs: 2, monitor });
    const path = join(dir, 'resume.json');
    await saveModel(path, first, trainer);
    const loaded = loadRBM(path, be);
    await loaded.trainer!.fit(data, { epochs: 1, monitor });
    const [want, got] = [await straight.getParams(), await loaded.model.getParams()];
    expect(Object.keys(got)).to.include('visible.logSigma');
    for (const name of Object.keys(want)) expect(Array.from(got[name]!.data), name).to.deep.equal(Array.from(want[name]!.data));
  });
});
