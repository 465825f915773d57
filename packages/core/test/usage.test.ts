import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { RBM, Trainer, loadRBM, pseudoLogLikelihood, saveModel, type EpochReport } from '@boltzmann/core';
import { randomBinary } from './helpers.js';

// The usage example of the package documentation (src/index.ts), run small, so it stays true.
describe('the documented usage example', function () {
  it('trains, transforms, samples, scores, saves, loads and resumes', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'core-usage-'));
    const file = join(dir, 'rbm.json');
    const train = randomBinary(300, 16, 1).toFloat32();
    const test = randomBinary(50, 16, 2).toFloat32();
    const log: EpochReport[] = [];
    try {
      const backend = new CpuBackend({ precision: 'float32' });
      const rbm = RBM.create(backend, { visible: 16, hidden: 8, seed: 1 });
      const trainer = new Trainer(rbm, { seed: 1 });
      await trainer.fit(train, { epochs: 3, validation: test, onEpoch: (r) => void log.push(r) });
      const features = await rbm.transform(test);
      const samples = await rbm.sample(4, { steps: 10 });
      const pll = await pseudoLogLikelihood(rbm, test, { seed: 0 });
      await saveModel(file, rbm, trainer);
      const { model, trainer: resumed } = loadRBM(file, backend);
      await resumed!.fit(train, { epochs: 2 });

      expect(log.map((r) => r.epoch)).to.deep.equal([1, 2, 3]);
      expect([features.rows, features.cols, samples.rows, samples.cols]).to.deep.equal([50, 8, 4, 16]);
      expect(pll).to.be.below(0);
      expect(resumed!.epoch).to.equal(5);
      expect(model.hidden.size).to.equal(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
