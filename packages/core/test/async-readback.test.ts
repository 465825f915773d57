import { expect } from 'chai';
import { DivergenceError, InvalidValueError, Matrix, type Backend, type Tensor } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import {
  Adam,
  BoltzmannMachine,
  DBM,
  FeedForwardNet,
  MeanField,
  RBM,
  SparsityTarget,
  Trainer,
  WakeDream,
  annealedImportanceSampling,
  exactBoltzmannLogPartition,
  exactLogPartition,
  graphQuadraticEnergy,
  variationalLowerBoundRows,
  type EnergyModel,
  type Regularizer,
  type RegularizerSpec,
  type Schedule,
  type TrainerOptions,
  type WakeDreamOptions,
} from '@boltzmann/core';
import { randomBM } from './general-bm-reference.js';
import { barsAndStripes, randomBinary, randomHostRBM, repeatRows, toParams } from './helpers.js';

// The core paths that training, sampling and metrics take must not need readSync, which
// asynchronous backends (gpu.js webgpu, threaded webasm) cannot offer. Each test runs a small
// model on a float64 CpuBackend wrapped to behave like one (readSync throws; read resolves a
// timer tick later, copied at call time as a queued readback is) and expects exactly what the
// same code gives on the plain backend. APIs that are synchronous by contract must refuse with
// an InvalidValueError that names the asynchronous alternative.

/** `inner` with webgpu's readback contract; `refused` counts readSync calls (each one threw). */
interface AsyncOnly {
  backend: Backend;
  refused: number;
}

function asyncOnly(inner: Backend): AsyncOnly {
  const out: AsyncOnly = { backend: inner, refused: 0 };
  const readSync = (): Matrix => {
    out.refused += 1;
    throw new InvalidValueError(`readSync: not available on "${inner.name}" (asynchronous test backend); use await backend.read(tensor)`);
  };
  const read = async (t: Tensor): Promise<Matrix> => {
    const m = inner.readSync(t);
    await new Promise((resolve) => setTimeout(resolve, 0));
    return m;
  };
  out.backend = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'readSync') return readSync;
      if (prop === 'read') return read;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return out;
}

const plain = new CpuBackend({ precision: 'float64' });

/** The same model with the same parameters on another backend. */
function bmOn(backend: Backend, seed: number): BoltzmannMachine {
  const host = randomBM(6, seed, 0.8);
  return BoltzmannMachine.create(backend, { visible: 4, hidden: 2, weights: host.M, bias: host.b });
}

async function paramsOf(model: EnergyModel): Promise<Record<string, Float64Array>> {
  const out: Record<string, Float64Array> = {};
  for (const [name, m] of Object.entries(await model.getParams())) out[name] = Float64Array.from(m.data);
  return out;
}

