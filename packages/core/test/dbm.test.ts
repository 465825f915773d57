import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidValueError, Matrix, ReferenceBackend, ShapeError } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import {
  BernoulliLayer,
  DBM,
  DenseConnection,
  MeanField,
  MaxNorm,
  MeanFieldPCD,
  RBM,
  ScaledFieldCD,
  SparsityTarget,
  Trainer,
  addVariationalBound,
  exactLogPartition,
  loadModel,
  pretrainDBM,
  saveModel,
  variationalLowerBoundRows,
  type Regularizer,
} from '@boltzmann/core';
import { dbmLogLikelihoodRows, dbmLogZ, dbmParams, randomHostDBM, type HostDBM } from './dbm-reference.js';
import { barsAndStripes, randomBinary, repeatRows } from './helpers.js';

const be = new CpuBackend({ precision: 'float64' });

function dbmFrom(host: HostDBM): DBM {
  const dbm = DBM.create(be, { layers: [host.b.length, host.c1.length, host.c2.length] });
  dbm.setParams(dbmParams(host));
  return dbm;
}

/** Random parameters for any DBM (seeded), N(0, scale). */
function randomize(model: DBM, seed: number, scale: number): void {
  const params: Record<string, Matrix> = {};
  model.parameters.forEach((p, i) => {
    const m = Matrix.zeros(p.tensor.rows, p.tensor.cols, 'float64');
    for (let k = 0; k < m.data.length; k++) m.data[k] = scale * Math.sin(seed * 7.1 + i * 3.3 + k * 1.7) * Math.sqrt(2);
    params[p.name] = m;
  });
  model.setParams(params);
}

