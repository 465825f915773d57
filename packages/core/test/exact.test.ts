import { expect } from 'chai';
import { InvalidValueError, Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { BernoulliLayer, BoltzmannMachine, DenseConnection, EnergyModel, RBM, exactLogLikelihood, exactLogLikelihoodRows, exactLogPartition, exactLogZObstacle } from '@boltzmann/core';
import { binaryStates, bruteFreeEnergy, bruteLogZ, energy, matrix64, randomBinary, randomHostRBM, toParams } from './helpers.js';

const be = new ReferenceBackend();

function rbmWith(nv: number, nh: number, seed: number, scale = 1): { rbm: RBM; host: ReturnType<typeof randomHostRBM> } {
  const host = randomHostRBM(nv, nh, seed, scale);
  const rbm = RBM.create(be, { visible: nv, hidden: nh });
  rbm.setParams(toParams(host));
  return { rbm, host };
}

describe('free energy, energy and exact log Z against brute-force enumeration (float64)', function () {
  for (const [nv, nh] of [[5, 4], [1, 1], [3, 1], [1, 3], [3, 3], [7, 2]] as const) {
    it(`free energy F(v) = -log sum_h exp(-E(v,h)) on every v of a ${nv}x${nh} RBM`, async function () {
      const { rbm, host } = rbmWith(nv, nh, nv * 10 + nh, 1.5);
      const vs = binaryStates(nv);
      const f = await rbm.freeEnergyOf(Matrix.fromRows(vs).toFloat64());
      vs.forEach((v, r) => expect(f[r]).to.be.closeTo(bruteFreeEnergy(host, v), 1e-12));
    });

    it(`exact log Z of a ${nv}x${nh} RBM equals the sum over all (v, h)`, async function () {
      const { rbm, host } = rbmWith(nv, nh, nv * 7 + nh, 1.5);
      const want = bruteLogZ(host);
      expect(await exactLogPartition(rbm)).to.be.closeTo(want, 1e-10);
      // tiny chunks exercise the general route's streaming log-sum-exp across chunk boundaries
      expect(await exactLogPartition(rbm, { chunkRows: 3, pairs: false })).to.be.closeTo(want, 1e-10);
    });
  }

  it('free energy of fractional data (probabilities) matches the formula', async function () {
    const { rbm, host } = rbmWith(3, 2, 5);
    const v = [0.25, 1, 0.5];
    const f = await rbm.freeEnergyOf(matrix64([v]));
    // -b.v - sum_j softplus(c_j + v W_j)
    let want = -host.b.reduce((s, b, i) => s + b * v[i]!, 0);
    for (let j = 0; j < 2; j++) want -= Math.log1p(Math.exp(host.c[j]! + v.reduce((s, x, i) => s + x * host.W[i]![j]!, 0)));
    expect(f[0]).to.be.closeTo(want, 1e-12);
  });

  it('energy of joint states matches E(v, h) = -b.v - c.h - v W h', function () {
    const { rbm, host } = rbmWith(3, 4, 11);
    const vs = binaryStates(3);
    const hs = binaryStates(4);
    const V = Matrix.fromRows(vs.flatMap((v) => hs.map(() => v))).toFloat64();
    const H = Matrix.fromRows(vs.flatMap(() => hs)).toFloat64();
    const out = be.zeros(V.rows, 1);
    rbm.energy([be.upload(V), be.upload(H)], out);
    const got = be.readSync(out).data;
    let r = 0;
    for (const v of vs) for (const h of hs) expect(got[r++]).to.be.closeTo(energy(host, v, h), 1e-12);
  });

  it('enumerates the smaller side: a 12x3 and a 3x12 model give brute-force log Z', async function () {
    for (const [nv, nh] of [[12, 3], [3, 12]] as const) {
      const { rbm, host } = rbmWith(nv, nh, 3, 0.5);
      expect(await exactLogPartition(rbm)).to.be.closeTo(bruteLogZ(host), 1e-9);
    }
  });

  it('the pairwise route equals brute force and the general route, for large weights too (shifted factors; beyond the shift limit it falls back)', async function () {
    const be64 = new CpuBackend({ precision: 'float64' });
    for (const [nv, nh, scale] of [[9, 5, 1], [6, 7, 4], [11, 4, 25], [5, 6, 200]] as const) {
      const host = randomHostRBM(nv, nh, nv + nh + scale, scale);
      const rbm = RBM.create(be64, { visible: nv, hidden: nh });
      rbm.setParams(toParams(host));
      const want = bruteLogZ(host);
      const pairs = await exactLogPartition(rbm);
      expect(pairs, `${nv}x${nh} scale ${scale}`).to.be.closeTo(want, 1e-12 * Math.max(1, Math.abs(want)));
      expect(pairs).to.be.closeTo(await exactLogPartition(rbm, { pairs: false }), 1e-12 * Math.max(1, Math.abs(want)));
    }
  });

  it('exact log-likelihood = -F(v) - log Z, and probabilities sum to one', async function () {
    const { rbm, host } = rbmWith(4, 3, 21);
    const all = Matrix.fromRows(binaryStates(4)).toFloat64();
    const rows = await exactLogLikelihoodRows(rbm, all);
    const total = Array.from(rows).reduce((s, x) => s + Math.exp(x), 0);
    expect(total).to.be.closeTo(1, 1e-12);
    const data = randomBinary(9, 4, 1);
    const lz = bruteLogZ(host);
    let want = 0;
    for (let r = 0; r < data.rows; r++) want += -bruteFreeEnergy(host, data.row(r)) - lz;
    expect(await exactLogLikelihood(rbm, data)).to.be.closeTo(want / data.rows, 1e-10);
  });

  it('a float32 model can enumerate on a float64 backend (exact to float64), or on its own (float32 accuracy)', async function () {
    const cpu = new CpuBackend({ precision: 'float32' });
    const rbm = RBM.create(cpu, { visible: 10, hidden: 7, weightStd: 0.5, seed: 4 });
    const params = await rbm.getParams();
    const host = { W: params['visible-hidden.weights']!.toArray(), b: Array.from(params['visible.bias']!.data), c: Array.from(params['hidden.bias']!.data) };
    const want = bruteLogZ(host);
    expect(await exactLogPartition(rbm, { backend: be })).to.be.closeTo(want, 1e-11);
    expect(await exactLogPartition(rbm)).to.be.closeTo(want, 1e-4);
    const data = randomBinary(5, 10, 3);
    expect(await exactLogLikelihood(rbm, data.toFloat32(), { backend: be })).to.be.closeTo(await exactLogLikelihood(rbm, data.toFloat32()), 1e-4);
  });

  it('refuses to enumerate more than the limit, naming the sizes', async function () {
    const rbm = RBM.create(be, { visible: 30, hidden: 26 });
    let caught: unknown;
    try {
      await exactLogPartition(rbm);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(InvalidValueError);
    expect((caught as Error).message).to.match(/67108864 states of "hidden" \(26 bernoulli units\).*limit is 33554432/);
  });

  it('exactLogZObstacle says beforehand what exactLogPartition would throw, or nothing when it enumerates', async function () {
    const rbm = RBM.create(be, { visible: 30, hidden: 26 });
    expect(exactLogZObstacle(rbm)).to.match(/67108864 states of "hidden" \(26 bernoulli units\).*limit is 33554432/);
    expect(exactLogZObstacle(rbm, 2 ** 26)).to.equal(undefined);
    const small = RBM.create(be, { visible: 3, hidden: 2 });
    expect(exactLogZObstacle(small)).to.equal(undefined);
    expect(exactLogZObstacle(small, 3)).to.equal('exact log Z would enumerate 4 states of "hidden" (2 bernoulli units); the limit is 3 (about 25 binary units): use a smaller model or an estimate such as AIS');
    let caught: unknown;
    try {
      await exactLogPartition(small, { maxStates: 3 });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(InvalidValueError);
    expect((caught as Error).message).to.equal(exactLogZObstacle(small, 3));
  });
});


describe('the model graph beyond an RBM (a 3-layer chain)', function () {
  it('exact log Z of a DBM-shaped chain (enumerating the middle layer) equals brute force over every (v, h1, h2)', async function () {
    const sizes = [3, 2, 3];
    const host = [randomHostRBM(3, 2, 1, 1), randomHostRBM(2, 3, 2, 1)];
    const layers = ['v', 'h1', 'h2'].map((name, i) => new BernoulliLayer(be, { name, size: sizes[i]! }));
    const conns = [
      new DenseConnection(be, 'v-h1', layers[0]!, layers[1]!, { weights: matrix64(host[0]!.W) }),
      new DenseConnection(be, 'h1-h2', layers[1]!, layers[2]!, { weights: matrix64(host[1]!.W) }),
    ];
    const model = new EnergyModel(be, layers, conns);
    const biases = [host[0]!.b, host[0]!.c, host[1]!.c];
    model.setParams({ 'v.bias': matrix64([biases[0]!]), 'h1.bias': matrix64([biases[1]!]), 'h2.bias': matrix64([biases[2]!]) }, { partial: true });
    expect(model.bipartition()).to.deep.equal([[0, 2], [1]]);
    const terms: number[] = [];
    const perV = new Map<string, number[]>();
    for (const v of binaryStates(3)) for (const a of binaryStates(2)) for (const b of binaryStates(3)) {
      let e = 0;
      [v, a, b].forEach((x, l) => x.forEach((xi, i) => (e -= biases[l]![i]! * xi)));
      v.forEach((vi, i) => a.forEach((aj, j) => (e -= vi * host[0]!.W[i]![j]! * aj)));
      a.forEach((ai, i) => b.forEach((bj, j) => (e -= ai * host[1]!.W[i]![j]! * bj)));
      terms.push(-e);
      perV.set(v.join(), [...(perV.get(v.join()) ?? []), -e]);
    }
    const lse = (xs: number[]) => {
      const m = Math.max(...xs);
      return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
    };
    const want = lse(terms);
    expect(await exactLogPartition(model)).to.be.closeTo(want, 1e-12);
    // The exact per-row log-likelihood of a DBM: h2 enumerated beside each row, h1 summed out.
    const rows = [[1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 1, 0]];
    const got = await exactLogLikelihoodRows(model, matrix64(rows));
    rows.forEach((v, r) => expect(got[r]).to.be.closeTo(lse(perV.get(v.join())!) - want, 1e-12));
    expect((await rejectionOf(exactLogLikelihoodRows(model, matrix64(rows), { maxStates: 4 }))).message).to.match(/would enumerate 8 states of "h2" \(3 bernoulli units\) for every row; the limit is 4: use variationalLowerBound/);
  });

  it('a general Boltzmann machine (lateral weights): the refusal names the function that enumerates it', async function () {
    const bm = BoltzmannMachine.create(be, { visible: 3, hidden: 2, seed: 1 });
    expect((await rejectionOf(exactLogPartition(bm as EnergyModel))).message).to.match(/exactBoltzmannLogPartition\(await graphQuadraticEnergy\(model\)\)/);
    expect(exactLogZObstacle(bm as EnergyModel)).to.match(/exactBoltzmannLogLikelihood for data/);
  });
});

async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
