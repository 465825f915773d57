import { expect } from 'chai';
import { CounterRng } from '@boltzmann/tensor';
import { DriftingPatterns } from '../src/drifting-patterns.js';
import { onlineLearning } from '../src/online-learning.js';

describe('examples/online-learning', function () {
  it('the drifting stream: rows of one phase are noisy copies of its prototypes, which change at the drift', function () {
    const stream = new DriftingPatterns({ cols: 33, patterns: 3, rowsPerPhase: 50, noise: 0.1, seed: 4 });
    const [a, b] = [stream.prototypes(0), stream.prototypes(1)];
    expect(a).to.have.length(3);
    expect(a.map((p) => Array.from(p))).to.not.deep.equal(b.map((p) => Array.from(p)));
    let flips = 0;
    for (let i = 0; i < 100; i++) {
      const row = stream.row(i, new CounterRng(4, i));
      const protos = stream.prototypes(stream.phaseOf(i));
      // Distance to the nearest prototype of its own phase: the noise.
      flips += Math.min(...protos.map((p) => p.reduce((d, v, j) => d + (v !== row.data[j] ? 1 : 0), 0)));
    }
    // 100 rows x 33 units at 10% noise: 330 expected (sd 17), nearest-prototype can only lower it.
    expect(flips).to.be.within(200, 420);
    expect(Array.from(stream.row(7, new CounterRng(4, 7)).data)).to.deep.equal(Array.from(stream.row(7, new CounterRng(4, 7)).data));
  });

  it('runs small: the window error falls, jumps at the drift, and recovers', async function () {
    const r = await onlineLearning({ stepsPerPhase: 150, window: 20, seed: 2 });
    expect(r.steps).to.equal(300);
    const start = r.series.y[0]!;
    expect(r.beforeDrift).to.be.below(start / 2);
    expect(r.peakStep).to.be.within(151, 200);
    expect(r.peakAfterDrift).to.be.above(2.5 * r.beforeDrift);
    expect(r.atEnd).to.be.below(r.peakAfterDrift / 2);
    expect(r.atEnd).to.be.below(1.25 * r.beforeDrift);
    expect(r.freeEnergy.y.every(Number.isFinite)).to.equal(true);
  });
});