describe('DBM: construction and composition', function () {
  it('refuses layer sizes that do not chain, a single layer and connections that skip layers', async function () {
    expect(() => DBM.create(be, { layers: [4, 3, 2], weights: [Matrix.zeros(4, 3), Matrix.zeros(4, 2)] })).to.throw(ShapeError, /weight matrix 1 must be 3x2.*do not chain/);
    expect(() => DBM.create(be, { layers: [4, 3], weights: [Matrix.zeros(4, 3), Matrix.zeros(3, 2)] })).to.throw(ShapeError, /needs 1 weight matrices, got 2/);
    expect(() => DBM.create(be, { layers: [4] })).to.throw(InvalidValueError, /at least two layers/);
    const a = new BernoulliLayer(be, { name: 'a', size: 2 });
    const b = new BernoulliLayer(be, { name: 'b', size: 2 });
    const c = new BernoulliLayer(be, { name: 'c', size: 2 });
    const skip = new DenseConnection(be, 'a-c', a, c, { weights: Matrix.zeros(2, 2) });
    const ab = new DenseConnection(be, 'a-b', a, b, { weights: Matrix.zeros(2, 2) });
    expect(() => new DBM(be, [a, b, c], [ab, skip])).to.throw(InvalidValueError, /connection 1 of a DBM \("a-c"\) must join layer "b" to layer "c"/);
    const r1 = RBM.create(be, { visible: 4, hidden: 3 });
    const r2 = RBM.create(be, { visible: 2, hidden: 2 });
    let caught: unknown;
    try {
      await DBM.fromRBMs([r1, r2]);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(ShapeError);
    expect((caught as Error).message).to.match(/RBM 0's hidden layer has 3 units but RBM 1's visible layer has 2: the layer sizes do not chain/);
  });

  it('composes RBMs with the DBM corrections: middle weights halved, inner biases averaged', async function () {
    const rbms = [RBM.create(be, { visible: 3, hidden: 4, seed: 1, weightStd: 1 }), RBM.create(be, { visible: 4, hidden: 2, seed: 2, weightStd: 1 }), RBM.create(be, { visible: 2, hidden: 5, seed: 3, weightStd: 1 })];
    rbms.forEach((r, i) => {
      r.setParams({ 'visible.bias': Matrix.fromRows([Array.from({ length: r.visible.size }, (_, j) => i + 0.1 * j)]), 'hidden.bias': Matrix.fromRows([Array.from({ length: r.hidden.size }, (_, j) => -i - 0.2 * j)]) }, { partial: true });
    });
    const p = await Promise.all(rbms.map((r) => r.getParams()));
    const dbm = await DBM.fromRBMs(rbms);
    expect(dbm.layers.map((l) => `${l.name}:${l.size}`)).to.deep.equal(['visible:3', 'hidden1:4', 'hidden2:2', 'hidden3:5']);
    const q = await dbm.getParams();
    const close = (got: Matrix, want: (i: number) => number) => Array.from(got.data).forEach((x, i) => expect(x).to.be.closeTo(want(i), 1e-12));
    close(q['visible-hidden1.weights']!, (i) => p[0]!['visible-hidden.weights']!.data[i]!);
    close(q['hidden1-hidden2.weights']!, (i) => 0.5 * p[1]!['visible-hidden.weights']!.data[i]!);
    close(q['hidden2-hidden3.weights']!, (i) => p[2]!['visible-hidden.weights']!.data[i]!);
    close(q['visible.bias']!, (i) => p[0]!['visible.bias']!.data[i]!);
    close(q['hidden1.bias']!, (i) => 0.5 * p[0]!['hidden.bias']!.data[i]! + 0.5 * 0.5 * p[1]!['visible.bias']!.data[i]!);
    close(q['hidden2.bias']!, (i) => 0.5 * 0.5 * p[1]!['hidden.bias']!.data[i]! + 0.5 * p[2]!['visible.bias']!.data[i]!);
    close(q['hidden3.bias']!, (i) => p[2]!['hidden.bias']!.data[i]!);
  });

  it('scaled-field CD (greedy DBM pretraining) doubles the field the hidden layer gets from the data', function () {
    const rbm = RBM.create(be, { visible: 5, hidden: 3, seed: 2, weightStd: 0.7 });
    rbm.setParams({ 'hidden.bias': new Matrix(1, 3, Float64Array.of(0.3, -0.2, 0.1)) }, { partial: true });
    const v = randomBinary(4, 5, 8);
    const w = be.readSync(rbm.connection.parameters[0]!.tensor);
    for (const upScale of [1, 2]) {
      const estimator = new ScaledFieldCD(rbm, { upScale, downScale: 2 });
      let hidden: Matrix | undefined;
      const grads = rbm.createGradients();
      estimator.computeGradients(be.upload(v), grads, { seed: 1, stream: 0, counter: 0 }, { onDataPhase: (means) => (hidden = be.readSync(means[1]!)) });
      for (let r = 0; r < 4; r++) {
        for (let j = 0; j < 3; j++) {
          let field = 0;
          for (let i = 0; i < 5; i++) field += v.get(r, i) * w.get(i, j);
          const want = 1 / (1 + Math.exp(-(upScale * field + [0.3, -0.2, 0.1][j]!)));
          expect(hidden!.get(r, j)).to.be.closeTo(want, 1e-12);
        }
      }
      expect(estimator.spec()).to.deep.equal({ type: 'scaled-field-cd', k: 1, upScale, downScale: 2 });
      estimator.dispose();
    }
    expect(() => new ScaledFieldCD(DBM.create(be, { layers: [3, 2, 2] }))).to.throw(InvalidValueError, /trains an RBM/);
  });

  it('a DBM composed of one RBM is that RBM: the same log Z, and its bound is exactly -F(v) - log Z', async function () {
    const rbm = RBM.create(be, { visible: 6, hidden: 4, seed: 3, weightStd: 1 });
    rbm.setParams({ 'visible.bias': Matrix.fromRows([[0.5, -1, 0.2, 0, 1, -0.3]]), 'hidden.bias': Matrix.fromRows([[0.1, -0.4, 0.3, 0.2]]) }, { partial: true });
    const dbm = await DBM.fromRBMs([rbm]);
    expect(await exactLogPartition(dbm)).to.be.closeTo(await exactLogPartition(rbm), 1e-12);
    const data = randomBinary(5, 6, 4);
    const logZ = await exactLogPartition(rbm);
    // With one hidden layer mean-field is exact: the bound equals -F(v) - log Z.
    const bound = await variationalLowerBoundRows(dbm, data, { logZ });
    const free = await rbm.freeEnergyOf(data);
    bound.forEach((x, r) => expect(x).to.be.closeTo(-free[r]! - logZ, 1e-10));
  });
});

describe('DBM: mean-field inference and the variational bound (float64, against enumeration)', function () {
  const data = randomBinary(7, 10, 12);

  it('the bound is the exact log-likelihood when q can be exact (no h1-h2 coupling), and below it otherwise', async function () {
    const host = randomHostDBM(10, 8, 6, 5, 1);
    host.W2 = host.W2.map((row) => row.map(() => 0));
    let dbm = dbmFrom(host);
    let logZ = dbmLogZ(host);
    expect(await exactLogPartition(dbm)).to.be.closeTo(logZ, 1e-10);
    let exact = dbmLogLikelihoodRows(host, data, logZ);
    let bound = await variationalLowerBoundRows(dbm, data, { logZ, maxIterations: 50, tolerance: 1e-12 });
    bound.forEach((x, r) => expect(x).to.be.closeTo(exact[r]!, 1e-9));

    const coupled = randomHostDBM(10, 8, 6, 5, 1);
    dbm = dbmFrom(coupled);
    logZ = dbmLogZ(coupled);
    exact = dbmLogLikelihoodRows(coupled, data, logZ);
    bound = await variationalLowerBoundRows(dbm, data, { logZ, maxIterations: 100, tolerance: 1e-12 });
    let gap = 0;
    bound.forEach((x, r) => {
      expect(x).to.be.at.most(exact[r]! + 1e-10);
      gap += exact[r]! - x;
    });
    expect(gap / bound.length).to.be.above(0.01).and.below(2); // a real, finite gap
  });

  for (const layers of [[10, 8, 6], [7, 5, 4, 3, 1]]) {
    it(`mean-field on a ${layers.join('-')} DBM converges to a fixed point, the bound never falling between block updates`, async function () {
      const dbm = DBM.create(be, { layers });
      randomize(dbm, layers.length, 0.8);
      const meanField = new MeanField(dbm, { maxIterations: 200, tolerance: 1e-10 });
      const state = meanField.createState(data.rows);
      be.write(state.states[0]!, layers[0] === 10 ? data : randomBinary(data.rows, layers[0]!, 3));
      meanField.initialize(state);
      const out = be.zeros(data.rows, 1);
      const trace: Float64Array[] = [];
      const record = () => {
        addVariationalBound(dbm, state, out);
        trace.push(Float64Array.from(be.readSync(out).data));
      };
      record();
      let change = Infinity;
      let iterations = 0;
      while (change > 1e-10 && iterations < 200) {
        change = 0;
        for (let b = 0; b < meanField.updateBlocks.length; b++) {
          change = Math.max(change, await meanField.updateBlock(state, b, true));
          record();
        }
        iterations += 1;
      }
      expect(iterations).to.be.below(200);
      for (let t = 2; t < trace.length; t++) for (let r = 0; r < data.rows; r++) expect(trace[t]![r]!).to.be.at.least(trace[t - 1]![r]! - 1e-12);
      expect(trace.at(-1)![0]! - trace[1]![0]!).to.be.above(0); // it did move
      // Fixed point: each hidden mean equals its conditional mean given the neighbours' means.
      dbm.layers.forEach((layer, l) => {
        if (l === 0) return;
        const x = be.zeros(data.rows, layer.size);
        const m = be.zeros(data.rows, layer.size);
        dbm.computeInput(l, state.states, x);
        layer.mean(x, m);
        const want = be.readSync(m).data;
        const got = be.readSync(state.means[l]!).data;
        want.forEach((w, i) => expect(got[i]!).to.be.closeTo(w, 1e-8));
      });
      // infer() stops on the tolerance and reports it.
      const report = await meanField.infer(state);
      expect(report.change).to.be.at.most(1e-10);
      expect(report.iterations).to.be.at.least(2).and.below(200);
    });
  }
});

describe('DBM: training, sampling, transform and files', function () {
  const data = repeatRows(barsAndStripes(3), 8); // 14 patterns x 8, float64

  it('greedy pretraining then joint mean-field PCD raise the exact log-likelihood of bars and stripes', async function () {
    const { dbm, rbms } = await pretrainDBM(be, data, { layers: [9, 10, 6], epochs: 60, k: 1, seed: 3, trainer: { learningRate: 0.1, momentum: { type: 'linear', from: 0.5, to: 0.9, end: 5 }, batchSize: 14, seed: 3 }, monitor: { freeEnergy: false, pseudoLikelihood: false } });
    expect(rbms).to.have.length(2);
    const exactLL = async () => {
      const host = hostOf(await dbm.getParams());
      return mean(dbmLogLikelihoodRows(host, data, dbmLogZ(host)));
    };
    const composed = await exactLL();
    const uniform = -9 * Math.log(2);
    expect(composed).to.be.above(uniform + 0.2); // -5.83 vs -6.24: the composed model already learned something
    const trainer = new Trainer(dbm, {
      estimator: new MeanFieldPCD(dbm, { k: 5, chains: 50, maxIterations: 20, tolerance: 1e-6 }),
      learningRate: 0.01,
      momentum: 0.5,
      batchSize: 14,
      weightDecay: 0,
      seed: 3,
    });
    const reports = await trainer.fit(data, { epochs: 30, monitor: { freeEnergy: false, pseudoLikelihood: false } });
    const trained = await exactLL();
    expect(trained).to.be.above(composed + 1.5); // -5.8 -> -3.1 nats; the best possible is log(1/14) = -2.64
    expect(reports).to.have.length(30);
    const estimator = trainer.estimator as MeanFieldPCD;
    expect(estimator.lastInference!.iterations).to.be.within(1, 20);
    const bound = await variationalLowerBoundRows(dbm, data, { logZ: await exactLogPartition(dbm) });
    expect(mean(Array.from(bound))).to.be.below(trained + 1e-9).and.above(trained - 2);
    trainer.dispose();
  });

  it('max-norm caps every unit\'s incoming weights of both connections; a sparsity target per layer moves each layer\'s activation', async function () {
    const train = async (regularizers: Regularizer[]) => {
      const dbm = DBM.create(be, { layers: [9, 7, 5], seed: 4, weightStd: 0.5 });
      const trainer = new Trainer(dbm, { estimator: new MeanFieldPCD(dbm, { k: 2, chains: 14 }), learningRate: 0.1, momentum: 0.5, batchSize: 14, weightDecay: 0, seed: 1, regularizers });
      await trainer.fit(data, { epochs: 15, monitor: { freeEnergy: false, pseudoLikelihood: false } });
      trainer.dispose();
      return dbm;
    };
    const capped = await train([new MaxNorm(0.4)]);
    for (const name of ['visible-hidden1.weights', 'hidden1-hidden2.weights']) {
      const w = (await capped.getParams())[name]!;
      for (let j = 0; j < w.cols; j++) {
        let norm = 0;
        for (let i = 0; i < w.rows; i++) norm += w.get(i, j) ** 2;
        expect(Math.sqrt(norm), `${name} column ${j}`).to.be.at.most(0.4 + 1e-9);
      }
    }
    const activation = async (dbm: DBM, layer: string) => mean((await dbm.transform(data, { layer })).data);
    const free = await train([]);
    const sparse = await train([new SparsityTarget({ layer: 'hidden1', target: 0.1, cost: 1 }), new SparsityTarget({ layer: 'hidden2', target: 0.9, cost: 1 })]);
    // Measured: hidden1 0.42 -> 0.12 (target 0.1), hidden2 0.55 -> 0.90 (target 0.9).
    expect(await activation(sparse, 'hidden1')).to.be.below((await activation(free, 'hidden1')) - 0.1).and.closeTo(0.1, 0.05);
    expect(await activation(sparse, 'hidden2')).to.be.above((await activation(free, 'hidden2')) + 0.1).and.closeTo(0.9, 0.05);
  });

  it('transform gives any layer\'s mean-field activations; reconstruct and sample give visible means', async function () {
    const dbm = DBM.create(be, { layers: [9, 5, 4], seed: 2, weightStd: 0.5 });
    const top = await dbm.transform(data);
    expect([top.rows, top.cols]).to.deep.equal([data.rows, 4]);
    const h1 = await dbm.transform(data, { layer: 'hidden1' });
    expect([h1.rows, h1.cols]).to.deep.equal([data.rows, 5]);
    const first = Array.from((await dbm.transform(data, { layer: 1 })).data);
    expect(first).to.deep.equal(Array.from(h1.data));
    for (const x of [...top.data, ...h1.data]) expect(x).to.be.within(0, 1);
    const recon = await dbm.reconstruct(data);
    expect([recon.rows, recon.cols]).to.deep.equal([data.rows, 9]);
    const samples = await dbm.sample(3, { steps: 20, seed: 4 });
    expect([samples.rows, samples.cols]).to.deep.equal([3, 9]);
    expect(Array.from((await dbm.sample(3, { steps: 20, seed: 4 })).data)).to.deep.equal(Array.from(samples.data));
    const binary = await dbm.sample(2, { steps: 5, seed: 1, binary: true });
    for (const x of binary.data) expect([0, 1]).to.include(x);
    expect(await rejection(dbm.transform(data, { layer: 7 }))).to.match(/layer index must be an integer in \[0, 2\], got 7/);
    expect(await rejection(dbm.transform(data, { layer: 'hidden9' }))).to.match(/no layer "hidden9"/);
    expect(await rejection(dbm.transform(Matrix.zeros(2, 8)))).to.match(/8 columns but the layer has 9 units/);
  });

  it('mean-field PCD chains can start from noise; bad chain options are refused', async function () {
    const dbm = DBM.create(be, { layers: [9, 4, 3], seed: 5, weightStd: 0.1 });
    const estimator = new MeanFieldPCD(dbm, { k: 1, chains: 9, init: 'noise', maxIterations: 5, tolerance: 0 });
    expect(await estimator.particles()).to.equal(undefined);
    const trainer = new Trainer(dbm, { estimator, batchSize: 14, seed: 2 });
    await trainer.fit(data, { epochs: 1, monitor: { freeEnergy: false, pseudoLikelihood: false } });
    const particles = (await estimator.particles())!;
    expect([particles.rows, particles.cols]).to.deep.equal([9, 9]);
    expect(estimator.lastInference).to.deep.equal({ iterations: 5, change: NaN });
    expect(estimator.spec()).to.deep.equal({ type: 'mean-field-pcd', k: 1, chains: 9, init: 'noise', maxIterations: 5, tolerance: 0 });
    expect(() => new MeanFieldPCD(dbm, { init: 'zeros' as 'noise' })).to.throw(InvalidValueError, /chain init must be "data" or "noise"/);
    expect(() => new MeanFieldPCD(dbm, { chains: 0 })).to.throw(InvalidValueError, /chains \(persistent chains\) must be an integer/);
    expect(() => new MeanFieldPCD(dbm, { maxIterations: 0 })).to.throw(InvalidValueError, /mean-field maxIterations/);
    const relu = DBM.create(be, { layers: [4, { type: 'relu', size: 3 }, 2] });
    expect(() => new MeanField(relu)).to.throw(InvalidValueError, /exact conditional family; layer "hidden1" \(relu\)/);
    trainer.dispose();
  });

  it('saves and loads a DBM with its trainer; the resumed run equals the uninterrupted one', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'dbm-'));
    const make = () => {
      const dbm = DBM.create(be, { layers: [9, 4, 3], seed: 5, weightStd: 0.1 });
      return { dbm, trainer: new Trainer(dbm, { estimator: { type: 'mean-field-pcd', k: 2, chains: 7 }, batchSize: 14, seed: 9, learningRate: 0.05 }) };
    };
    const a = make();
    await a.trainer.fit(data, { epochs: 2, monitor: { freeEnergy: false, pseudoLikelihood: false } });
    await saveModel(join(dir, 'dbm.json'), a.dbm, a.trainer);
    await a.trainer.fit(data, { epochs: 1, monitor: { freeEnergy: false, pseudoLikelihood: false } });
    const loaded = loadModel(join(dir, 'dbm.json'), be);
    expect(loaded.model).to.be.instanceOf(DBM);
    expect(loaded.model.kind).to.equal('dbm');
    await loaded.trainer!.fit(data, { epochs: 1, monitor: { freeEnergy: false, pseudoLikelihood: false } });
    const want = await a.dbm.getParams();
    const got = await loaded.model.getParams();
    for (const name of Object.keys(want)) expect(Array.from(got[name]!.data), name).to.deep.equal(Array.from(want[name]!.data));
  });

  it('runs on the float64 reference backend and agrees with the CPU backend', async function () {
    const ref = new ReferenceBackend();
    const host = randomHostDBM(6, 4, 3, 9, 0.7);
    const a = DBM.create(ref, { layers: [6, 4, 3] });
    a.setParams(dbmParams(host));
    const b = dbmFrom(host);
    const x = randomBinary(5, 6, 2);
    const ta = await a.transform(x, { maxIterations: 30, tolerance: 0 });
    const tb = await b.transform(x, { maxIterations: 30, tolerance: 0 });
    Array.from(ta.data).forEach((v, i) => expect(v).to.be.closeTo(tb.data[i]!, 1e-12));
  });
});

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
}

function hostOf(p: Record<string, Matrix>): HostDBM {
  return {
    W1: p['visible-hidden1.weights']!.toArray(),
    W2: p['hidden1-hidden2.weights']!.toArray(),
    b: Array.from(p['visible.bias']!.data),
    c1: Array.from(p['hidden1.bias']!.data),
    c2: Array.from(p['hidden2.bias']!.data),
  };
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}
