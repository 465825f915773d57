/**
 * The example plugin end to end: loaded by path through the container (never imported by the
 * framework), its Ising layer checked against brute-force enumeration in float64, its sampler
 * against exact marginals, its max-norm constraint against a hand computation, and both used
 * from a run spec to train a small model.
 */
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ContainerModule } from 'inversify';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { Tokens, createContainer, resolveRun, validateSpec, type BoltzmannContainer, type Dataset } from '@boltzmann/container';
import { RBM, buildModel, defaultComponents, exactLogLikelihood, exactLogPartition, loadModel, saveModel, type Components, type EnergyModel } from '@boltzmann/core';
import { CounterRng, Matrix, ReferenceBackend, type Backend } from '@boltzmann/tensor';
import { HiddenMaxNorm } from '../src/index.js';

const pluginDir = fileURLToPath(new URL('..', import.meta.url));

/** All +-1 vectors of length n, bit j of the index = unit j. */
function spinStates(n: number): number[][] {
  return Array.from({ length: 2 ** n }, (_, s) => Array.from({ length: n }, (_, j) => (Math.floor(s / 2 ** j) % 2 === 1 ? 1 : -1)));
}

interface HostIsing {
  W: number[][];
  b: number[];
  c: number[];
}

function randomHost(nv: number, nh: number, seed: number, scale: number): HostIsing {
  const rng = new CounterRng(seed, 5);
  const u = (n: number) => Array.from(rng.uniforms(new Float64Array(n)), (x) => (2 * x - 1) * scale);
  return { W: Array.from({ length: nv }, () => u(nh)), b: u(nv), c: u(nh) };
}

/** E(v, h) = -b.v - c.h - v W h, written from the definition. */
function energy(p: HostIsing, v: number[], h: number[]): number {
  let e = 0;
  v.forEach((vi, i) => (e -= p.b[i]! * vi));
  h.forEach((hj, j) => (e -= p.c[j]! * hj));
  v.forEach((vi, i) => h.forEach((hj, j) => (e -= vi * p.W[i]![j]! * hj)));
  return e;
}

function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

function isingRBM(components: Components, backend: Backend, p: HostIsing): EnergyModel {
  const nv = p.b.length;
  const nh = p.c.length;
  const spec = {
    kind: 'rbm',
    layers: [
      { type: 'ising', name: 'visible', size: nv },
      { type: 'ising', name: 'hidden', size: nh },
    ],
    connections: [{ type: 'dense', name: 'visible-hidden', from: 'visible', to: 'hidden' }],
  };
  const model = buildModel(backend, spec, { components });
  const m64 = (rows: number[][]) => new Matrix(rows.length, rows[0]!.length, Float64Array.from(rows.flat()));
  model.setParams({ 'visible.bias': m64([p.b]), 'hidden.bias': m64([p.c]), 'visible-hidden.weights': m64(p.W) });
  return model;
}

/** Bars and stripes on a 3x3 grid as spins (-1 off, +1 on), each pattern repeated. */
function spinBars(repeat: number): Matrix {
  const rows: number[][] = [];
  for (let mask = 0; mask < 8; mask++) {
    const bars: number[] = [];
    const stripes: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      bars.push((mask >> j) & 1 ? 1 : -1);
      stripes.push((mask >> i) & 1 ? 1 : -1);
    }
    rows.push(bars);
    if (mask !== 0 && mask !== 7) rows.push(stripes);
  }
  const all: number[][] = [];
  for (let r = 0; r < repeat; r++) all.push(...rows);
  return new Matrix(all.length, 9, Float64Array.from(all.flat()));
}

/** A data source for the tests, bound the way a plugin would bind one. */
const spinDataModule = new ContainerModule(({ bind }) => {
  bind(Tokens.dataSource).toConstantValue({
    name: 'spin-bars',
    factory: (): Dataset => ({ data: spinBars(8), imageShape: [3, 3], description: '3x3 bars and stripes as spins' }),
  });
});

