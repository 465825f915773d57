import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quickstart } from '../src/quickstart.js';

describe('examples/quickstart', function () {
  it('trains, transforms, samples, saves and loads (small)', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'quickstart-'));
    const lines: string[] = [];
    const result = await quickstart({ hidden: 32, epochs: 3, trainRows: 1000, modelPath: join(dir, 'rbm.json'), log: (l) => lines.push(l) });
    expect(lines.filter((l) => l.startsWith('epoch'))).to.have.length(3);
    const [first, last] = [result.reports[0]!, result.reports.at(-1)!];
    expect(last.reconstructionError).to.be.below(first.reconstructionError);
    expect(last.pseudoLogLikelihood!.validation!).to.be.above(first.pseudoLogLikelihood!.validation!);
    expect([result.features.rows, result.features.cols]).to.deep.equal([2000, 32]);
    expect([result.samples.rows, result.samples.cols]).to.deep.equal([16, 784]);
    expect(Array.from(result.freeEnergyAfterLoad)).to.deep.equal(Array.from(result.freeEnergyBefore));
  });
});
