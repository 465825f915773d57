import { expect } from 'chai';
import { CounterRng, InvalidValueError } from '@boltzmann/tensor';
import {
  GeometricCooling,
  GraphColouring,
  LinearCooling,
  MaxCut,
  NQueens,
  QuadraticEnergy,
  TemperatureList,
  descend,
  enumerateFree,
  simulatedAnnealing,
  solveByAnnealing,
} from '@boltzmann/core';
import { randomBM } from './general-bm-reference.js';

/** A random graph: each pair joined with probability `density`, integer weights 1..5. */
function randomGraph(n: number, density: number, seed: number): { from: number; to: number; weight: number }[] {
  const u = new CounterRng(seed).uniforms(new Float64Array(n * n));
  const edges = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (u[i * n + j]! < density) edges.push({ from: i, to: j, weight: 1 + Math.floor(u[j * n + i]! * 5) });
  return edges;
}

/** The lowest energy over every state, by enumeration. */
function groundEnergy(q: QuadraticEnergy): number {
  let min = Infinity;
  enumerateFree(q, q.stateOf(0), Uint32Array.from({ length: q.size }, (_, i) => i), (_, e) => (min = Math.min(min, e)));
  return min;
}

describe('cooling schedules', function () {
  it('geometric and linear temperatures', function () {
    const g = new GeometricCooling({ start: 8, end: 1, steps: 4 }).temperatures();
    [8, 4, 2, 1].forEach((t, k) => expect(g[k]).to.be.closeTo(t, 1e-12));
    expect(Array.from(new GeometricCooling({ start: 1, factor: 0.5, steps: 3 }).temperatures())).to.deep.equal([1, 0.5, 0.25]);
    expect(Array.from(new LinearCooling({ start: 3, end: 0, steps: 4 }).temperatures())).to.deep.equal([3, 2, 1, 0]);
    expect(Array.from(new TemperatureList([5, 1, 0]).temperatures())).to.deep.equal([5, 1, 0]);
  });

  it('a schedule that does not decrease is refused, naming the stage', function () {
    expect(() => new TemperatureList([3, 2, 2])).to.throw(InvalidValueError, /must decrease: temperature 2 at stage 2 is not below 2 at stage 1/);
    expect(() => new TemperatureList([1, 2])).to.throw(InvalidValueError, /must decrease/);
    expect(() => new GeometricCooling({ start: 1, factor: 1.1, steps: 5 })).to.throw(InvalidValueError, /must decrease: geometric cooling factor 1.1/);
    expect(() => new GeometricCooling({ start: 1, end: 2, steps: 5 })).to.throw(InvalidValueError, /must decrease: geometric cooling end 2 is not below its start 1/);
    expect(() => new LinearCooling({ start: 1, end: 1, steps: 5 })).to.throw(InvalidValueError, /must decrease/);
    expect(() => new TemperatureList([2, -1])).to.throw(InvalidValueError, />= 0/);
    expect(() => new GeometricCooling({ start: 1, end: 0.1, steps: 1 })).to.throw(InvalidValueError, /steps/);
    expect(() => simulatedAnnealing(new NQueens(4).energy, { schedule: [1, 1] })).to.throw(InvalidValueError, /must decrease/);
  });
});