describe('core on a backend without synchronous readback', function () {
  it('the async-only wrapper really refuses readSync and reads asynchronously', async function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const t = a.backend.upload(Matrix.fromRows([[1, 2, 3]]).toFloat64());
    expect(() => a.backend.readSync(t)).to.throw(InvalidValueError, /await backend\.read/);
    expect(a.refused).to.equal(1);
    const pending = a.backend.read(t);
    a.backend.fill(t, 0); // the read was copied at call time
    expect(Array.from((await pending).data)).to.deep.equal([1, 2, 3]);
  });

  it('graphQuadraticEnergy and BoltzmannMachine sampling read with await: same M, b, log Z and samples as the plain backend', async function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const onAsync = bmOn(a.backend, 31);
    const onPlain = bmOn(plain, 31);
    const qa = await graphQuadraticEnergy(onAsync);
    const qp = await graphQuadraticEnergy(onPlain);
    expect(Array.from(qa.weights)).to.deep.equal(Array.from(qp.weights));
    expect(Array.from(qa.bias)).to.deep.equal(Array.from(qp.bias));
    // against the float64 host parameters the machine was built from
    const host = randomBM(6, 31, 0.8);
    for (let i = 0; i < 6; i++) {
      expect(qa.bias[i]).to.equal(host.b[i]);
      for (let j = 0; j < 6; j++) expect(qa.weights[i * 6 + j], `M[${i}][${j}]`).to.equal(host.M[i]![j]);
    }
    expect(exactBoltzmannLogPartition(await onAsync.toQuadraticEnergy())).to.equal(exactBoltzmannLogPartition(qp));
    for (const dynamics of ['glauber', 'parallel'] as const) {
      const sa = await onAsync.sample(20, { sweeps: 5, seed: 4, dynamics, allUnits: true });
      const sp = await onPlain.sample(20, { sweeps: 5, seed: 4, dynamics, allUnits: true });
      expect(Array.from(sa.data), dynamics).to.deep.equal(Array.from(sp.data));
    }
    expect(a.refused).to.equal(0);
  });

  for (const expectations of ['exact', 'gibbs'] as const) {
    it(`the Trainer with wake/dream (${expectations} expectations) trains to the very parameters it reaches on the plain backend`, async function () {
      const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
      const data = randomBinary(12, 4, 5).toFloat64();
      const options = { expectations, chains: 10, sweeps: 2, clampedSweeps: 4, batchSize: 5, learningRate: 0.3, seed: 3 };
      const onAsync = bmOn(a.backend, 17);
      const onPlain = bmOn(plain, 17);
      const before = await paramsOf(onPlain);
      await wakeDreamTrainer(onAsync, options).fit(data, { epochs: 3 });
      await wakeDreamTrainer(onPlain, options).fit(data, { epochs: 3 });
      const got = await paramsOf(onAsync);
      const want = await paramsOf(onPlain);
      for (const name of Object.keys(want)) expect(Array.from(got[name]!), name).to.deep.equal(Array.from(want[name]!));
      expect(got['visible-hidden.weights']).to.not.deep.equal(before['visible-hidden.weights']); // it did train
      expect(a.refused).to.equal(0);
    });
  }

  it('WakeDream.computeGradients reads with await: the same gradients as on the plain backend', async function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const data = randomBinary(6, 4, 9).toFloat64();
    const onAsync = bmOn(a.backend, 5);
    const onPlain = bmOn(plain, 5);
    const ga = onAsync.createGradients();
    const gp = onPlain.createGradients();
    await new WakeDream(onAsync).computeGradients(a.backend.upload(data), ga, { seed: 1, stream: 0, counter: 0 });
    await new WakeDream(onPlain).computeGradients(plain.upload(data), gp, { seed: 1, stream: 0, counter: 0 });
    for (let k = 0; k < gp.tensors.length; k++) {
      expect(Array.from((await a.backend.read(ga.tensors[k]!)).data), `gradient ${k}`).to.deep.equal(Array.from(plain.readSync(gp.tensors[k]!).data));
    }
    expect(plain.readSync(gp.tensors[0]!).data.some((x) => x !== 0)).to.equal(true);
    expect(a.refused).to.equal(0);
  });

  it('DBM mean-field (transform, reconstruct, variational bound) converges with awaited reads: same as the plain backend', async function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const make = (backend: Backend): DBM => {
      const dbm = DBM.create(backend, { layers: [5, 4, 3], seed: 2, weightStd: 0.8 });
      return dbm;
    };
    const onAsync = make(a.backend);
    const onPlain = make(plain);
    onAsync.setParams(await onPlain.getParams());
    const data = randomBinary(7, 5, 11).toFloat64();
    const options = { tolerance: 1e-9, maxIterations: 50 };
    expect(Array.from((await onAsync.transform(data, options)).data)).to.deep.equal(Array.from((await onPlain.transform(data, options)).data));
    expect(Array.from((await onAsync.reconstruct(data, options)).data)).to.deep.equal(Array.from((await onPlain.reconstruct(data, options)).data));
    const logZ = await exactLogPartition(onPlain);
    const boundA = await variationalLowerBoundRows(onAsync, data, { ...options, logZ });
    const boundP = await variationalLowerBoundRows(onPlain, data, { ...options, logZ });
    expect(Array.from(boundA)).to.deep.equal(Array.from(boundP));
    // and infer stops where it does on the plain backend, reporting the same
    const mfA = new MeanField(onAsync, options);
    const mfP = new MeanField(onPlain, options);
    const sA = mfA.createState(7);
    const sP = mfP.createState(7);
    const reportA = await mfA.infer(sA, a.backend.upload(data));
    const reportP = await mfP.infer(sP, plain.upload(data));
    expect(reportA).to.deep.equal(reportP);
    expect(reportP.iterations).to.be.within(2, 49); // converged by the tolerance, not the cap
    expect(Array.from((await a.backend.read(sA.means[2]!)).data)).to.deep.equal(Array.from(plain.readSync(sP.means[2]!).data));
    expect(a.refused).to.equal(0);
  });

  it('AIS reads its log weights and base log Z with await: the same estimate as on the plain backend', async function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const host = randomHostRBM(5, 3, 21, 1);
    const onAsync = RBM.create(a.backend, { visible: 5, hidden: 3 });
    const onPlain = RBM.create(plain, { visible: 5, hidden: 3 });
    onAsync.setParams(toParams(host));
    onPlain.setParams(toParams(host));
    const options = { betas: 50, runs: 20, seed: 6, flushEvery: 7 };
    const ra = await annealedImportanceSampling(onAsync, options);
    const rp = await annealedImportanceSampling(onPlain, options);
    expect(ra.logZ).to.equal(rp.logZ);
    expect(ra.logZ).to.be.closeTo(await exactLogPartition(onPlain), 0.5); // a short schedule, still near the float64 value
    expect(a.refused).to.equal(0);
  });

  it('FeedForwardNet.fit reads its epoch loss with await: same losses as on the plain backend', async function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const data = randomBinary(30, 4, 13).toFloat64();
    const labels = Array.from({ length: 30 }, (_, r) => (data.get(r, 0) + data.get(r, 1)) % 3);
    const fit = async (backend: Backend) => FeedForwardNet.create(backend, { sizes: [4, 5, 3], seed: 2 }).fit(data, labels, { epochs: 3, learningRate: 0.2, seed: 1 });
    const la = (await fit(a.backend)).map((r) => r.loss);
    const lp = (await fit(plain)).map((r) => r.loss);
    expect(la).to.deep.equal(lp);
    expect(a.refused).to.equal(0);
  });

  it('Adam.resync and SparsityTarget.resync read their restored state with await', async function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const rbm = RBM.create(a.backend, { visible: 3, hidden: 2 });
    const adam = new Adam(a.backend, rbm.parameters);
    a.backend.fill(adam.state()['step']!, 7); // as a divergence guard puts back the last good state
    await adam.resync();
    expect(adam.t).to.equal(7);
    const sparsity = new SparsityTarget();
    sparsity.attach(rbm);
    a.backend.fill(sparsity.state()['started']!, 1);
    await sparsity.resync();
    expect(sparsity.initialized).to.equal(true);
    expect(a.refused).to.equal(0);
  });

  it('synchronous-by-contract hooks refuse by name: RBM initFrom', function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const rbm = RBM.create(a.backend, { visible: 3, hidden: 2 });
    expect(() => RBM.create(plain, { visible: 3, hidden: 2, initFrom: rbm })).to.throw(InvalidValueError, /RBM initFrom .*setParams\(await source\.getParams\(\)\)/);
  });
});