describe('examples/custom-unit-plugin', function () {
  let container: BoltzmannContainer;

  before(async function () {
    container = await createContainer({ plugins: [pluginDir], modules: [spinDataModule], optionalBackends: false });
  });

  describe('loading', function () {
    it('binds "ising" and "hidden-max-norm" in the container\'s component set, and nowhere else', function () {
      expect(container.plugins.map((p) => p.file)).to.have.length(1);
      expect(container.catalog.names('unitType')).to.include('ising');
      expect(container.catalog.names('regularizer')).to.include('hidden-max-norm');
      expect(container.components.unitTypes.has('ising')).to.equal(true);
      expect(defaultComponents().unitTypes.has('ising')).to.equal(false);
      expect(defaultComponents().regularizers.has('hidden-max-norm')).to.equal(false);
    });
  });

  describe('Ising units against enumeration (float64)', function () {
    const be = new ReferenceBackend();
    for (const [nv, nh] of [[1, 1], [3, 2], [5, 3]] as const) {
      it(`free energy of every visible state and exact log Z of a ${nv}x${nh} Ising RBM`, async function () {
        const p = randomHost(nv, nh, nv * 10 + nh, 1.2);
        const model = isingRBM(container.components, be, p) as RBM;
        const vs = spinStates(nv);
        const hs = spinStates(nh);
        const f = await model.freeEnergyOf(new Matrix(vs.length, nv, Float64Array.from(vs.flat())));
        vs.forEach((v, r) => expect(f[r]).to.be.closeTo(-logSumExp(hs.map((h) => -energy(p, v, h))), 1e-12));
        const logZ = logSumExp(vs.flatMap((v) => hs.map((h) => -energy(p, v, h))));
        expect(await exactLogPartition(model)).to.be.closeTo(logZ, 1e-10);
        model.dispose();
      });
    }

    it('conditional means are tanh of the input and a layer enumerates spins', async function () {
      const p = randomHost(3, 2, 7, 1);
      const model = isingRBM(container.components, be, p) as RBM;
      const v = [1, -1, 0.5];
      const h = await model.transform(new Matrix(1, 3, Float64Array.from(v)));
      p.c.forEach((c, j) => expect(h.data[j]).to.be.closeTo(Math.tanh(c + v.reduce((s, x, i) => s + x * p.W[i]![j]!, 0)), 1e-12));
      expect(Array.from(model.visible.enumerateStates!(5, 1, 'float64').data)).to.deep.equal([1, -1, 1]);
      expect(() => model.visible.validate(new Matrix(1, 3, Float64Array.of(1, -1, 2)), 'data')).to.throw(/\[-1, 1\].*row 0, col 2/);
      model.dispose();
    });

    it('Gibbs samples of a 2x2 Ising RBM match the exact visible marginals (CPU backend)', async function () {
      const p = randomHost(2, 2, 3, 1);
      const model = isingRBM(container.components, new CpuBackend({ precision: 'float64' }), p) as RBM;
      const samples = await model.sample(20000, { steps: 30, seed: 5, binary: true });
      const vs = spinStates(2);
      const hs = spinStates(2);
      const logp = vs.map((v) => logSumExp(hs.map((h) => -energy(p, v, h))));
      const z = logSumExp(logp);
      for (let i = 0; i < 2; i++) {
        const exact = vs.reduce((s, v, k) => s + v[i]! * Math.exp(logp[k]! - z), 0);
        let mean = 0;
        for (let r = 0; r < samples.rows; r++) {
          const x = samples.data[r * 2 + i]!;
          expect(Math.abs(x)).to.equal(1);
          mean += x / samples.rows;
        }
        // Standard error of a mean of 20000 +-1 draws is below 0.0071: allow 5 of them.
        expect(mean).to.be.closeTo(exact, 0.035);
      }
      model.dispose();
    });
  });

  describe('hidden-max-norm', function () {
    it('scales only the columns longer than maxNorm back to maxNorm', function () {
      const be = new ReferenceBackend();
      const model = isingRBM(container.components, be, { W: [[0.3, 3, 0], [0.4, 4, 2]], b: [0, 0], c: [0, 0, 0] });
      new HiddenMaxNorm(1).afterStep(model);
      const w = be.readSync(model.parameters.find((q) => q.role === 'weights')!.tensor);
      // column norms 0.5 (kept), 5 (-> 1) and 2 (-> 1)
      [0.3, 0.6, 0, 0.4, 0.8, 1].forEach((want, i) => expect(w.data[i]).to.be.closeTo(want, 1e-15));
      model.dispose();
    });

    it('rejects a bad maxNorm or an unknown option, naming it', function () {
      expect(() => HiddenMaxNorm.fromSpec({ type: 'hidden-max-norm', maxNorm: 0 })).to.throw(/maxNorm.*> 0, got 0/);
      expect(() => HiddenMaxNorm.fromSpec({ type: 'hidden-max-norm' })).to.throw(/needs "maxNorm"/);
      expect(() => HiddenMaxNorm.fromSpec({ type: 'hidden-max-norm', maxNorm: 1, max: 2 })).to.throw(/no option "max"/);
    });
  });

  describe('training from a run spec', function () {
    const maxNorm = 0.6;
    const spec = (regularizers: object[]) =>
      validateSpec(
        {
          model: {
            layers: [
              { type: 'ising', name: 'visible', size: 9 },
              { type: 'ising', name: 'hidden', size: 12 },
            ],
            weightStd: 0.1,
          },
          training: { epochs: 40, batchSize: 10, learningRate: 0.1, momentum: 0.5, estimator: { type: 'cd', k: 1 }, weightDecay: 0, regularizers, metrics: [] },
          data: { source: { type: 'spin-bars' }, validationSplit: 0 },
          seed: 3,
        },
        container.catalog,
      );

    async function trainWith(regularizers: object[]): Promise<{ norms: number[]; before: number; after: number; model: EnergyModel; run: Awaited<ReturnType<typeof resolveRun>> }> {
      const run = await resolveRun(container, spec(regularizers));
      const before = await exactLogLikelihood(run.model, run.data.train);
      await run.trainer.fit(run.data.train, { epochs: run.remainingEpochs, monitor: run.monitor });
      const after = await exactLogLikelihood(run.model, run.data.train);
      const w = await run.model.backend.read(run.model.parameters.find((q) => q.role === 'weights')!.tensor);
      const norms = Array.from({ length: w.cols }, (_, j) => Math.hypot(...Array.from({ length: w.rows }, (_, i) => w.data[i * w.cols + j]!)));
      return { norms, before, after, model: run.model, run };
    }

    it('learns spin bars-and-stripes with Ising units, and the constraint caps every hidden unit\'s weight norm', async function () {
      const free = await trainWith([]);
      const capped = await trainWith([{ type: 'hidden-max-norm', maxNorm }]);
      // Without the constraint the weights grow past the cap, so the check below can fail.
      expect(Math.max(...free.norms)).to.be.greaterThan(maxNorm * 1.5);
      for (const n of capped.norms) expect(n).to.be.at.most(maxNorm * (1 + 1e-5));
      expect(Math.max(...capped.norms)).to.be.closeTo(maxNorm, maxNorm * 1e-4);
      // Both runs learned: the exact log-likelihood rose well above its start; unconstrained, it
      // nears the best possible, log(1/14) = -2.64 for 14 equally frequent patterns.
      expect(free.after).to.be.greaterThan(-3.5);
      expect(capped.after).to.be.greaterThan(capped.before + 1);
      free.run.dispose();

      // The saved model (Ising layers, max-norm in its training state) loads through the container's set.
      const dir = mkdtempSync(join(tmpdir(), 'ising-'));
      try {
        const file = join(dir, 'model.json');
        await saveModel(file, capped.model, capped.run.trainer);
        const loaded = loadModel(file, new ReferenceBackend(), { components: container.components });
        expect(loaded.model.layers.map((l) => l.type)).to.deep.equal(['ising', 'ising']);
        expect(loaded.trainer!.regularizers.map((r) => r.type)).to.deep.equal(['hidden-max-norm']);
        expect(await exactLogLikelihood(loaded.model, capped.run.data.train)).to.be.closeTo(capped.after, 1e-4);
        loaded.trainer!.dispose();
        loaded.model.dispose();
      } finally {
        rmSync(dir, { recursive: true, force: true });
        capped.run.dispose();
      }
    });

    it('from a spec, the Ising units train by parallel tempering, are scored by the pseudo-likelihood and sampled by Glauber dynamics: their declared capabilities, no change to the framework', async function () {
      // Persistent chains need enough of them at this step size: with 10 (one batch) PT, like
      // PCD, sharpens the modes the chains sit in and loses likelihood on this data.
      const run = await resolveRun(
        container,
        validateSpec(
          {
            model: { layers: [{ type: 'ising', name: 'visible', size: 9 }, { type: 'ising', name: 'hidden', size: 8 }], weightStd: 0.05 },
            training: { epochs: 15, batchSize: 10, learningRate: 0.03, momentum: 0.5, estimator: { type: 'pt', betas: [1, 0.6, 0.3], chains: 50 }, weightDecay: 0, metrics: ['pseudoLogLikelihood'] },
            data: { source: { type: 'spin-bars' }, validationSplit: 0 },
            output: { samples: { sampler: { type: 'glauber' } } },
            seed: 4,
          },
          container.catalog,
        ),
      );
      try {
        expect(run.skippedMetrics).to.deep.equal([]);
        expect(run.monitor.pseudoLikelihood).to.equal(true);
        expect(run.samplesSkipped).to.equal(undefined);
        const before = await exactLogLikelihood(run.model, run.data.train);
        const reports = await run.trainer.fit(run.data.train, { epochs: run.remainingEpochs, monitor: run.monitor });
        const pll = reports.map((r) => r.pseudoLogLikelihood!.train);
        for (const x of pll) expect(x).to.satisfy(Number.isFinite);
        // The pseudo-likelihood (9 spins flipped one at a time) and the exact log-likelihood both rise.
        expect(pll[pll.length - 1]).to.be.greaterThan(pll[0]! + 0.5);
        expect(await exactLogLikelihood(run.model, run.data.train)).to.be.greaterThan(before + 1);
        const samples = await run.sampler!.sample({ count: 5, sweeps: 10, seed: 1, binary: true });
        expect(new Set(samples.data)).to.deep.equal(new Set([-1, 1]));
      } finally {
        run.dispose();
      }
    });
  });
});