describe('simulated annealing with fixed-weight Boltzmann machines', function () {
  it('reaches the ground state of random 12-unit machines (checked by enumeration), binary and spin', function () {
    for (const [seed, values] of [[1, 'binary'], [2, 'spin'], [3, 'binary']] as const) {
      const host = randomBM(12, seed, 2);
      const q = new QuadraticEnergy(host.M, host.b, { values });
      const result = simulatedAnnealing(q, { seed });
      expect(result.energy).to.be.closeTo(groundEnergy(q), 1e-9);
      expect(result.energy).to.be.closeTo(q.energy(result.state), 1e-12);
      expect(result.stages).to.have.length(60);
      expect(result.stages.at(-1)!.bestEnergy).to.be.at.least(result.energy - 1e-12);
    }
  });

  it('descend stops in a single-flip local minimum', function () {
    const host = randomBM(10, 4, 1);
    const q = new QuadraticEnergy(host.M, host.b);
    const s = q.stateOf(777 % 1024);
    const e = descend(q, s);
    expect(e).to.be.closeTo(q.energy(s), 1e-12);
    for (let i = 0; i < 10; i++) {
      const t = s.slice();
      t[i] = 1 - t[i]!;
      expect(q.energy(t)).to.be.at.least(e - 1e-12);
    }
  });

  it('max-cut: E(s) = -cut(s) on every state, and annealing finds the brute-force maximum of random weighted graphs', function () {
    const small = new MaxCut(5, randomGraph(5, 0.6, 9));
    enumerateFree(small.energy, small.energy.stateOf(0), [0, 1, 2, 3, 4], (s, e) => expect(e).to.be.closeTo(-small.decode(s).value, 1e-12));
    for (const seed of [1, 2, 3]) {
      const problem = new MaxCut(14, randomGraph(14, 0.4, seed));
      const optimum = problem.bruteForce();
      const found = solveByAnnealing(problem, { seed, schedule: new GeometricCooling({ start: 5, end: 0.05, steps: 40 }), sweepsPerTemperature: 10, restarts: 4 });
      expect(found.constraintsHold).to.equal(true);
      expect(found.solution.value).to.equal(optimum.value);
      expect(-found.energy).to.be.closeTo(optimum.value, 1e-9);
    }
  });

  it('8-queens: E = 0 exactly on the 92 solutions; annealing finds one and reports the constraints hold', function () {
    const problem = new NQueens(8);
    expect(problem.countSolutions()).to.equal(92);
    const known = [0, 4, 7, 5, 2, 6, 1, 3];
    const state = new Float64Array(64);
    known.forEach((c, r) => (state[r * 8 + c] = 1));
    expect(problem.energy.energy(state)).to.be.closeTo(0, 1e-12);
    expect(problem.violations(state)).to.deep.equal([]);
    state[0] = 0;
    state[1] = 1; // row 0's queen moves one square right, into the column of row 6's queen
    expect(problem.energy.energy(state)).to.be.at.least(1);
    expect(problem.violations(state)).to.include('column 0 has 0 queens').and.to.include('column 1 has 2 queens');

    const found = solveByAnnealing(problem, { seed: 1 });
    expect(found.constraintsHold).to.equal(true);
    expect(found.energy).to.be.closeTo(0, 1e-9);
    expect(new Set(found.solution).size).to.equal(8);
  });

  it('annealing beats zero-temperature descent on 8-queens (single runs, 20 seeds)', function () {
    const problem = new NQueens(8);
    let annealed = 0;
    let quenched = 0;
    for (let seed = 0; seed < 20; seed++) {
      if (solveByAnnealing(problem, { seed, restarts: 1, sweepsPerTemperature: 10, schedule: new GeometricCooling({ start: 2, end: 0.05, steps: 30 }) }).constraintsHold) annealed++;
      if (solveByAnnealing(problem, { seed, restarts: 1, sweepsPerTemperature: 50, schedule: [0] }).constraintsHold) quenched++;
    }
    // measured: 12 / 20 annealed, 2 / 20 by descent alone
    expect(annealed).to.be.at.least(8);
    expect(quenched).to.be.at.most(5);
    expect(annealed).to.be.above(quenched + 4);
  });

  it('graph colouring: the Petersen graph is 3-colourable; a 5-cycle is not 2-colourable (best has one conflict)', function () {
    const petersen: [number, number][] = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0], [0, 5], [1, 6], [2, 7], [3, 8], [4, 9], [5, 7], [7, 9], [9, 6], [6, 8], [8, 5]];
    const three = solveByAnnealing(new GraphColouring(10, petersen, 3), { seed: 1 });
    expect(three.constraintsHold).to.equal(true);
    for (const [u, v] of petersen) expect(three.solution[u]).to.not.equal(three.solution[v]);
    // an uncoloured vertex costs A = 2, a conflict B = 1: the ground states have one conflict
    const cycle = new GraphColouring(5, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0]], 2, { onePenalty: 2 });
    const two = solveByAnnealing(cycle, { seed: 1 });
    expect(two.constraintsHold).to.equal(false);
    expect(two.violations).to.have.length(1);
    expect(two.violations[0]).to.match(/adjacent vertices \d and \d both have colour \d/);
    expect(two.energy).to.be.closeTo(groundEnergy(cycle.energy), 1e-12);
    expect(two.energy).to.be.closeTo(1, 1e-12);
  });

  it('rejects bad problems', function () {
    expect(() => new MaxCut(3, [{ from: 0, to: 3 }])).to.throw(InvalidValueError, /vertex 3, outside 0..2/);
    expect(() => new MaxCut(3, [{ from: 1, to: 1 }])).to.throw(InvalidValueError, /loop/);
    expect(() => new GraphColouring(3, [[0, 0]], 2)).to.throw(InvalidValueError, /loop/);
    expect(() => new NQueens(0)).to.throw(InvalidValueError, /board size/);
  });
});