/** Every parameter and every trainer state tensor (optimizer, regularizers), read with await. */
async function trainedState(model: EnergyModel, trainer: Trainer): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, m] of Object.entries(await model.getParams())) out[name] = Array.from(m.data);
  for (const [name, t] of Object.entries(trainer.stateTensors())) out[`state ${name}`] = Array.from((await model.backend.read(t)).data);
  return out;
}

function expectSameState(got: Record<string, number[]>, want: Record<string, number[]>): void {
  expect(Object.keys(got)).to.deep.equal(Object.keys(want));
  for (const name of Object.keys(want)) expect(got[name], name).to.deep.equal(want[name]);
}

describe('the core Trainer on a backend without synchronous readback', function () {
  const noMonitor = { freeEnergy: false, pseudoLikelihood: false };

  it('RBM, CD-1 + Adam + a sparsity target: a divergence rolls back, training goes on, every bit as on the plain backend', async function () {
    const data = repeatRows(barsAndStripes(3), 2).toFloat64();
    const run = async (backend: Backend) => {
      const rbm = RBM.create(backend, { visible: 9, hidden: 4, seed: 1 });
      let poisoned = true; // epoch 3 of the first fit diverges; the second fit trains sanely through it
      const learningRate: Schedule = { value: ({ epoch }) => (poisoned && epoch === 2 ? 1e308 : 0.05), spec: () => ({ type: 'test-jump' }) };
      const trainer = new Trainer(rbm, { optimizer: { type: 'adam' }, regularizers: [new SparsityTarget({ target: 0.1, cost: 0.5 })], learningRate, batchSize: 7, seed: 2 });
      let caught: unknown;
      await trainer.fit(data, { epochs: 4, monitor: noMonitor }).catch((e: unknown) => (caught = e));
      expect(caught, backend.name).to.be.instanceOf(DivergenceError);
      expect(trainer.epoch).to.equal(2);
      const stepsAtRollback = (trainer.optimizer as Adam).t;
      poisoned = false;
      await trainer.fit(data, { epochs: 2, monitor: noMonitor });
      return { state: await trainedState(rbm, trainer), stepsAtRollback, steps: (trainer.optimizer as Adam).t, trainer };
    };
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const got = await run(a.backend);
    const want = await run(plain);
    expect(got.stepsAtRollback).to.equal(want.stepsAtRollback);
    expect(want.stepsAtRollback).to.equal(2 * 4); // 28 rows / 7 per batch = 4 steps an epoch, two good epochs
    expect(got.steps).to.equal(want.steps);
    expect(got.steps).to.equal(4 * 4);
    expectSameState(got.state, want.state);
    expect(a.refused).to.equal(0);
  });

  it('DBM, mean-field PCD with a tolerance: the awaited inference trains to the very parameters of the plain backend', async function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const data = randomBinary(20, 5, 3).toFloat64();
    const options: TrainerOptions = { estimator: { type: 'mean-field-pcd', k: 2, chains: 6, tolerance: 1e-6, maxIterations: 30 }, batchSize: 7, learningRate: 0.1, seed: 4 };
    const onPlain = DBM.create(plain, { layers: [5, 4, 3], seed: 2, weightStd: 0.5 });
    const onAsync = DBM.create(a.backend, { layers: [5, 4, 3], seed: 2, weightStd: 0.5 });
    onAsync.setParams(await onPlain.getParams());
    const before = await paramsOf(onPlain);
    const ta = new Trainer(onAsync, options);
    const tp = new Trainer(onPlain, options);
    const ra = await ta.fit(data, { epochs: 3 });
    const rp = await tp.fit(data, { epochs: 3 });
    expectSameState(await trainedState(onAsync, ta), await trainedState(onPlain, tp));
    expect(ra.map((r) => [r.reconstructionError, r.meanHiddenActivation, r.weightNorm])).to.deep.equal(rp.map((r) => [r.reconstructionError, r.meanHiddenActivation, r.weightNorm]));
    expect((await paramsOf(onPlain))['visible-hidden1.weights']).to.not.deep.equal(before['visible-hidden1.weights']); // it did train
    const inference = (ta.estimator as { lastInference?: { iterations: number } }).lastInference;
    expect(inference?.iterations).to.be.within(2, 29); // stopped by the tolerance: changes were read back
    expect(a.refused).to.equal(0);
  });

  for (const expectations of ['exact', 'gibbs'] as const) {
    it(`BoltzmannMachine, wake/dream (${expectations}) through the core Trainer: the same parameters as on the plain backend`, async function () {
      const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
      const data = randomBinary(12, 4, 5).toFloat64();
      const options: TrainerOptions = { estimator: { type: 'wake-dream', expectations, chains: 10, sweeps: 2, clampedSweeps: 4 }, optimizer: { type: 'adam' }, batchSize: 5, learningRate: 0.1, seed: 3 };
      const onAsync = bmOn(a.backend, 17);
      const onPlain = bmOn(plain, 17);
      const before = await paramsOf(onPlain);
      const ta = new Trainer(onAsync, options);
      const tp = new Trainer(onPlain, options);
      await ta.fit(data, { epochs: 3 });
      await tp.fit(data, { epochs: 3 });
      expectSameState(await trainedState(onAsync, ta), await trainedState(onPlain, tp));
      expect((await paramsOf(onPlain))['visible-hidden.weights']).to.not.deep.equal(before['visible-hidden.weights']); // it did train
      expect(a.refused).to.equal(0);
    });
  }

  it('a divergence with Adam + a sparsity target throws the DivergenceError (not a readback error) and restores the parameters and Adam\'s step count', async function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const data = repeatRows(barsAndStripes(3), 2).toFloat64();
    const rbm = RBM.create(a.backend, { visible: 9, hidden: 4, seed: 1 });
    const learningRate: Schedule = { value: ({ epoch }) => (epoch < 2 ? 0.05 : 1e308), spec: () => ({ type: 'test-jump' }) };
    const sparsity = new SparsityTarget({ target: 0.1 });
    const trainer = new Trainer(rbm, { optimizer: { type: 'adam' }, regularizers: [sparsity], learningRate, batchSize: 7, seed: 2 });
    let good: { state: Record<string, number[]>; steps: number } | undefined;
    let caught: unknown;
    try {
      await trainer.fit(data, { epochs: 6, monitor: noMonitor, onEpoch: async (r) => void (r.epoch === 2 ? (good = { state: await trainedState(rbm, trainer), steps: (trainer.optimizer as Adam).t }) : undefined) });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(DivergenceError);
    expect((caught as Error).message).to.match(/^training diverged in epoch 3: ".*" holds NaN or Inf \(learning rate 1e\+308/);
    expect(trainer.epoch).to.equal(2);
    expect(trainer.step).to.equal(8); // 28 rows / 7 per batch = 4 steps an epoch
    expect(good!.steps).to.equal(8);
    expect((trainer.optimizer as Adam).t).to.equal(good!.steps); // the host count follows the restored "step" tensor
    expectSameState(await trainedState(rbm, trainer), good!.state);
    expect(sparsity.initialized).to.equal(true);
    // checkFinite after diverging partial steps: the same, through the other rollback path
    const poison = a.backend.upload(Matrix.fromRows([[1, 0, 1, 0, 1, 0, 1, 0, 1]]).toFloat64());
    await trainer.trainStep(poison); // learning rate 1e308 (epoch 2)
    caught = undefined;
    await trainer.checkFinite().catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(DivergenceError);
    expect((trainer.optimizer as Adam).t).to.equal(good!.steps);
    expectSameState(await trainedState(rbm, trainer), good!.state);
    expect(a.refused).to.equal(0);
  });

  it('a resync that fails after a divergence rollback comes back inside the DivergenceError, never instead of it', async function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const rbm = RBM.create(a.backend, { visible: 9, hidden: 4, seed: 1 });
    class BrokenResync implements Regularizer {
      readonly type = 'broken-resync';
      async resync(): Promise<void> {
        throw new InvalidValueError('resync: the state is unreadable');
      }
      spec(): RegularizerSpec {
        return { type: this.type };
      }
    }
    const broken = new BrokenResync();
    const learningRate: Schedule = { value: () => 1e308, spec: () => ({ type: 'test-absurd' }) };
    const trainer = new Trainer(rbm, { regularizers: [broken], learningRate, batchSize: 7, seed: 2 });
    let caught: unknown;
    await trainer.fit(repeatRows(barsAndStripes(3), 2).toFloat64(), { epochs: 2, monitor: noMonitor }).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(DivergenceError);
    expect((caught as Error).message).to.match(/^training diverged in epoch 1: .* the last good parameters were restored; re-reading the host copies .* failed \(resync: the state is unreadable\)/);
    expect((caught as { cause?: unknown }).cause).to.be.instanceOf(InvalidValueError);
    expect(trainer.epoch).to.equal(0);
  });

  it('a step is a promise; another step before it resolves is refused', async function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const bm = bmOn(a.backend, 17);
    const trainer = new Trainer(bm, { estimator: { type: 'wake-dream' }, batchSize: 5, seed: 3 });
    const batch = randomBinary(5, 4, 5).toFloat64();
    const pending = trainer.partialFit(batch);
    expect(pending).to.be.instanceOf(Promise);
    expect(trainer.step).to.equal(0); // finishes when it resolves
    expect(() => trainer.partialFit(batch)).to.throw(InvalidValueError, /partialFit was called while a training step is still running: await/);
    expect(() => trainer.trainStep(a.backend.upload(batch))).to.throw(InvalidValueError, /trainStep was called while a training step is still running/);
    await pending;
    expect(trainer.step).to.equal(1);
    await trainer.partialFit(batch);
    expect(trainer.step).to.equal(2);
    // CD's step too: one contract for every estimator
    const rbm = new Trainer(RBM.create(a.backend, { visible: 4, hidden: 2, seed: 1 }), { batchSize: 5 });
    const step = rbm.partialFit(batch);
    expect(step).to.be.instanceOf(Promise);
    await step;
    expect(rbm.step).to.equal(1);
  });
});

/**
 * A core Trainer driving the wake/dream estimator with the settings these tests were tuned on:
 * learning rate 0.1, momentum 0.5, no weight decay, the whole data set as one batch, the
 * visible bias left as created.
 */
function wakeDreamTrainer(model: EnergyModel, options: WakeDreamOptions & { learningRate?: number | Schedule; momentum?: number; batchSize?: number; seed?: number } = {}): Trainer {
  const { learningRate = 0.1, momentum = 0.5, batchSize = 2 ** 30, seed = 0, ...estimator } = options;
  return new Trainer(model, { estimator: new WakeDream(model, estimator), learningRate, momentum, batchSize, seed, weightDecay: 0, initVisibleBiasFromData: false });
}
