/**
 * The sampler registry ("draw n samples of a model's visible layer"): its built-ins, their
 * long-run visible distributions against exact enumeration (float64, fixed seeds), starting
 * points, determinism, and the errors for bad names, options, requests and models.
 */
import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import {
  BoltzmannMachine,
  GibbsModelSampler,
  RBM,
  empiricalDistribution,
  totalVariation,
  UnsupportedModelError,
  type EnergyModel,
  type Sampler,
  type SamplerSpec,
  defaultComponents,
} from '@boltzmann/core';
import { InvalidValueError, Matrix, ShapeError } from '@boltzmann/tensor';
import { bruteDistribution, randomBM, type HostBM } from './general-bm-reference.js';
import { matrix64, randomHostRBM, toParams, type HostRBM } from './helpers.js';

/** The built-in component set (read-only). */
const builtins = defaultComponents();

const be = new CpuBackend({ precision: 'float64' });

/**
 * Sampling noise: the final states of S independent chains over K visible states have an
 * expected total variation of about sqrt(K / (2 pi S)); here K = 8 and S = 20,000 chains
 * (one sample each), so about 0.008. The bound 0.03 is ~4x that; a sampler that is wrong
 * (parallel updates with lateral weights, a factor 2 in a field, T off by 2) lands far above.
 */
const TV_BOUND = 0.03;
const CHAINS = 20_000;

/** The RBM as a general machine over [visible, hidden] (M block off-diagonal), for `bruteDistribution`. */
function rbmAsBM(p: HostRBM): HostBM {
  const nv = p.b.length;
  const n = nv + p.c.length;
  const M = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  p.W.forEach((row, i) => row.forEach((w, j) => (M[i]![nv + j] = M[nv + j]![i] = w)));
  return { M, b: [...p.b, ...p.c] };
}

/** p(v) over the 2^nv visible states (bit i = visible unit i), hidden units summed out. */
function visibleMarginal(p: HostBM, nv: number, temperature = 1): Float64Array {
  const joint = bruteDistribution(p, temperature);
  const out = new Float64Array(2 ** nv);
  joint.forEach((x, k) => (out[k % 2 ** nv]! += x));
  return out;
}

/** E[v_i] under a distribution over visible states. */
function marginalMeans(p: ArrayLike<number>, nv: number): number[] {
  return Array.from({ length: nv }, (_, i) => {
    let m = 0;
    for (let k = 0; k < p.length; k++) if (Math.floor(k / 2 ** i) % 2 === 1) m += p[k]!;
    return m;
  });
}

function columnMeans(m: Matrix): number[] {
  return Array.from({ length: m.cols }, (_, j) => {
    let s = 0;
    for (let r = 0; r < m.rows; r++) s += m.data[r * m.cols + j]!;
    return s / m.rows;
  });
}

function make(model: EnergyModel, spec: SamplerSpec): Sampler {
  return builtins.samplers.get(spec.type)(model, spec);
}

function expectBinary(m: Matrix): void {
  for (const x of m.data) expect(x === 0 || x === 1, `value ${x}`).to.equal(true);
}

