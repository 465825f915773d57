import { expect } from 'chai';
import { InvalidValueError, Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import {
  BoltzmannMachine,
  GlauberSampler,
  ParallelDynamics,
  QuadraticEnergy,
  empiricalDistribution,
  totalVariation,
} from '@boltzmann/core';
import { bruteDistribution, randomBM, stateOf } from './general-bm-reference.js';

/**
 * Sampling noise: with S effectively independent samples over K states the expected total
 * variation of the empirical distribution is about sqrt(K / (2 pi S)); the runs below use
 * K = 64, S = 2000 chains x 40 samples (thinned by 2 sweeps) = 80,000, so about 0.011. The
 * bound 0.03 is ~3x that, and a wrong sampler (e.g. a factor 2 in the field, or parallel
 * updates) lands at 0.1 or more.
 */
const TV_BOUND = 0.03;

function glauberHistogram(q: QuadraticEnergy, temperature: number, seed: number, clamped?: number[], init?: Matrix): Float64Array {
  const sampler = new GlauberSampler(q, { temperature, seed, clamped });
  const samples = sampler.sample(80_000, { chains: 2000, burnIn: 50, thin: 2, init });
  return empiricalDistribution(samples, q.high);
}

describe('Glauber dynamics (one random unit at a time, heat bath)', function () {
  const host = randomBM(6, 3, 1.2);
  const q = new QuadraticEnergy(host.M, host.b);

  for (const t of [1, 0.6, 3]) {
    it(`long runs match the exact Boltzmann-Gibbs distribution at T = ${t} (6 units, TV < ${TV_BOUND}, seed 1)`, function () {
      const tv = totalVariation(glauberHistogram(q, t, 1), bruteDistribution(host, t));
      expect(tv).to.be.below(TV_BOUND);
    });
  }

  it('with +-1 spin units too', function () {
    const spins = new QuadraticEnergy(host.M, host.b, { values: 'spin' });
    const tv = totalVariation(glauberHistogram(spins, 1.5, 2), bruteDistribution(host, 1.5, -1));
    expect(tv).to.be.below(TV_BOUND);
  });

  it('clamped units stay put and the free ones follow p(free | clamped)', function () {
    const init = Matrix.fromRows([[1, 0, 0, 0, 0, 0]]).toFloat64();
    const hist = glauberHistogram(q, 1, 3, [0, 1], init);
    const joint = bruteDistribution(host, 1);
    const want = new Float64Array(64);
    let z = 0;
    for (let k = 0; k < 64; k++) if (stateOf(k, 6)[0] === 1 && stateOf(k, 6)[1] === 0) z += joint[k]!;
    for (let k = 0; k < 64; k++) if (stateOf(k, 6)[0] === 1 && stateOf(k, 6)[1] === 0) want[k] = joint[k]! / z;
    expect(totalVariation(hist, want)).to.be.below(TV_BOUND);
  });

  it('a wrong temperature is detected: T = 1 samples are far from the T = 3 distribution', function () {
    expect(totalVariation(glauberHistogram(q, 1, 4), bruteDistribution(host, 3))).to.be.above(0.1);
  });

  it('tracks each chain energy incrementally (equal to a recomputation after many flips)', function () {
    const sampler = new GlauberSampler(q, { seed: 5 });
    const chains = sampler.createChains(7);
    sampler.sweep(chains, 33);
    for (let r = 0; r < 7; r++) expect(chains.energies[r]).to.be.closeTo(q.energy(chains.state(r)), 1e-10);
  });

  it('zero temperature descends: every unit ends on its lower-energy side', function () {
    const sampler = new GlauberSampler(q, { seed: 6, temperature: 0 });
    const chains = sampler.createChains(5);
    sampler.sweep(chains, 200);
    for (let r = 0; r < 5; r++) {
      const s = chains.state(r);
      for (let i = 0; i < 6; i++) expect(s[i] === 1 ? q.field(i, s) >= 0 : q.field(i, s) <= 0).to.equal(true);
    }
  });

  it('is reproducible for a seed, and rejects bad options', function () {
    const a = new GlauberSampler(q, { seed: 9 }).sample(20, { burnIn: 5 });
    const b = new GlauberSampler(q, { seed: 9 }).sample(20, { burnIn: 5 });
    expect(Array.from(a.data)).to.deep.equal(Array.from(b.data));
    expect(() => new GlauberSampler(q, { temperature: -1 })).to.throw(InvalidValueError, /temperature/);
    expect(() => new GlauberSampler(q, { clamped: [6] })).to.throw(InvalidValueError, /clamped unit 6/);
    expect(() => new GlauberSampler(q).createChains(1, Matrix.fromRows([[0, 1, 2, 0, 0, 0]]).toFloat64())).to.throw(InvalidValueError, /binary units take 0 or 1/);
  });

  it('BoltzmannMachine.sample draws visible vectors from the marginal p(v)', async function () {
    const full = randomBM(5, 8, 1);
    const bm = BoltzmannMachine.create(new CpuBackend({ precision: 'float64' }), { visible: 3, hidden: 2, weights: full.M, bias: full.b, seed: 2 });
    const v = await bm.sample(40_000, { sweeps: 30 });
    const joint = bruteDistribution(full, 1);
    const marginal = new Float64Array(8);
    joint.forEach((p, k) => (marginal[k % 8]! += p));
    // K = 8, S = 40,000 independent chains: noise ~ 0.006
    expect(totalVariation(empiricalDistribution(v), marginal)).to.be.below(0.02);
  });
});

describe('parallel dynamics (all units at once, on the backend)', function () {
  const be = new CpuBackend({ precision: 'float64' });

  /** The exact stationary distribution of synchronous heat-bath updates, by power iteration of the 2^n x 2^n transition matrix. */
  function parallelStationary(host: ReturnType<typeof randomBM>, t: number): Float64Array {
    const n = host.b.length;
    const k = 2 ** n;
    let p = new Float64Array(k).fill(1 / k);
    const pHigh = Array.from({ length: k }, (_, a) => {
      const s = stateOf(a, n);
      return host.b.map((b, i) => 1 / (1 + Math.exp(-(b + s.reduce((acc, x, j) => acc + host.M[i]![j]! * x, 0)) / t)));
    });
    for (let it = 0; it < 2000; it++) {
      const next = new Float64Array(k);
      for (let a = 0; a < k; a++) {
        for (let c = 0; c < k; c++) {
          let tr = 1;
          const s = stateOf(c, n);
          for (let i = 0; i < n; i++) tr *= s[i] === 1 ? pHigh[a]![i]! : 1 - pHigh[a]![i]!;
          next[c]! += p[a]! * tr;
        }
      }
      p = next;
    }
    return p;
  }

  it('its chains follow the exact stationary distribution of synchronous updates (which is not Boltzmann)', async function () {
    const host = randomBM(4, 11, 1.5);
    const t = 1.3;
    const bm = BoltzmannMachine.create(be, { visible: 2, hidden: 2, weights: host.M, bias: host.b, seed: 3 });
    const v = await bm.sample(30_000, { dynamics: 'parallel', sweeps: 40, temperature: t, allUnits: true });
    const hist = empiricalDistribution(v);
    const stationary = parallelStationary(host, t);
    expect(totalVariation(hist, stationary)).to.be.below(0.02); // K = 16, S = 30,000: noise ~ 0.009
    expect(totalVariation(stationary, bruteDistribution(host, t))).to.be.above(0.05);
  });

  it('is exact when no units interact (zero weights)', async function () {
    const b = [0.5, -1, 2];
    const bm = BoltzmannMachine.create(be, { visible: 3, bias: b, seed: 4 });
    const v = await bm.sample(20_000, { dynamics: 'parallel', sweeps: 1 });
    expect(totalVariation(empiricalDistribution(v), bruteDistribution({ M: [[0, 0, 0], [0, 0, 0], [0, 0, 0]], b }))).to.be.below(0.02);
  });

  it('does not reach the Boltzmann distribution with a strong negative coupling, where Glauber does', async function () {
    // E(11) = 0, E(10) = E(01) = -5, E(00) = 0: p concentrates on 10 and 01. Synchronous
    // updates from 00 or 11 flip both units together and oscillate 00 <-> 11.
    const host = { M: [[0, -10], [-10, 0]], b: [5, 5] };
    const bm = BoltzmannMachine.create(be, { visible: 2, weights: host.M, bias: host.b, seed: 5 });
    const exact = bruteDistribution(host, 1);
    const parallel = empiricalDistribution(await bm.sample(4000, { dynamics: 'parallel', sweeps: 50 }));
    const glauber = empiricalDistribution(await bm.sample(4000, { dynamics: 'glauber', sweeps: 50 }));
    expect(totalVariation(parallel, exact)).to.be.above(0.3);
    expect(totalVariation(glauber, exact)).to.be.below(0.05);
  });

  it('ParallelDynamics works on the float64 reference backend and refuses a non-positive temperature', function () {
    const ref = new ReferenceBackend();
    const bm = BoltzmannMachine.create(ref, { visible: 2, hidden: 1, weightStd: 1 });
    expect(() => new ParallelDynamics(bm, { temperature: 0 })).to.throw(InvalidValueError, /temperature/);
    const dyn = new ParallelDynamics(bm, { temperature: 2 });
    const chain = dyn.createChain(3);
    const rng = { seed: 1, stream: 0, counter: 0 };
    dyn.initializeUniform(chain, rng);
    dyn.step(chain, rng);
    for (const s of chain.states) for (const x of ref.readSync(s).data) expect(x === 0 || x === 1).to.equal(true);
    chain.dispose();
  });
});
