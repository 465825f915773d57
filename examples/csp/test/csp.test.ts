import { expect } from 'chai';
import { runCsp } from '../src/csp.js';

describe('examples/csp', function () {
  it('solves 8-queens and a 14-vertex max-cut to their known optima', function () {
    const lines: string[] = [];
    const result = runCsp({ queens: 8, vertices: 14, density: 0.4, seed: 3, log: (l) => lines.push(l) });
    expect(result.queens.constraintsHold).to.equal(true);
    expect(result.queens.energy).to.be.closeTo(result.queens.knownOptimumEnergy, 1e-9);
    expect(result.queens.solutionCount).to.equal(92);
    const cols = result.queens.columns;
    for (let a = 0; a < 8; a++) for (let b = a + 1; b < 8; b++) expect(Math.abs(cols[a]! - cols[b]!)).to.not.be.oneOf([0, b - a]);
    expect(result.maxCut.edges).to.be.above(20);
    expect(result.maxCut.value).to.equal(result.maxCut.optimum);
    expect(lines.filter((l) => l.includes('Q'))).to.have.length(8);
  });
});
