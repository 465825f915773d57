import { expect } from 'chai';
import { InvalidValueError, Matrix, ReferenceBackend, rngState } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { ContrastiveDivergence, RBM, exactLogLikelihood, exactLogPartition } from '@boltzmann/core';
import {
  binomialCopiesLogPartition,
  simpson,
  pairEnergy,
  pairFreeEnergy,
  pairLogZ,
  pairParams,
  randomPair,
  randomStates,
  steppedSigmoidLogPartition,
  type UnitSpecLike,
} from './unit-reference.js';

const be = new ReferenceBackend();

const UNIT_KINDS: Record<string, UnitSpecLike> = {
  bernoulli: { type: 'bernoulli', size: 3 },
  'gaussian (unit variance)': { type: 'gaussian', size: 2 },
  'gaussian (learned variance)': { type: 'gaussian', size: 2, variance: 'learned' },
  'one-hot multinomial (2 groups of 3)': { type: 'multinomial', size: 6, groupSize: 3 },
  'multinomial counts (3 categories, 2 draws)': { type: 'multinomial', size: 3, groupSize: 3, samples: 2 },
  relu: { type: 'relu', size: 2 },
};
const names = Object.keys(UNIT_KINDS);
const isDiscrete = (s: UnitSpecLike) => s.type === 'bernoulli' || s.type === 'multinomial';

function rows64(rows: number[][]): Matrix {
  return new Matrix(rows.length, rows[0]!.length, Float64Array.from(rows.flat()));
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('every pair of unit types against brute force (float64)', function () {
  names.forEach((vName, a) => {
    names.forEach((hName, b) => {
      const vs = UNIT_KINDS[vName]!;
      const hs = UNIT_KINDS[hName]!;
      const seed = 10 * a + b + 1;
      it(`${vName} visible x ${hName} hidden: F(v) = -log sum_h exp(-E(v, h)) (hidden ${isDiscrete(hs) ? 'enumerated' : hs.type === 'relu' ? 'stepped-sigmoid log-partition by quadrature' : 'integrated numerically'}), E(v, h), and log Z`, async function () {
        const host = randomPair(vs, hs, seed, 0.8);
        const rbm = RBM.create(be, { visible: vs, hidden: hs });
        rbm.setParams(pairParams(host));
        const v = randomStates(vs, 4, seed);
        const h = randomStates(hs, 4, seed + 100);
        const f = await rbm.freeEnergyOf(rows64(v));
        v.forEach((row, r) => expect(f[r], `F(v) of row ${r}`).to.be.closeTo(pairFreeEnergy(host, row), 1e-9));
        const out = be.zeros(4, 1);
        rbm.energy([be.upload(rows64(v)), be.upload(rows64(h))], out);
        const e = be.readSync(out).data;
        v.forEach((row, r) => expect(e[r], `E(v, h) of row ${r}`).to.be.closeTo(pairEnergy(host, row, h[r]!), 1e-12));

        if (vs.type === 'relu' || hs.type === 'relu') {
          const error = await rejection(exactLogPartition(rbm));
          expect(error).to.be.instanceOf(InvalidValueError);
          expect(error.message).to.match(/no exact log Z or log-likelihood for a model with layer "(visible|hidden)" \(2 relu units\): ReLU units sum out with the stepped-sigmoid approximation/);
        } else if (!isDiscrete(vs) && !isDiscrete(hs)) {
          const error = await rejection(exactLogPartition(rbm));
          expect(error.message).to.match(/exact log Z needs a block of discrete units/);
        } else {
          expect(await exactLogPartition(rbm)).to.be.closeTo(pairLogZ(host), 1e-8);
        }
      });
    });
  });

  it('exact log-likelihoods of a Gaussian-Bernoulli RBM are log densities: they integrate to 1 over the plane', async function () {
    const vs: UnitSpecLike = { type: 'gaussian', size: 2, variance: 'learned' };
    const host = randomPair(vs, { type: 'bernoulli', size: 3 }, 5, 0.8);
    const rbm = RBM.create(be, { visible: vs, hidden: { type: 'bernoulli', size: 3 } });
    rbm.setParams(pairParams(host));
    const logZ = await exactLogPartition(rbm);
    // Riemann sum of p(v) on a 161 x 161 grid over [-8, 8]^2 (the density is negligible outside).
    const n = 161;
    const step = 16 / (n - 1);
    const grid: number[][] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) grid.push([-8 + i * step, -8 + j * step]);
    const f = await rbm.freeEnergyOf(rows64(grid));
    let mass = 0;
    for (const x of f) mass += Math.exp(-x - logZ) * step * step;
    expect(mass).to.be.closeTo(1, 1e-6);
    expect(await exactLogLikelihood(rbm, rows64([[0.5, -1]]), { logZ })).to.be.closeTo(-pairFreeEnergy(host, [0.5, -1]) - logZ, 1e-9);
  });

  it('the stepped-sigmoid log-partition of ReLU units is within 1/24 nat of the infinitely many binary copies', function () {
    let worst = 0;
    for (let x = -20; x <= 30; x += 0.37) {
      const gap = steppedSigmoidLogPartition(x) - binomialCopiesLogPartition(x);
      expect(gap, `x = ${x}`).to.be.within(0, 1 / 24 + 1e-8); // 1e-8: the references' own rounding
      worst = Math.max(worst, gap);
    }
    expect(worst).to.be.above(0.04); // the bound is tight for large inputs
  });
});

