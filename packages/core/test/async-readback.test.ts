import { expect } from 'chai';
import { InvalidValueError, Matrix, type Backend, type Tensor } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import {
  Adam,
  BoltzmannMachine,
  DBM,
  FeedForwardNet,
  MeanField,
  RBM,
  WakeDream,
  WakeDreamTrainer,
  annealedImportanceSampling,
  exactBoltzmannLogPartition,
  exactLogPartition,
  graphQuadraticEnergy,
  variationalLowerBoundRows,
  type EnergyModel,
} from '@boltzmann/core';
import { randomBM } from './general-bm-reference.js';
import { randomBinary, randomHostRBM, toParams } from './helpers.js';

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
    it(`WakeDreamTrainer (${expectations} expectations) trains to the very parameters it reaches on the plain backend`, async function () {
      const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
      const data = randomBinary(12, 4, 5).toFloat64();
      const options = { expectations, chains: 10, sweeps: 2, clampedSweeps: 4, batchSize: 5, learningRate: 0.3, seed: 3 };
      const onAsync = bmOn(a.backend, 17);
      const onPlain = bmOn(plain, 17);
      const before = await paramsOf(onPlain);
      await new WakeDreamTrainer(onAsync, options).fit(data, { epochs: 3 });
      await new WakeDreamTrainer(onPlain, options).fit(data, { epochs: 3 });
      const got = await paramsOf(onAsync);
      const want = await paramsOf(onPlain);
      for (const name of Object.keys(want)) expect(Array.from(got[name]!), name).to.deep.equal(Array.from(want[name]!));
      expect(got['visible-hidden.weights']).to.not.deep.equal(before['visible-hidden.weights']); // it did train
      expect(a.refused).to.equal(0);
    });
  }

  it('WakeDream: computeGradientsAsync equals the synchronous step; the synchronous step refuses by name', async function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const data = randomBinary(6, 4, 9).toFloat64();
    const onAsync = bmOn(a.backend, 5);
    const onPlain = bmOn(plain, 5);
    const ga = onAsync.createGradients();
    const gp = onPlain.createGradients();
    await new WakeDream(onAsync).computeGradientsAsync(a.backend.upload(data), ga, { seed: 1, stream: 0, counter: 0 });
    new WakeDream(onPlain).computeGradients(plain.upload(data), gp, { seed: 1, stream: 0, counter: 0 });
    for (let k = 0; k < gp.tensors.length; k++) {
      expect(Array.from((await a.backend.read(ga.tensors[k]!)).data), `gradient ${k}`).to.deep.equal(Array.from(plain.readSync(gp.tensors[k]!).data));
    }
    expect(a.refused).to.equal(0);
    expect(() => new WakeDream(onAsync).computeGradients(a.backend.upload(data), ga, { seed: 1, stream: 0, counter: 0 })).to.throw(
      InvalidValueError,
      /WakeDream\.computeGradients .*needs backend\.readSync, which backend "cpu[^"]*" refused \(readSync: not available.*computeGradientsAsync/,
    );
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
    // and inferAsync stops where infer does, reporting the same
    const mfA = new MeanField(onAsync, options);
    const mfP = new MeanField(onPlain, options);
    const sA = mfA.createState(7);
    const sP = mfP.createState(7);
    const reportA = await mfA.inferAsync(sA, a.backend.upload(data));
    const reportP = mfP.infer(sP, plain.upload(data));
    expect(reportA).to.deep.equal(reportP);
    expect(reportP.iterations).to.be.within(2, 49); // converged by the tolerance, not the cap
    expect(Array.from((await a.backend.read(sA.means[2]!)).data)).to.deep.equal(Array.from(plain.readSync(sP.means[2]!).data));
    expect(a.refused).to.equal(0);
    // synchronous infer: fine with tolerance 0 (nothing read back), refused by name with a tolerance
    new MeanField(onAsync, { tolerance: 0, maxIterations: 3 }).infer(sA);
    expect(() => mfA.infer(sA)).to.throw(InvalidValueError, /MeanField\.updateBlock .*inferAsync.*tolerance 0/);
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

  it('synchronous-by-contract hooks refuse by name: Adam.resync, RBM initFrom', function () {
    const a = asyncOnly(new CpuBackend({ precision: 'float64' }));
    const rbm = RBM.create(a.backend, { visible: 3, hidden: 2 });
    expect(() => new Adam(a.backend, rbm.parameters).resync()).to.throw(InvalidValueError, /Adam\.resync .*needs backend\.readSync.*loadState/);
    expect(() => RBM.create(plain, { visible: 3, hidden: 2, initFrom: rbm })).to.throw(InvalidValueError, /RBM initFrom .*setParams\(await source\.getParams\(\)\)/);
  });
});