describe('samplers: the registry and its built-ins', function () {
  const hostRBM = randomHostRBM(3, 2, 4, 1.5);
  const rbm = RBM.create(be, { visible: 3, hidden: 2 });
  rbm.setParams(toParams(hostRBM));
  const rbmVisible = visibleMarginal(rbmAsBM(hostRBM), 3);

  // A general machine over 3 visible + 2 hidden units with every lateral weight.
  const hostBM = randomBM(5, 8, 1.2);
  const bm = BoltzmannMachine.create(be, { visible: 3, hidden: 2, weights: hostBM.M, bias: hostBM.b });
  const bmVisible = visibleMarginal(hostBM, 3);

  it('lists the built-ins; an unknown name lists the registered ones', function () {
    expect(builtins.samplers.names()).to.include.members(['gibbs', 'glauber', 'parallel-dynamics']);
    expect(() => builtins.samplers.get('metropolis')).to.throw(InvalidValueError, /unknown sampler "metropolis"; registered: .*gibbs, glauber, parallel-dynamics/);
  });

  it('references differ: the RBM and the lateral machine have visible distributions far from uniform and from each other', function () {
    // Guards the TV checks below against a trivially easy target.
    expect(totalVariation(rbmVisible, new Float64Array(8).fill(1 / 8))).to.be.above(0.15);
    expect(totalVariation(bmVisible, rbmVisible)).to.be.above(0.15);
  });

  describe('gibbs (block Gibbs)', function () {
    it(`long runs on an RBM match the exact visible distribution (${CHAINS} chains x 30 sweeps, TV < ${TV_BOUND}, seed 1)`, async function () {
      const samples = await make(rbm, { type: 'gibbs' }).sample({ count: CHAINS, sweeps: 30, seed: 1, binary: true });
      expect([samples.rows, samples.cols]).to.deep.equal([CHAINS, 3]);
      expectBinary(samples);
      expect(totalVariation(empiricalDistribution(samples), rbmVisible)).to.be.below(TV_BOUND);
    });

    it('the probabilities average to the exact visible marginals, from data too', async function () {
      const want = marginalMeans(rbmVisible, 3);
      const random = await make(rbm, { type: 'gibbs' }).sample({ count: CHAINS, sweeps: 30, seed: 2 });
      const start = matrix64(Array.from({ length: CHAINS }, () => [1, 1, 0]));
      const fromData = await make(rbm, { type: 'gibbs' }).sample({ count: CHAINS, sweeps: 30, seed: 3, init: start });
      for (const m of [random, fromData]) columnMeans(m).forEach((x, i) => expect(x).to.be.closeTo(want[i]!, 0.01));
    });

    it('from random units it draws exactly what RBM.sample draws for a seed (samples.png is unchanged)', async function () {
      const a = await make(rbm, { type: 'gibbs' }).sample({ count: 7, sweeps: 4, seed: 9 });
      const b = await rbm.sample(7, { steps: 4, seed: 9 });
      expect(Array.from(a.data)).to.deep.equal(Array.from(b.data));
    });

    it('0 sweeps from data keeps the data as the states', async function () {
      const start = matrix64([[1, 0, 1], [0, 1, 1]]);
      const states = await make(rbm, { type: 'gibbs' }).sample({ count: 2, sweeps: 0, init: start, seed: 1, binary: true });
      expect(Array.from(states.data)).to.deep.equal([1, 0, 1, 0, 1, 1]);
    });

    it('refuses a machine with lateral weights, naming the sampler to use', function () {
      expect(() => make(bm, { type: 'gibbs' })).to.throw(UnsupportedModelError, /sampler "gibbs" \(block Gibbs\) needs a model whose layers split into two blocks.*odd cycle.*"glauber"/);
    });

    it('takes no options', function () {
      expect(() => make(rbm, { type: 'gibbs', temperature: 2 })).to.throw(InvalidValueError, /sampler "gibbs" has an unknown option "temperature"; it takes no options/);
    });
  });

  describe('glauber (one unit at a time)', function () {
    it(`long runs on an RBM match the exact visible distribution (TV < ${TV_BOUND}, seed 1)`, async function () {
      const samples = await make(rbm, { type: 'glauber' }).sample({ count: CHAINS, sweeps: 30, seed: 1, binary: true });
      expect([samples.rows, samples.cols]).to.deep.equal([CHAINS, 3]);
      expectBinary(samples);
      expect(totalVariation(empiricalDistribution(samples), rbmVisible)).to.be.below(TV_BOUND);
    });

    for (const t of [1, 2]) {
      it(`long runs on a machine with lateral weights match the exact visible distribution at T = ${t}`, async function () {
        const samples = await make(bm, { type: 'glauber', temperature: t }).sample({ count: CHAINS, sweeps: 30, seed: 5, binary: true });
        const exact = visibleMarginal(hostBM, 3, t);
        expect(totalVariation(empiricalDistribution(samples), exact)).to.be.below(TV_BOUND);
        // ...and a wrong temperature would be caught.
        expect(totalVariation(empiricalDistribution(samples), visibleMarginal(hostBM, 3, 3 - t))).to.be.above(2 * TV_BOUND);
      });
    }

    it('the probabilities average to the exact visible marginals, from data too (rows as probabilities)', async function () {
      const want = marginalMeans(bmVisible, 3);
      const start = matrix64(Array.from({ length: CHAINS }, () => [0.2, 1, 0]));
      for (const init of [undefined, start]) {
        const m = await make(bm, { type: 'glauber' }).sample({ count: CHAINS, sweeps: 30, seed: 6, ...(init ? { init } : {}) });
        for (const x of m.data) expect(x).to.be.within(0, 1);
        columnMeans(m).forEach((x, i) => expect(x).to.be.closeTo(want[i]!, 0.01));
      }
    });

    it('0 sweeps from 0/1 data keeps the data; the same seed gives the same rows', async function () {
      const start = matrix64([[1, 0, 1], [0, 1, 1]]);
      const s = make(bm, { type: 'glauber' });
      expect(Array.from((await s.sample({ count: 2, sweeps: 0, init: start, seed: 1, binary: true })).data)).to.deep.equal([1, 0, 1, 0, 1, 1]);
      const a = await s.sample({ count: 5, sweeps: 3, seed: 4 });
      const b = await s.sample({ count: 5, sweeps: 3, seed: 4 });
      expect(Array.from(a.data)).to.deep.equal(Array.from(b.data));
    });

    it('refuses non-Bernoulli units and bad temperatures, and suggests misspelt options', function () {
      const gaussian = RBM.create(be, { visible: { type: 'gaussian', size: 3 }, hidden: 2 });
      expect(() => make(gaussian, { type: 'glauber' })).to.throw(UnsupportedModelError, /sampler "glauber" needs two-valued units \(0\/1 or -1\/\+1 with energy -bias \. x, declared as twoValued\); layer "visible" has gaussian units/);
      gaussian.dispose();
      expect(() => make(rbm, { type: 'glauber', temperature: -1 })).to.throw(InvalidValueError, /sampler "glauber" temperature must be a finite number in \[0, Infinity\], got -1/);
      expect(() => make(rbm, { type: 'glauber', temprature: 1 })).to.throw(InvalidValueError, /sampler "glauber" has an unknown option "temprature"; its options are "temperature" \(did you mean "temperature"\?\)/);
    });
  });

  describe('parallel-dynamics (every unit at once)', function () {
    it('gives count x visible rows, binary states or probabilities, the same for the same seed, on an RBM and on a lateral machine', async function () {
      for (const model of [rbm, bm]) {
        const s = make(model, { type: 'parallel-dynamics', temperature: 1.5 });
        const states = await s.sample({ count: 6, sweeps: 10, seed: 2, binary: true });
        expect([states.rows, states.cols]).to.deep.equal([6, 3]);
        expectBinary(states);
        const again = await s.sample({ count: 6, sweeps: 10, seed: 2, binary: true });
        expect(Array.from(again.data)).to.deep.equal(Array.from(states.data));
        const probs = await s.sample({ count: 6, sweeps: 10, seed: 2 });
        for (const x of probs.data) expect(x).to.be.within(0, 1);
      }
    });

    it('on a bipartite RBM its visible marginal matches block Gibbs (as documented; no such claim with lateral weights)', async function () {
      const samples = await make(rbm, { type: 'parallel-dynamics' }).sample({ count: CHAINS, sweeps: 30, seed: 1, binary: true });
      expect(totalVariation(empiricalDistribution(samples), rbmVisible)).to.be.below(TV_BOUND);
    });

    it('with lateral weights its visible distribution is measurably not the Boltzmann one (why it is documented as not guaranteed)', async function () {
      const samples = await make(bm, { type: 'parallel-dynamics' }).sample({ count: CHAINS, sweeps: 30, seed: 5, binary: true });
      // Glauber on the same machine and seed lands at ~0.006; parallel dynamics at ~0.07.
      expect(totalVariation(empiricalDistribution(samples), bmVisible)).to.be.above(0.04);
    });

    it('refuses a temperature of 0 and unknown options', function () {
      expect(() => make(rbm, { type: 'parallel-dynamics', temperature: 0 })).to.throw(InvalidValueError, /sampler "parallel-dynamics" temperature must be a finite number/);
      expect(() => make(rbm, { type: 'parallel-dynamics', steps: 3 })).to.throw(InvalidValueError, /sampler "parallel-dynamics" has an unknown option "steps"/);
    });
  });

  describe('requests', function () {
    const sampler = new GibbsModelSampler(rbm);

    it('checks the count, the sweeps and the starting rows', async function () {
      const reject = async (p: Promise<unknown>) => {
        try {
          await p;
        } catch (error) {
          return error as Error;
        }
        expect.fail('expected a rejection');
      };
      expect(await reject(sampler.sample({ count: 0, sweeps: 1 }))).to.be.instanceOf(InvalidValueError).with.property('message').match(/number of samples must be an integer/);
      expect(await reject(sampler.sample({ count: 2, sweeps: -1 }))).to.be.instanceOf(InvalidValueError).with.property('message').match(/sweeps must be an integer in \[0/);
      expect(await reject(sampler.sample({ count: 2, sweeps: 1, init: matrix64([[1, 0]]) }))).to.be.instanceOf(ShapeError).with.property('message').match(/starting rows have 2 columns but layer "visible" has 3 units/);
      expect(await reject(sampler.sample({ count: 2, sweeps: 1, init: matrix64([[1, 0, 1]]) }))).to.be.instanceOf(InvalidValueError).with.property('message').match(/2 chains need as many starting rows, got 1/);
      expect(await reject(sampler.sample({ count: 1, sweeps: 1, init: matrix64([[1, 0, 2]]) }))).to.be.instanceOf(InvalidValueError).with.property('message').match(/starting rows/);
    });

    it('describes its sweeps and gives its spec back', function () {
      expect(sampler.describe(5)).to.equal('5 Gibbs sweeps');
      expect(make(bm, { type: 'glauber', temperature: 0.5 }).describe(1)).to.equal('1 Glauber sweep at T = 0.5');
      expect(make(bm, { type: 'glauber', temperature: 0.5 }).spec()).to.deep.equal({ type: 'glauber', temperature: 0.5 });
      expect(sampler.spec()).to.deep.equal({ type: 'gibbs' });
    });

    it('without a seed it draws from the model\'s own stream, which advances', async function () {
      const model = RBM.create(be, { visible: 3, hidden: 2, seed: 3 });
      model.setParams(toParams(hostRBM));
      const s = new GibbsModelSampler(model);
      const a = await s.sample({ count: 4, sweeps: 2 });
      const b = await s.sample({ count: 4, sweeps: 2 });
      expect(Array.from(a.data)).to.not.deep.equal(Array.from(b.data));
      model.dispose();
    });
  });

  after(function () {
    rbm.dispose();
    bm.dispose();
  });
});

