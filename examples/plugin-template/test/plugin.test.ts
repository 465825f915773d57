/**
 * The template plugin: its binomial units against brute-force enumeration in float64 and their
 * sampler against the binomial moments, the smooth-l1 gradient against finite differences of
 * the penalty, the hiddenEntropy metric against a direct float64 computation, and all three
 * loaded through the container and used by a run spec to train a small model.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ContainerModule } from 'inversify';
import '@boltzmann/backend-cpu';
import { Tokens, createContainer, resolveRun, validateSpec, type BoltzmannContainer, type Dataset } from '@boltzmann/container';
import { buildModel, exactLogPartition, type Components, type EnergyModel, type RBM } from '@boltzmann/core';
import { CounterRng, Matrix, ReferenceBackend, rngState, type Backend } from '@boltzmann/tensor';
import { BinomialLayer, HiddenEntropyMetric, SmoothL1 } from '../src/index.js';

/** The plugin's entry from its sources (its package.json names dist/, built when it is packed). */
const pluginEntry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

interface Host {
  W: number[][];
  b: number[];
  c: number[];
}

function randomHost(nv: number, nh: number, seed: number, scale: number): Host {
  const rng = new CounterRng(seed, 5);
  const u = (n: number) => Array.from(rng.uniforms(new Float64Array(n)), (x) => (2 * x - 1) * scale);
  return { W: Array.from({ length: nv }, () => u(nh)), b: u(nv), c: u(nh) };
}

const logChoose = (n: number, k: number) => {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((n - i + 1) / i);
  return s;
};

/** E(v, h) = -b.v - sum log C(n, v_i) - c.h - v W h, from the definition. */
function energy(p: Host, trials: number, v: number[], h: number[]): number {
  let e = 0;
  v.forEach((vi, i) => (e -= p.b[i]! * vi + logChoose(trials, vi)));
  h.forEach((hj, j) => (e -= p.c[j]! * hj));
  v.forEach((vi, i) => h.forEach((hj, j) => (e -= vi * p.W[i]![j]! * hj)));
  return e;
}

/** Every vector of `n` entries in 0..base-1. */
function states(n: number, base: number): number[][] {
  return Array.from({ length: base ** n }, (_, s) => Array.from({ length: n }, (_, j) => Math.floor(s / base ** j) % base));
}

function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

function binomialRBM(backend: Backend, p: Host, trials: number, components: Components): EnergyModel {
  const model = buildModel(backend, {
    kind: 'rbm',
    layers: [
      { type: 'binomial', name: 'visible', size: p.b.length, trials },
      { type: 'bernoulli', name: 'hidden', size: p.c.length },
    ],
    connections: [{ type: 'dense', name: 'visible-hidden', from: 'visible', to: 'hidden' }],
  }, { components });
  const m64 = (rows: number[][]) => new Matrix(rows.length, rows[0]!.length, Float64Array.from(rows.flat()));
  model.setParams({ 'visible.bias': m64([p.b]), 'hidden.bias': m64([p.c]), 'visible-hidden.weights': m64(p.W) });
  return model;
}

/** Counts from two planted profiles: each row draws 4 trials per unit from one of them. */
function plantedCounts(rows: number, seed: number): Matrix {
  const profiles = [
    [0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.8, 0.2],
    [0.1, 0.1, 0.2, 0.9, 0.9, 0.8, 0.2, 0.8],
  ];
  const rng = new CounterRng(seed, 1);
  const u = rng.uniforms(new Float64Array(rows * (1 + 8 * 4)));
  const m = Matrix.zeros(rows, 8, 'float64');
  let k = 0;
  for (let r = 0; r < rows; r++) {
    const profile = profiles[u[k++]! < 0.5 ? 0 : 1]!;
    for (let j = 0; j < 8; j++) for (let t = 0; t < 4; t++) m.data[r * 8 + j]! += u[k++]! < profile[j]! ? 1 : 0;
  }
  return m;
}

