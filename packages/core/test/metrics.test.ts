import { expect } from 'chai';
import { CounterRng, Matrix, ReferenceBackend, type Backend } from '@boltzmann/tensor';
import { CpuBackend, EMULATED_BF16_KERNEL, nativeBf16Gemm } from '@boltzmann/backend-cpu';
import {
  DeviceSum,
  FreeEnergyMetric,
  MeanActivationMetric,
  PseudoLikelihoodMetric,
  RBM,
  ReconstructionErrorMetric,
  flipIndices,
  pseudoLogLikelihoodRows,
} from '@boltzmann/core';
import { binaryStates, bruteFreeEnergy, hiddenProbs, randomBinary, randomHostRBM, repeatRows, toParams } from './helpers.js';

const be = new ReferenceBackend();
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

function model(nv: number, nh: number, seed: number) {
  const host = randomHostRBM(nv, nh, seed, 1);
  const rbm = RBM.create(be, { visible: nv, hidden: nh });
  rbm.setParams(toParams(host));
  return { rbm, host };
}

describe('metrics against independent float64 computations', function () {
  it("pseudo-log-likelihood is scikit-learn's score_samples for the same flipped indices", async function () {
    const { rbm, host } = model(7, 3, 1);
    const data = randomBinary(129, 7, 4);
    data.data[5] = 0.3; // fractional values flip to 1 - v as in scikit-learn
    const indices = flipIndices(new CounterRng(11), data.rows, data.cols);
    const got = await pseudoLogLikelihoodRows(rbm, data, { indices });
    for (let r = 0; r < data.rows; r++) {
      const v = Array.from(data.row(r));
      const flipped = v.slice();
      flipped[indices[r]!] = 1 - flipped[indices[r]!]!;
      // -n_features * logaddexp(0, -(F(v_) - F(v))), with F by brute-force enumeration of h
      const want = -7 * softplus(-(bruteFreeEnergy(host, flipped) - bruteFreeEnergy(host, v)));
      expect(got[r], `row ${r}`).to.be.closeTo(want, 1e-11);
    }
    // seeded: the same seed gives the same indices and scores
    const a = await pseudoLogLikelihoodRows(rbm, data, { seed: 3 });
    const b = await pseudoLogLikelihoodRows(rbm, data, { seed: 3 });
    expect(Array.from(a)).to.deep.equal(Array.from(b));
    expect(new Set(flipIndices(new CounterRng(3), 1000, 7)).size).to.equal(7);
  });

  it('the streaming PLL metric over batches equals the mean of the per-row scores', async function () {
    const { rbm } = model(5, 4, 2);
    const data = randomBinary(37, 5, 9);
    const metric = new PseudoLikelihoodMetric(rbm, { seed: 6 });
    metric.reset();
    for (const [s, e] of [[0, 10], [10, 11], [11, 37]] as const) metric.update(be.upload(data.sliceRows(s, e)));
    const streamed = await metric.value();
    const indices = flipIndices(new CounterRng(6), 10, 5);
    const rest1 = flipIndices(new CounterRng(6, 0, 1), 1, 5);
    const rest2 = flipIndices(new CounterRng(6, 0, 2), 26, 5);
    const all = new Uint32Array([...indices, ...rest1, ...rest2]);
    const rows = await pseudoLogLikelihoodRows(rbm, data, { indices: all });
    expect(streamed).to.be.closeTo(Array.from(rows).reduce((s, x) => s + x, 0) / 37, 1e-12);
    // reset restarts the index stream: the same value again
    metric.reset();
    for (const [s, e] of [[0, 10], [10, 11], [11, 37]] as const) metric.update(be.upload(data.sliceRows(s, e)));
    expect(await metric.value()).to.equal(streamed);
  });

  it('mean free energy and mean hidden activation stream over batches', async function () {
    const { rbm, host } = model(6, 3, 3);
    const data = randomBinary(13, 6, 1);
    const fe = new FreeEnergyMetric(rbm);
    const act = new MeanActivationMetric(rbm);
    fe.reset();
    act.reset();
    for (const [s, e] of [[0, 4], [4, 13]] as const) {
      const t = be.upload(data.sliceRows(s, e));
      fe.update(t);
      act.update(t);
    }
    let f = 0;
    let a = 0;
    for (let r = 0; r < 13; r++) {
      f += bruteFreeEnergy(host, data.row(r));
      a += hiddenProbs(host, data.row(r)).reduce((s, x) => s + x, 0);
    }
    expect(await fe.value()).to.be.closeTo(f / 13, 1e-12);
    expect(await act.value()).to.be.closeTo(a / 13 / 3, 1e-12);
  });

  it('reconstruction error is the MSE of the data vs E[v | h], h sampled from p(h | v)', async function () {
    const { rbm, host } = model(4, 3, 5);
    const data = Matrix.fromRows([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 1]]).toFloat64();
    // Exact expectation over the hidden sample: sum_h p(h | v) * mean_i (v_i - sigmoid(b_i + W_i.h))^2
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    let want = 0;
    for (let r = 0; r < 3; r++) {
      const v = Array.from(data.row(r));
      const q = hiddenProbs(host, v);
      for (const h of binaryStates(3)) {
        const ph = h.reduce((p, hj, j) => p * (hj ? q[j]! : 1 - q[j]!), 1);
        const se = v.reduce((s, vi, i) => s + (vi - sig(host.b[i]! + host.W[i]!.reduce((t, w, j) => t + w * h[j]!, 0))) ** 2, 0);
        want += (ph * se) / 4 / 3;
      }
    }
    const metric = new ReconstructionErrorMetric(rbm, { seed: 1 });
    metric.reset();
    metric.update(be.upload(repeatRows(data, 3000)));
    expect(await metric.value()).to.be.closeTo(want, 0.005);
    // With a reconstruction handed in (the CD chain's), plain MSE:
    const recon = Matrix.fromRows([[0.5, 0.25, 1, 0], [0, 1, 0.5, 0.5], [1, 1, 1, 1]]).toFloat64();
    metric.reset();
    metric.addReconstruction(be.upload(data), be.upload(recon));
    let se = 0;
    for (let i = 0; i < data.data.length; i++) se += (data.data[i]! - recon.data[i]!) ** 2;
    expect(await metric.value()).to.be.closeTo(se / 12, 1e-15);
  });

  it('DeviceSum.addColumns (the per-step metrics\' sum) adds alpha times the column sums: to 1e-13 in float64, to float32 rounding in float32 and in bfloat16-mixed (no operand rounded to bfloat16)', async function () {
    const data = new Matrix(37, 11, Float64Array.from({ length: 37 * 11 }, (_, i) => ((i * 7919) % 1000) / 997));
    let exact = 0;
    for (const x of data.data) exact += x;
    const bf16 = nativeBf16Gemm({ kernel: EMULATED_BF16_KERNEL });
    const backends: [Backend, number][] = [[be, 1e-13], [new CpuBackend({ precision: 'float64' }), 1e-13], [new CpuBackend({ precision: 'float32' }), 1e-6]];
    if (bf16 !== undefined) backends.push([new CpuBackend({ precision: 'bfloat16-mixed', gemm: bf16 }), 1e-6]);
    for (const [backend, tolerance] of backends) {
      const sum = new DeviceSum(backend, 11);
      sum.addColumns(backend.upload(data), 0.5);
      sum.addColumns(backend.upload(data.sliceRows(0, 5)));
      expect(sum.rows).to.equal(42);
      let want = exact / 2;
      for (let i = 0; i < 5 * 11; i++) want += data.data[i]!;
      expect(await sum.total(), backend.name).to.be.closeTo(want, tolerance * want);
      sum.reset();
      expect(sum.rows).to.equal(0);
      expect(await sum.total()).to.equal(0);
    }
  });
});
