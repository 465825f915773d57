import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRows, runDbmMnist } from '../src/dbm-mnist.js';

describe('examples/dbm-mnist', function () {
  it('pretrains, trains jointly, samples and scores a small DBM (AIS log Z, test bound)', async function () {
    const outDir = mkdtempSync(join(tmpdir(), 'dbm-mnist-'));
    const lines: string[] = [];
    const r = await runDbmMnist({
      outDir,
      layers: [784, 32, 48],
      trainRows: 1000,
      testRows: 300,
      pretrainEpochs: 3,
      jointEpochs: 2,
      learningRate: 0.005,
      chains: 20,
      gibbsSteps: 2,
      aisBetas: 300,
      aisRuns: 30,
      sampleSteps: 50,
      log: (l) => lines.push(l),
    });
    expect(r.pretraining.map((p) => p.length)).to.deep.equal([3, 3]);
    expect(r.joint).to.have.length(2);
    expect(r.rows.map((x) => x.stage)).to.deep.equal(['composed from the pretrained RBMs', 'jointly trained']);
    const uniform = -784 * Math.log(2); // the bound of a model that learned nothing
    for (const row of r.rows) {
      expect(row.logZ).to.be.within(row.lower, row.upper);
      expect(row.upper - row.lower).to.be.below(5);
      expect(row.testBound).to.be.below(0).and.above(uniform + 200);
      expect(row.trainBound).to.be.above(uniform + 200);
    }
    expect([r.samples.rows, r.samples.cols]).to.deep.equal([100, 784]);
    const png = readFileSync(r.samplesPath);
    expect(Array.from(png.subarray(1, 4), (b) => String.fromCharCode(b)).join('')).to.equal('PNG');
    expect(png.readUInt32BE(16)).to.equal(10 * 28 + 11); // width: 10 images and 11 one-pixel paddings
    expect(existsSync(r.modelPath)).to.equal(true);
    expect(readFileSync(r.particlesPath).readUInt32BE(20)).to.equal(2 * 28 + 3); // 20 chains: 10 columns x 2 rows
    const table = formatRows(r.rows);
    expect(table.split('\n')).to.have.length(4);
    expect(table).to.contain('jointly trained');
    expect(lines.some((l) => l.startsWith('joint training: epoch 2'))).to.equal(true);
  });
});