const countsModule = new ContainerModule(({ bind }) => {
  bind(Tokens.dataSource).toConstantValue({ name: 'planted-counts', factory: (): Dataset => ({ data: plantedCounts(200, 4), description: '200 rows of planted counts (4 trials)' }) });
});

describe('examples/plugin-template', function () {
  let container: BoltzmannContainer;
  before(async function () {
    container = await createContainer({ plugins: [pluginEntry], modules: [countsModule], optionalBackends: false });
  });

  it('binds "binomial", "smooth-l1" and "hiddenEntropy" in the container', function () {
    expect(container.catalog.names('unitType')).to.include('binomial');
    expect(container.catalog.names('regularizer')).to.include('smooth-l1');
    expect(container.catalog.names('metric')).to.include('hiddenEntropy');
  });

  describe('binomial units against enumeration (float64)', function () {
    const be = new ReferenceBackend();
    for (const [nv, nh, trials] of [[1, 1, 1], [2, 3, 3], [3, 2, 4]] as const) {
      it(`free energy of every visible state and exact log Z: ${nv} binomial(${trials}) x ${nh} bernoulli`, async function () {
        const p = randomHost(nv, nh, nv * 100 + nh * 10 + trials, 1.1);
        const model = binomialRBM(be, p, trials, container.components) as RBM;
        const vs = states(nv, trials + 1);
        const hs = states(nh, 2);
        const f = await model.freeEnergyOf(new Matrix(vs.length, nv, Float64Array.from(vs.flat())));
        vs.forEach((v, r) => expect(f[r]).to.be.closeTo(-logSumExp(hs.map((h) => -energy(p, trials, v, h))), 1e-12));
        expect(await exactLogPartition(model)).to.be.closeTo(logSumExp(vs.flatMap((v) => hs.map((h) => -energy(p, trials, v, h)))), 1e-10);
        model.dispose();
      });
    }

    it('samples have the binomial mean and variance of their input', async function () {
      const trials = 5;
      const layer = new BinomialLayer(be, { type: 'binomial', name: 'v', size: 3, trials });
      const rows = 4000;
      const a = [-1.3, 0.2, 2.1];
      const input = be.upload(new Matrix(rows, 3, Float64Array.from({ length: rows * 3 }, (_, i) => a[i % 3]!)));
      const mean = be.zeros(rows, 3);
      const out = be.zeros(rows, 3);
      layer.mean(input, mean);
      layer.sample(input, mean, rngState(9, 2), out);
      const x = await be.read(out);
      for (let j = 0; j < 3; j++) {
        const q = 1 / (1 + Math.exp(-a[j]!));
        const col = Array.from({ length: rows }, (_, r) => x.data[r * 3 + j]!);
        expect(col.every((v) => Number.isInteger(v) && v >= 0 && v <= trials)).to.equal(true);
        const m = col.reduce((s, v) => s + v, 0) / rows;
        const variance = col.reduce((s, v) => s + (v - m) ** 2, 0) / (rows - 1);
        const sd = Math.sqrt((trials * q * (1 - q)) / rows);
        expect(m).to.be.closeTo(trials * q, 4 * sd);
        expect(variance).to.be.closeTo(trials * q * (1 - q), 0.1 * trials * q * (1 - q));
      }
      layer.dispose();
    });

    it('refuses counts outside [0, trials], naming row and column', function () {
      const layer = new BinomialLayer(be, { type: 'binomial', name: 'v', size: 2, trials: 3 });
      expect(() => layer.validate(new Matrix(2, 2, Float64Array.of(0, 1, 3, 4)), 'data')).to.throw(/row 1, column 1 is 4, outside \[0, 3\]/);
      layer.dispose();
    });
  });

  it('smooth-l1 adds the gradient of its penalty (finite differences)', async function () {
    const be = new ReferenceBackend();
    const p = randomHost(3, 4, 11, 0.05);
    const model = binomialRBM(be, p, 2, container.components);
    const reg = new SmoothL1(0.3, 0.02);
    const grads = model.parameters.map((q) => be.zeros(q.tensor.rows, q.tensor.cols));
    reg.addGradient({ model, grads: { tensors: grads, byLayer: [], byConnection: [] } });
    const penalty = (w: number[][]) => 0.3 * 0.02 * w.flat().reduce((s, x) => s + Math.log(Math.cosh(x / 0.02)), 0);
    const wIndex = model.parameters.findIndex((q) => q.role === 'weights');
    const g = await be.read(grads[wIndex]!);
    const h = 1e-6;
    p.W.forEach((row, i) =>
      row.forEach((_, j) => {
        const plus = p.W.map((r) => [...r]);
        const minus = p.W.map((r) => [...r]);
        plus[i]![j]! += h;
        minus[i]![j]! -= h;
        expect(g.data[i * 4 + j]).to.be.closeTo((penalty(plus) - penalty(minus)) / (2 * h), 1e-7);
      }),
    );
    // Biases are not penalised.
    model.parameters.forEach((q, i) => {
      if (q.role !== 'weights') expect(Array.from(be.readSync(grads[i]!).data).every((v) => v === 0)).to.equal(true);
    });
    expect(() => SmoothL1.fromSpec({ type: 'smooth-l1', widht: 1 })).to.throw(/width/);
    model.dispose();
  });

  it('hiddenEntropy is the mean binary entropy of E[h | v] (float64)', async function () {
    const be = new ReferenceBackend();
    const p = randomHost(3, 2, 5, 1.5);
    const model = binomialRBM(be, p, 3, container.components);
    const metric = new HiddenEntropyMetric(model);
    const rows = [[0, 1, 3], [2, 2, 0], [3, 0, 1], [1, 1, 1], [0, 0, 0]];
    metric.reset();
    metric.update(be.upload(new Matrix(3, 3, Float64Array.from(rows.slice(0, 3).flat()))));
    metric.update(be.upload(new Matrix(2, 3, Float64Array.from(rows.slice(3).flat()))));
    let expected = 0;
    for (const v of rows)
      for (let j = 0; j < 2; j++) {
        const a = p.c[j]! + v.reduce((s, vi, i) => s + vi * p.W[i]![j]!, 0);
        const q = 1 / (1 + Math.exp(-a));
        expected += -(q * Math.log(q) + (1 - q) * Math.log(1 - q));
      }
    expect(await metric.value()).to.be.closeTo(expected / (rows.length * 2), 1e-12);
    metric.dispose();
    model.dispose();
  });

  it('trains from a run spec: binomial visible units, smooth-l1, hiddenEntropy; reconstruction improves', async function () {
    const spec = validateSpec(
      {
        model: { layers: [{ type: 'binomial', name: 'visible', size: 8, trials: 4 }, { type: 'bernoulli', name: 'hidden', size: 4 }], weightStd: 0.05 },
        training: { epochs: 15, batchSize: 20, learningRate: 0.02, regularizers: [{ type: 'smooth-l1', coefficient: 1e-3 }], metrics: ['reconstructionError', 'hiddenEntropy'] },
        data: { source: { type: 'planted-counts' }, validationSplit: 0 },
        seed: 2,
      },
      container.catalog,
    );
    const run = await resolveRun(container, spec);
    try {
      const reports = await run.trainer.fit(run.data.train, { epochs: run.remainingEpochs, monitor: run.monitor });
      expect(reports).to.have.length(15);
      expect(reports.at(-1)!.reconstructionError).to.be.lessThan(reports[0]!.reconstructionError * 0.8);
      const entropy = new HiddenEntropyMetric(run.model);
      entropy.update(run.model.backend.upload(run.data.train));
      // The hidden units took sides on the two profiles: well below log 2.
      expect(await entropy.value()).to.be.lessThan(0.5);
      entropy.dispose();
    } finally {
      run.dispose();
    }
  });
});
