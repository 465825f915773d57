import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidValueError, Matrix, ReferenceBackend, ShapeError } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import {
  BernoulliLayer,
  BoltzmannMachine,
  EnergyModel,
  LateralConnection,
  QuadraticEnergy,
  RBM,
  exactBoltzmannDistribution,
  exactBoltzmannLogLikelihood,
  exactBoltzmannLogPartition,
  exactConditionalStatistics,
  exactLogPartition,
  graphQuadraticEnergy,
  loadModel,
  saveModel,
} from '@boltzmann/core';
import { bruteDistribution, bruteLogLikelihood, energyOf, randomBM, stateOf } from './general-bm-reference.js';
import { randomHostRBM, toParams } from './helpers.js';

const be = new ReferenceBackend();

function machine(nv: number, nh: number, seed: number, scale = 1): { bm: BoltzmannMachine; host: ReturnType<typeof randomBM> } {
  const host = randomBM(nv + nh, seed, scale);
  const bm = BoltzmannMachine.create(be, { visible: nv, hidden: nh, weights: host.M, bias: host.b });
  return { bm, host };
}

describe('general Boltzmann machine: model graph with lateral weights', function () {
  it('refuses a weight matrix that is not symmetric or has a non-zero diagonal, naming the entry', function () {
    expect(() => new QuadraticEnergy([[0, 1], [2, 0]], [0, 0])).to.throw(InvalidValueError, /not symmetric: \(1, 0\) is 2 but \(0, 1\) is 1/);
    expect(() => new QuadraticEnergy([[0, 1], [1, 0.5]], [0, 0])).to.throw(InvalidValueError, /0.5 on the diagonal at \(1, 1\)/);
    expect(() => new QuadraticEnergy([[0, NaN], [NaN, 0]], [0, 0])).to.throw(InvalidValueError, /NaN/);
    expect(() => new QuadraticEnergy([[0, 1, 0], [1, 0, 0]], [0, 0])).to.throw(ShapeError, /square/);
    expect(() => new QuadraticEnergy([[0]], [0, 1])).to.throw(ShapeError, /bias has 2 values/);
    expect(() => BoltzmannMachine.create(be, { visible: 2, hidden: 1, weights: [[0, 1, 0], [1, 0, 3], [0, 2, 0]] })).to.throw(InvalidValueError, /not symmetric/);
    const layer = new BernoulliLayer(be, { name: 'v', size: 2 });
    expect(() => new LateralConnection(be, 'v-v', layer, layer, { weights: Matrix.fromRows([[1, 0], [0, 0]]) })).to.throw(InvalidValueError, /diagonal/);
    const other = new BernoulliLayer(be, { name: 'h', size: 2 });
    expect(() => new LateralConnection(be, 'v-h', layer, other, { std: 0.1, rng: undefined as never })).to.throw(ShapeError, /must join a layer to itself/);
    const { bm } = machine(2, 1, 3);
    expect(() => bm.setParams({ 'visible-visible.weights': Matrix.fromRows([[0, 1], [0.5, 0]]) }, { partial: true })).to.throw(InvalidValueError, /not symmetric/);
    expect(() => BoltzmannMachine.create(be, { visible: 2, hidden: 2, lateral: { hidden: false }, weights: randomBM(4, 1).M })).to.throw(InvalidValueError, /no lateral connection there/);
  });

  it('random initial lateral weights are symmetric with a zero diagonal (float32 too)', async function () {
    const bm = BoltzmannMachine.create(new CpuBackend({ precision: 'float32' }), { visible: 5, hidden: 3, weightStd: 0.5, seed: 4 });
    const q = await bm.toQuadraticEnergy(); // the constructor checks symmetry and diagonal
    expect(q.size).to.equal(8);
    expect(Math.abs(q.weight(1, 0))).to.be.above(0);
  });

  for (const [nv, nh] of [[3, 2], [1, 0], [4, 0], [1, 3]] as const) {
    it(`device energy of every state of a ${nv}+${nh} machine equals -sum_{i<j} M_ij s_i s_j - b.s`, async function () {
      const { bm, host } = machine(nv, nh, 10 * nv + nh, 1.5);
      const n = nv + nh;
      const states = Array.from({ length: 2 ** n }, (_, k) => stateOf(k, n));
      const v = be.upload(new Matrix(states.length, nv, Float64Array.from(states.flatMap((s) => s.slice(0, nv)))));
      const layerStates = [v];
      if (nh > 0) layerStates.push(be.upload(new Matrix(states.length, nh, Float64Array.from(states.flatMap((s) => s.slice(nv))))));
      const out = be.zeros(states.length, 1);
      bm.energy(layerStates, out);
      const e = be.readSync(out).data;
      states.forEach((s, k) => expect(e[k]).to.be.closeTo(energyOf(host, s), 1e-12));
      const q = await bm.toQuadraticEnergy();
      states.forEach((s) => expect(q.energy(s)).to.be.closeTo(energyOf(host, s), 1e-12));
    });
  }

  it('exact distribution, log Z and conditional statistics match brute-force enumeration, at T = 1 and T = 2.5', async function () {
    const { bm, host } = machine(3, 3, 7, 1.2);
    const q = await bm.toQuadraticEnergy();
    for (const t of [1, 2.5]) {
      const want = bruteDistribution(host, t);
      const got = exactBoltzmannDistribution(q, { temperature: t });
      want.forEach((p, k) => expect(got[k]).to.be.closeTo(p, 1e-12));
    }
    const z = Array.from({ length: 64 }, (_, k) => Math.exp(-energyOf(host, stateOf(k, 6))));
    expect(exactBoltzmannLogPartition(q)).to.be.closeTo(Math.log(z.reduce((a, x) => a + x, 0)), 1e-12);
    // p(h | v = 101): moments by brute force
    const v = [1, 0, 1];
    const s = exactConditionalStatistics(q, [...v, 0, 0, 0], [3, 4, 5]);
    let zv = 0;
    const mean = new Array<number>(6).fill(0);
    let c34 = 0;
    for (let k = 0; k < 8; k++) {
      const x = [...v, ...stateOf(k, 3)];
      const w = Math.exp(-energyOf(host, x));
      zv += w;
      x.forEach((xi, i) => (mean[i]! += w * xi));
      c34 += w * x[3]! * x[4]!;
    }
    mean.forEach((m, i) => expect(s.mean[i]).to.be.closeTo(m / zv, 1e-12));
    expect(s.correlation[3 * 6 + 4]).to.be.closeTo(c34 / zv, 1e-12);
    expect(s.logPartition).to.be.closeTo(Math.log(zv), 1e-12);
    const data = Matrix.fromRows([[1, 0, 1], [0, 0, 0], [1, 1, 1], [1, 0, 1]]).toFloat64();
    expect(exactBoltzmannLogLikelihood(q, data, 3)).to.be.closeTo(bruteLogLikelihood(host, data), 1e-12);
  });

  it('spin (+-1) units: energies and the exact distribution match the reference', function () {
    const host = randomBM(4, 5);
    const q = new QuadraticEnergy(host.M, host.b, { values: 'spin' });
    const want = bruteDistribution(host, 1.7, -1);
    const got = exactBoltzmannDistribution(q, { temperature: 1.7 });
    want.forEach((p, k) => expect(got[k]).to.be.closeTo(p, 1e-12));
    expect(() => q.energy([0, 1, 1, 1])).to.throw(InvalidValueError, /spin units take -1 or 1/);
  });

  it('an RBM is a general Boltzmann machine without lateral weights: same log Z both ways', async function () {
    const rbm = RBM.create(be, { visible: 4, hidden: 3 });
    rbm.setParams(toParams(randomHostRBM(4, 3, 12, 1.3)));
    expect(exactBoltzmannLogPartition(await graphQuadraticEnergy(rbm))).to.be.closeTo(await exactLogPartition(rbm), 1e-10);
  });

  it('free energy sums out hidden units without lateral weights (semi-restricted)', async function () {
    const host = randomBM(5, 21);
    for (let i = 3; i < 5; i++) for (let j = 3; j < 5; j++) host.M[i]![j] = 0;
    const bm = BoltzmannMachine.create(be, { visible: 3, hidden: 2, lateral: { hidden: false }, weights: host.M, bias: host.b });
    const v = Matrix.fromRows([[1, 0, 1], [0, 1, 1]]).toFloat64();
    const out = be.zeros(2, 1);
    bm.freeEnergy([be.upload(v), undefined], out);
    const f = be.readSync(out).data;
    for (let r = 0; r < 2; r++) {
      let z = 0;
      for (let k = 0; k < 4; k++) z += Math.exp(-energyOf(host, [...v.row(r), ...stateOf(k, 2)]));
      expect(f[r]).to.be.closeTo(-Math.log(z), 1e-12);
    }
    // with hidden-hidden weights the hidden units cannot be summed out layer-wise
    const { bm: full } = machine(3, 2, 22);
    expect(() => full.freeEnergy([be.upload(v), undefined], be.zeros(2, 1))).to.throw(InvalidValueError, /cannot sum out/);
  });

  it('lateral gradients are -x^T x off the diagonal, symmetric', function () {
    const { bm } = machine(3, 0, 30);
    const grads = bm.createGradients();
    const x = Matrix.fromRows([[1, 1, 0], [1, 1, 1]]).toFloat64();
    bm.addEnergyGradients([be.upload(x)], 0.5, grads, false);
    const g = be.readSync(grads.byConnection[0]![0]!);
    expect(g.toArray().map((r) => r.map((x) => x + 0))).to.deep.equal([[0, -1, -0.5], [-1, 0, -0.5], [-0.5, -0.5, 0]]);
    bm.addEnergyGradients([be.upload(x)], 0.5, grads, true);
    expect(be.readSync(grads.byConnection[0]![0]!).get(0, 1)).to.equal(-2);
  });

  it('block Gibbs samplers refuse a layer with lateral weights with a clear error', function () {
    const { bm } = machine(3, 2, 31);
    expect(() => bm.bipartition()).to.throw(InvalidValueError, /odd cycle/);
  });

  it('saves and loads through the model file, rebuilt as a BoltzmannMachine with the same energy', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'bm-'));
    const { bm, host } = machine(3, 2, 40);
    await saveModel(join(dir, 'bm.json'), bm);
    const { model } = loadModel(join(dir, 'bm.json'), be);
    expect(model).to.be.instanceOf(BoltzmannMachine);
    expect(model.kind).to.equal('boltzmann-machine');
    const q = await (model as BoltzmannMachine).toQuadraticEnergy();
    for (let k = 0; k < 32; k++) expect(q.energy(stateOf(k, 5))).to.be.closeTo(energyOf(host, stateOf(k, 5)), 1e-12);
  });

  it('generic graphs with a lateral connection work through EnergyModel too', function () {
    const v = new BernoulliLayer(be, { name: 'visible', size: 2 });
    const m = new EnergyModel(be, [v], [new LateralConnection(be, 'lat', v, v, { weights: Matrix.fromRows([[0, 2], [2, 0]]) })]);
    const out = be.zeros(1, 1);
    m.energy([be.upload(Matrix.fromRows([[1, 1]]).toFloat64())], out);
    expect(be.readSync(out).data[0]).to.equal(-2); // the pair counted once
    const input = be.zeros(1, 2);
    m.computeInput(0, [be.upload(Matrix.fromRows([[1, 0]]).toFloat64())], input);
    expect(Array.from(be.readSync(input).data)).to.deep.equal([0, 2]); // field of each unit from the other
  });
});
