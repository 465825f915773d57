/**
 * Parallel tempering: the chains at every temperature sample exp(-beta E) (checked against
 * exact enumeration of a tiny bimodal RBM, where PCD's chains stay stuck in one mode), the swap
 * acceptance rates match their exact stationary values, betas [1] is PCD bit for bit, it learns
 * bars and stripes where PCD falls apart, resumes from a file bit-identically, and refuses bad
 * options with clear errors.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidValueError, Matrix, ReferenceBackend, ShapeError, rngState, type Tensor } from '@boltzmann/tensor';
import {
  ContrastiveDivergence,
  DBM,
  ParallelTempering,
  RBM,
  Trainer,
  exactLogLikelihood,
  loadModel,
  saveModel,
  temperingBetas,
  type Estimator,
  type EstimatorSpec,
  defaultComponents,
} from '@boltzmann/core';
import { barsAndStripes, binaryStates, energy, randomHostRBM, repeatRows, toParams, type HostRBM } from './helpers.js';

/** The built-in component set (read-only). */
const builtins = defaultComponents();

const be = new ReferenceBackend();
const nv = 4;
const nh = 3;

/**
 * A 4 x 3 RBM with two deep modes (all units off, all on) and an energy barrier of about 5 * 6
 * between them: W = 5 + noise, biases -5 * (units on the other side) / 2 + noise.
 */
function bimodal(): HostRBM {
  const w = 5;
  const noise = randomHostRBM(nv, nh, 5, 0.3);
  return {
    W: noise.W.map((row) => row.map((x) => w + x)),
    b: noise.b.map((x) => (-w * nh) / 2 + x),
    c: noise.c.map((x) => (-w * nv) / 2 + x),
  };
}

/** Index of the joint state (v, h): bit j of v, then bit nv + j of h. */
const stateIndex = (v: ArrayLike<number>, h: ArrayLike<number>) => {
  let index = 0;
  for (let j = 0; j < nv; j++) index += v[j]! * 2 ** j;
  for (let j = 0; j < nh; j++) index += h[j]! * 2 ** (nv + j);
  return index;
};

/** Joint energies of every state, by stateIndex. */
function energies(p: HostRBM): Float64Array {
  const out = new Float64Array(2 ** (nv + nh));
  for (const v of binaryStates(nv)) for (const h of binaryStates(nh)) out[stateIndex(v, h)] = energy(p, v, h);
  return out;
}

/** exp(-beta E) / Z_beta by enumeration. */
function tempered(e: Float64Array, beta: number): Float64Array {
  const min = Math.min(...e);
  const q = e.map((x) => Math.exp(-beta * (x - min)));
  const z = q.reduce((s, x) => s + x, 0);
  return q.map((x) => x / z);
}

const tv = (p: ArrayLike<number>, q: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs(p[i]! - q[i]!);
  return s / 2;
};

/** Adds the joint states (v rows, h rows) to a histogram of counts. */
function count(hist: Float64Array, v: Matrix, h: Matrix): void {
  for (let r = 0; r < v.rows; r++) hist[stateIndex(v.row(r), h.row(r))]! += 1;
}

const normalized = (hist: Float64Array) => {
  const n = hist.reduce((s, x) => s + x, 0);
  return hist.map((x) => x / n);
};

/** Runs `steps` estimator steps on a fixed batch (no parameter update), calling `each` after every step past `burnIn`. */
function sample(model: RBM, est: Estimator, steps: number, burnIn: number, each: (state: Record<string, Tensor>) => void): void {
  const grads = model.createGradients();
  const rng = rngState(3, 1);
  const batch = be.upload(new Matrix(20, nv, new Float64Array(20 * nv))); // every chain starts in the all-off mode
  for (let s = 0; s < steps; s++) {
    est.computeGradients(batch, grads, rng);
    if (s === burnIn - 1 && est instanceof ParallelTempering) est.resetSwapAcceptance();
    if (s >= burnIn) each(est.state());
  }
}

function rbm(p: HostRBM): RBM {
  const model = RBM.create(be, { visible: nv, hidden: nh });
  model.setParams(toParams(p));
  return model;
}