describe('conditional sampling of each unit type (20000 draws at fixed inputs)', function () {
  const n = 20000;
  /** Column means and variances of n samples of a visible layer of type `visible` at the input row `input`. */
  function moments(visible: UnitSpecLike, input: number[]) {
    const rbm = RBM.create(be, { visible, hidden: 1 });
    const layer = rbm.visible;
    const inputs = be.upload(new Matrix(n, input.length, Float64Array.from({ length: n * input.length }, (_, i) => input[i % input.length]!)));
    const mean = be.zeros(n, input.length);
    const out = be.zeros(n, input.length);
    layer.mean(inputs, mean);
    layer.sample(inputs, mean, rngState(3, 9), out);
    const x = be.readSync(out);
    const m = input.map((_, j) => { let s = 0; for (let r = 0; r < n; r++) s += x.get(r, j); return s / n; });
    const v = input.map((_, j) => { let s = 0; for (let r = 0; r < n; r++) s += (x.get(r, j) - m[j]!) ** 2; return s / n; });
    return { m, v, meanRow: Array.from(be.readSync(mean).row(0)), samples: x };
  }

  it('ReLU: max(0, x + N(0, sigmoid(x))) has the mean and variance of that rectified Gaussian; the mean is max(0, x)', function () {
    const xs = [-2, -0.3, 0.5, 3];
    const { m, v, meanRow, samples } = moments({ type: 'relu', size: 4 }, xs);
    expect(meanRow).to.deep.equal(xs.map((x) => Math.max(0, x)));
    expect(Array.from(samples.data).every((y) => y >= 0)).to.equal(true);
    xs.forEach((x, j) => {
      const s = Math.sqrt(1 / (1 + Math.exp(-x)));
      const density = (y: number) => Math.exp(-((y - x) ** 2) / (2 * s * s)) / (s * Math.sqrt(2 * Math.PI));
      const m1 = simpson((y) => y * density(y), 0, x + 12 * s, 20000);
      const m2 = simpson((y) => y * y * density(y), 0, x + 12 * s, 20000);
      const sd = Math.sqrt(m2 - m1 * m1);
      expect(m[j], `mean at x = ${x}`).to.be.closeTo(m1, (4 * sd) / Math.sqrt(n));
      expect(v[j], `variance at x = ${x}`).to.be.closeTo(m2 - m1 * m1, 0.05 * (m2 - m1 * m1) + 1e-3);
    });
  });

  it('Gaussian with learned variance: N(b + sigma x, sigma^2)', function () {
    const rbm = RBM.create(be, { visible: { type: 'gaussian', size: 2, variance: 'learned' }, hidden: 1 });
    rbm.setParams({ 'visible.bias': new Matrix(1, 2, Float64Array.from([1, -2])), 'visible.logSigma': new Matrix(1, 2, Float64Array.from([Math.log(0.5), Math.log(2)])) }, { partial: true });
    const inputs = be.upload(new Matrix(n, 2, Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? 2 : -1))));
    const mean = be.zeros(n, 2);
    const out = be.zeros(n, 2);
    rbm.visible.mean(inputs, mean);
    rbm.visible.sample(inputs, mean, rngState(4, 9), out);
    expect(Array.from(be.readSync(mean).row(0))).to.deep.equal([1 + 0.5 * 2, -2 + 2 * -1]);
    const x = be.readSync(out);
    [[2, 0.5], [-4, 2]].forEach(([mu, sd], j) => {
      let s = 0;
      let ss = 0;
      for (let r = 0; r < n; r++) { s += x.get(r, j); ss += x.get(r, j) ** 2; }
      expect(s / n).to.be.closeTo(mu!, (4 * sd!) / Math.sqrt(n));
      expect(Math.sqrt(ss / n - (s / n) ** 2)).to.be.closeTo(sd!, 0.03 * sd!);
    });
  });

  it('multinomial counts: n draws per group follow Multinomial(n, softmax(input))', function () {
    const input = [0.5, -1, 1.2, 0, 0, 2];
    const { m, v, samples } = moments({ type: 'multinomial', size: 6, groupSize: 3, samples: 4 }, input);
    for (let r = 0; r < 50; r++) for (const g of [0, 1]) expect(samples.get(r, 3 * g) + samples.get(r, 3 * g + 1) + samples.get(r, 3 * g + 2)).to.equal(4);
    for (const g of [0, 1]) {
      const e = input.slice(3 * g, 3 * g + 3).map(Math.exp);
      const z = e.reduce((a, x) => a + x, 0);
      e.forEach((x, k) => {
        const p = x / z;
        expect(m[3 * g + k]).to.be.closeTo(4 * p, 4 * Math.sqrt((4 * p * (1 - p)) / n));
        expect(v[3 * g + k]).to.be.closeTo(4 * p * (1 - p), 0.05 * 4 * p * (1 - p));
      });
    }
  });
});

