import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from '@boltzmann/tensor';
import { runRecommender } from '../src/recommender.js';

describe('examples/recommender', function () {
  it('beats the item-mean baseline clearly on planted tastes (small)', async function () {
    const lines: string[] = [];
    const r = await runRecommender({ users: 240, items: 30, tastes: 4, density: 0.4, hidden: 20, epochs: 20, log: (l) => lines.push(l) });
    expect(lines.filter((l) => l.startsWith('epoch'))).to.have.length(20);
    expect(r.itemMean).to.be.above(1.0);
    expect(r.rbm).to.be.below(0.6 * r.itemMean);
  });

  it('runs on a MovieLens-style file and reports bad lines with their number', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'ratings-'));
    const lines: string[] = [];
    for (let u = 0; u < 40; u++) for (let i = 0; i < 12; i++) if ((u * 7 + i * 3) % 4 !== 0) lines.push(`${100 + u}\t${500 + i}\t${1 + ((u % 2 === 0 ? i : 11 - i) % 5)}\t${880000000 + u * 12 + i}`);
    writeFileSync(join(dir, 'u.data'), lines.join('\n'));
    const r = await runRecommender({ file: join(dir, 'u.data'), hidden: 8, epochs: 3, log: () => {} });
    expect([r.users, r.items, r.ratings]).to.deep.equal([40, 12, lines.length]);
    expect(r.rbm).to.be.a('number').and.to.be.above(0);
    writeFileSync(join(dir, 'bad.data'), '1\t2\t3\t4\n1\t3\t7\t5\n');
    let caught: unknown;
    await runRecommender({ file: join(dir, 'bad.data'), log: () => {} }).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(FormatError);
    expect((caught as Error).message).to.match(/bad\.data: line 2: rating 7 is not one of the declared levels 1, 2, 3, 4, 5/);
  });
});