describe('parallel tempering', function () {
  it('each temperature samples exp(-beta E) exactly (TV to enumeration), where PCD stays in one mode; swap rates match their exact values', async function () {
    const p = bimodal();
    const e = energies(p);
    const betas = [1, 0.75, 0.5, 0.25, 0];
    const model = rbm(p);
    const pt = new ParallelTempering(model, { betas, k: 1 });
    const hists = betas.map(() => new Float64Array(e.length));
    sample(model, pt, 3000, 100, (state) => betas.forEach((_, t) => count(hists[t]!, be.readSync(state[`chain.${t}.visible`]!), be.readSync(state[`chain.${t}.hidden`]!))));
    const distances = betas.map((beta, t) => tv(normalized(hists[t]!), tempered(e, beta)));
    // Measured 0.0050 at beta 1, at most 0.018 (beta 0) over 2900 steps x 20 chains; swaps with the
    // acceptance exponent's sign flipped give 0.099 at beta 1.
    expect(distances[0], `TV at beta 1: ${distances[0]}`).to.be.below(0.03);
    for (const [t, d] of distances.entries()) expect(d, `TV at beta ${betas[t]}: ${d}`).to.be.below(0.04);

    // Stationary acceptance of pair (i, j): E over x ~ p_i, y ~ p_j of min(1, exp((b_i - b_j)(E(x) - E(y)))).
    const rates = await pt.swapAcceptance();
    for (let i = 0; i + 1 < betas.length; i++) {
      const [pi, pj] = [tempered(e, betas[i]!), tempered(e, betas[i + 1]!)];
      let exact = 0;
      for (let x = 0; x < e.length; x++) for (let y = 0; y < e.length; y++) exact += pi[x]! * pj[y]! * Math.min(1, Math.exp((betas[i]! - betas[i + 1]!) * (e[x]! - e[y]!)));
      expect(rates[i]!, `pair ${i}: measured ${rates[i]}, exact ${exact}`).to.be.closeTo(exact, 0.02); // measured within 0.004
    }

    // PCD from the same start: the chains never cross the barrier (measured TV 0.572).
    const pcd = new ContrastiveDivergence(model, { persistent: true });
    const hist = new Float64Array(e.length);
    sample(model, pcd, 3000, 100, (state) => count(hist, be.readSync(state['chain.visible']!), be.readSync(state['chain.hidden']!)));
    expect(tv(normalized(hist), tempered(e, 1))).to.be.above(0.3);
    pt.dispose();
    pcd.dispose();
  });

  it('with betas [1] it is PCD-k, random draw for random draw: same gradients, same trained parameters', async function () {
    const p = randomHostRBM(9, 5, 2, 1);
    const batch = be.upload(barsAndStripes(3));
    for (const options of [{}, { chains: 7, k: 3 }]) {
      const a = RBM.create(be, { visible: 9, hidden: 5 });
      a.setParams(toParams(p));
      const pt = new ParallelTempering(a, { betas: [1], ...options });
      const pcd = new ContrastiveDivergence(a, { persistent: true, ...options });
      const [ga, gb] = [a.createGradients(), a.createGradients()];
      const [ra, rb] = [rngState(4, 2), rngState(4, 2)];
      for (let step = 0; step < 3; step++) {
        pt.computeGradients(batch, ga, ra);
        pcd.computeGradients(batch, gb, rb);
        ga.tensors.forEach((g, i) => expect(Array.from(be.readSync(g).data)).to.deep.equal(Array.from(be.readSync(gb.tensors[i]!).data)));
        expect(ra).to.deep.equal(rb);
      }
      expect(await pt.swapAcceptance()).to.deep.equal([]);
    }
    const data = repeatRows(barsAndStripes(3), 2);
    const train = async (estimator: EstimatorSpec) => {
      const model = RBM.create(be, { visible: 9, hidden: 6, seed: 1 });
      await new Trainer(model, { estimator, batchSize: 5, seed: 9, learningRate: 0.1 }).fit(data, { epochs: 3 });
      return model.getParams();
    };
    const [fromPT, fromPCD] = [await train({ type: 'pt', betas: [1], k: [1, 2, 2] }), await train({ type: 'pcd', k: [1, 2, 2] })];
    for (const name of Object.keys(fromPCD)) expect(Array.from(fromPT[name]!.data), name).to.deep.equal(Array.from(fromPCD[name]!.data));
  });

  it('learns 3x3 bars and stripes (exact log-likelihood) where PCD with the same steps falls apart', async function () {
    this.timeout(60000);
    const patterns = barsAndStripes(3);
    const data = repeatRows(patterns, 4);
    const train = async (estimator: EstimatorSpec) => {
      const model = RBM.create(be, { visible: 9, hidden: 8, seed: 3, weightStd: 0.1 });
      const trainer = new Trainer(model, { estimator, learningRate: 0.1, momentum: 0.5, batchSize: 14, seed: 3 });
      const before = await exactLogLikelihood(model, patterns);
      await trainer.fit(data, { epochs: 1000 });
      const rates = trainer.estimator instanceof ParallelTempering ? await trainer.estimator.swapAcceptance() : [];
      return { before, after: await exactLogLikelihood(model, patterns), rates };
    };
    const pt = await train({ type: 'pt', temperatures: 5, chains: 20 });
    const pcd = await train({ type: 'pcd', chains: 20 });
    // Measured: untrained -6.254; PT -3.086 (the 14 patterns alone: log(1/14) = -2.639), swap rates
    // 0.69, 0.56, 0.45, 0.33; PCD -6.367 (seeds 1-7: PT -4.15 to -2.82, PCD -8.44 to -5.01).
    expect(pt.before).to.be.closeTo(-6.25, 0.05);
    expect(pt.after, `PT ${pt.after}`).to.be.above(-4);
    expect(pt.after - pcd.after, `PT ${pt.after}, PCD ${pcd.after}`).to.be.above(1);
    for (const r of pt.rates) expect(r).to.be.within(0.1, 0.9);
  });

  it('a run with 4 temperatures resumes from a file bit-identically; the spec round-trips (alias "parallel-tempering")', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'core-pt-'));
    try {
      const data = repeatRows(barsAndStripes(3), 2);
      const options = { batchSize: 5, seed: 9, learningRate: 0.1, estimator: { type: 'parallel-tempering', chains: 6, temperatures: 4, spacing: 'geometric', minBeta: 0.2, k: 2 } } as const;
      const straight = RBM.create(be, { visible: 9, hidden: 6, seed: 1 });
      await new Trainer(straight, options).fit(data, { epochs: 4 });
      const model = RBM.create(be, { visible: 9, hidden: 6, seed: 1 });
      const trainer = new Trainer(model, options);
      await trainer.fit(data, { epochs: 2 });
      const spec = trainer.config.estimator;
      expect(spec).to.deep.equal({ type: 'pt', k: 2, chains: 6, betas: temperingBetas(4, 'geometric', 0.2) });
      expect((spec['betas'] as number[])[3]).to.equal(0.2);
      expect(Object.keys(trainer.checkpoint().estimator)).to.deep.equal(
        [0, 1, 2, 3].flatMap((t) => [`chain.${t}.visible`, `chain.${t}.hidden`]),
      );
      const file = join(dir, 'pt.json');
      await saveModel(file, model, trainer);
      const loaded = loadModel(file, be);
      expect(loaded.trainer!.estimator).to.be.instanceOf(ParallelTempering);
      expect(loaded.trainer!.config.estimator).to.deep.equal(spec);
      await loaded.trainer!.fit(data, { epochs: 2 });
      const a = await straight.getParams();
      const b = await loaded.model.getParams();
      for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).to.deep.equal(Array.from(a[name]!.data));
      // The default ladder: 10 temperatures, linear down to 0.
      const dflt = builtins.estimators.get('pt')(model, { type: 'pt' }) as ParallelTempering;
      expect(dflt.betas).to.have.length(10);
      expect(dflt.betas[0]).to.equal(1);
      expect(dflt.betas[9]).to.equal(0);
      expect(dflt.betas[3]).to.be.closeTo(2 / 3, 1e-15);
      dflt.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad options, unsupported unit types and models, and mismatched state, with clear errors', async function () {
    const model = RBM.create(be, { visible: 4, hidden: 3 });
    const build = (spec: Record<string, unknown>) => () => builtins.estimators.get('pt')(model, { type: 'pt', ...spec }).dispose();
    expect(build({ betas: [] })).to.throw(InvalidValueError, /"betas" is empty: it needs at least one inverse temperature, the first 1/);
    expect(build({ betas: [1, 1.5] })).to.throw(InvalidValueError, /"betas"\[1\] must be a finite number in \[0, 1\], got 1.5/);
    expect(build({ betas: [1, -0.1] })).to.throw(InvalidValueError, /"betas"\[1\] must be a finite number in \[0, 1\], got -0.1/);
    expect(build({ betas: [1, 0.5, 0.5] })).to.throw(InvalidValueError, /must decrease strictly: .*\[2\] = 0.5 is not below .*\[1\] = 0.5/);
    expect(build({ betas: [1, 0.2, 0.6] })).to.throw(InvalidValueError, /must decrease strictly/);
    expect(build({ betas: [0.9, 0.5] })).to.throw(InvalidValueError, /must start at 1 \(the model itself.*got 0.9/);
    expect(build({ betas: 'hot' })).to.throw(InvalidValueError, /"betas" must be an array of inverse temperatures, got "hot"/);
    expect(build({ chains: 0 })).to.throw(InvalidValueError, /"chains" \(persistent chains per temperature\) must be an integer in \[1, .*got 0/);
    expect(build({ beta: [1, 0.5] })).to.throw(InvalidValueError, /estimator "pt".*"beta".*did you mean "betas"/);
    expect(build({ betas: [1, 0.5], temperatures: 3 })).to.throw(InvalidValueError, /either "betas" or "temperatures"\/"spacing"\/"minBeta", not both/);
    expect(build({ temperatures: 0 })).to.throw(InvalidValueError, /"temperatures" must be an integer in \[1, /);
    expect(build({ spacing: 'log' })).to.throw(InvalidValueError, /"spacing" must be "linear" or "geometric", got "log"/);
    expect(build({ spacing: 'geometric' })).to.throw(InvalidValueError, /geometric spacing needs "minBeta" in \(0, 1\)/);
    expect(build({ spacing: 'geometric', minBeta: 0 })).to.throw(InvalidValueError, /geometric spacing needs "minBeta" > 0, got 0/);
    expect(build({ temperatures: 3, minBeta: 1 })).to.throw(InvalidValueError, /"minBeta" must be below 1 with 3 temperatures/);
    expect(build({ k: 0 })).to.throw(InvalidValueError, /k \(Gibbs sweeps of parallel tempering\)/);
    expect(temperingBetas(1)).to.deep.equal([1]);
    expect(temperingBetas(3, 'linear', 0.4)).to.deep.equal([1, 0.7, 0.4]);

    const gaussian = RBM.create(be, { visible: { type: 'gaussian', size: 4 }, hidden: 3 });
    expect(() => new ParallelTempering(gaussian)).to.throw(InvalidValueError, /cannot temper layer "visible" of gaussian units: the unit type does not declare itself temperable/);
    const dbm = DBM.create(be, { layers: [4, 3, 2] });
    expect(() => new ParallelTempering(dbm, { betas: [1, 0.5] })).to.throw(InvalidValueError, /needs every hidden layer connected only to the visible layer/);
    expect(() => new Trainer(model, { estimator: { type: 'pt' }, regularizers: [{ type: 'dropout' }] })).to.throw(InvalidValueError, /does not support/);

    const pt = new ParallelTempering(model, { betas: [1, 0.5], chains: 2 });
    const chain = (rows: number, cols: number) => new Matrix(rows, cols, new Float64Array(rows * cols));
    expect(() => pt.loadState({ 'chain.visible': chain(2, 4) })).to.throw(InvalidValueError, /unknown entry "chain.visible" \(expected chain.0.visible, chain.0.hidden, chain.1.visible, chain.1.hidden: 2 temperatures\)/);
    expect(() => pt.loadState({ 'chain.0.visible': chain(3, 4), 'chain.0.hidden': chain(3, 3) })).to.throw(ShapeError, /holds 3 chains per temperature, the estimator was configured for 2/);
    expect(() => pt.loadState({ 'chain.0.visible': chain(2, 4), 'chain.0.hidden': chain(2, 3) })).to.throw(ShapeError, /"chain.1.visible" must be 2x4, got nothing/);
    const refused = await pt.computeGradients(be.upload(chain(2, 5)), model.createGradients(), rngState(1)).then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(ShapeError);
    expect((refused as Error).message).to.match(/batch has 5 columns/);
    pt.dispose();
  });
});