describe('unit types on the CPU backend agree with the float64 reference', function () {
  for (const name of names) {
    it(`${name}: a CD-3 step (sampling every layer) gives the reference's gradient on the float64 CPU backend`, function () {
      const vs = UNIT_KINDS[name]!;
      const hs = name === 'bernoulli' ? UNIT_KINDS['gaussian (learned variance)']! : UNIT_KINDS[name]!;
      const host = randomPair(vs, hs, 8, 0.8);
      const cpu = new CpuBackend({ precision: 'float64' });
      const v = rows64(randomStates(vs, 9, 5));
      const grads = [be, cpu].map((backend) => {
        const m = RBM.create(backend, { visible: vs, hidden: hs });
        m.setParams(pairParams(host));
        const g = m.createGradients();
        new ContrastiveDivergence(m, { k: 3, meanLayers: [] }).computeGradients(backend.upload(v), g, rngState(6, 2));
        return g.tensors.map((t) => backend.readSync(t));
      });
      grads[0]!.forEach((g, i) => g.data.forEach((x, j) => expect(grads[1]![i]!.data[j], `parameter ${i}, element ${j}`).to.be.closeTo(x, 1e-9 * (1 + Math.abs(x)))));
    });
  }

  for (const name of names) {
    it(`${name}: free energies, means and the gradient, visible x bernoulli hidden, in float32`, async function () {
      const vs = UNIT_KINDS[name]!;
      const hs: UnitSpecLike = { type: 'bernoulli', size: 3 };
      const host = randomPair(vs, hs, 3, 0.8);
      const cpu = new CpuBackend({ precision: 'float32' });
      const models = [RBM.create(be, { visible: vs, hidden: hs }), RBM.create(cpu, { visible: vs, hidden: hs })];
      for (const m of models) m.setParams(pairParams(host));
      const v = rows64(randomStates(vs, 7, 4));
      const [f64, f32] = await Promise.all(models.map((m) => m.freeEnergyOf(m.backend === be ? v : v.toFloat32())));
      f64!.forEach((x, r) => expect(f32![r]).to.be.closeTo(x, 1e-4 * (1 + Math.abs(x))));
      const [r64, r32] = await Promise.all(models.map((m) => m.reconstruct(m.backend === be ? v : v.toFloat32())));
      r64!.data.forEach((x, i) => expect(r32!.data[i]).to.be.closeTo(x, 1e-5 * (1 + Math.abs(x))));
      // one data-phase gradient with hidden means (deterministic) on both backends
      const grads = models.map((m) => {
        const g = m.createGradients();
        const batch = m.backend.upload(m.backend === be ? v : v.toFloat32());
        const h = m.backend.zeros(v.rows, 3);
        m.hiddenMeans(batch, h);
        m.addEnergyGradients([batch, h], 1 / v.rows, g, false);
        return g.tensors.map((t) => m.backend.readSync(t));
      });
      grads[0]!.forEach((g, i) => g.data.forEach((x, j) => expect(grads[1]![i]!.data[j]).to.be.closeTo(x, 1e-5 * (1 + Math.abs(x)))));
    });
  }
});
