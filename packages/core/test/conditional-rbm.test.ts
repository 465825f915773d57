import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CounterRng, DivergenceError, InvalidValueError, Matrix, ReferenceBackend, ShapeError } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { ConditionalRBM, loadModel, saveModel } from '@boltzmann/core';

const K = 6;
/** A hidden order-2 rule over 6 symbols: next = TABLE[prev2 * 6 + prev1], a random table (seed 7). */
const TABLE = Array.from(new CounterRng(7).uniforms(new Float64Array(K * K)), (x) => Math.floor(x * K));
const continueRule = (a: number, b: number, n: number): number[] => {
  const s = [a, b];
  while (s.length < n) s.push(TABLE[s.at(-2)! * K + s.at(-1)!]!);
  return s;
};
const oneHot = (symbols: readonly number[], k = K): Matrix => {
  const m = Matrix.zeros(symbols.length, k);
  symbols.forEach((x, t) => m.set(t, x, 1));
  return m;
};

const softplus = (x: number) => (x > 30 ? x : Math.log1p(Math.exp(x)));

/** p(v | past) from the definition, with plain loops over the parameters (host float64). */
function bruteNext(params: Record<string, Matrix>, past: ArrayLike<number>, states: number[][]): number[] {
  const W = params['visible-hidden.weights']!;
  const A = params['history-visible.weights']!;
  const B = params['history-hidden.weights']!;
  const b = params['visible.bias']!;
  const c = params['hidden.bias']!;
  const negF = states.map((v) => {
    let s = 0;
    v.forEach((x, i) => {
      s += x * b.get(0, i);
      for (let p = 0; p < past.length; p++) s += past[p]! * A.get(p, i) * x;
    });
    for (let j = 0; j < c.cols; j++) {
      let x = c.get(0, j);
      for (let p = 0; p < past.length; p++) x += past[p]! * B.get(p, j);
      v.forEach((vi, i) => (x += vi * W.get(i, j)));
      s += softplus(x);
    }
    return s;
  });
  const m = Math.max(...negF);
  const z = negF.reduce((acc, x) => acc + Math.exp(x - m), 0);
  return negF.map((x) => Math.exp(x - m) / z);
}

describe('conditional RBM (autoregressive visible and dynamic hidden biases)', function () {
  it('the exact next-frame distribution matches the definition (one-hot and binary frames)', async function () {
    const be = new ReferenceBackend();
    for (const visible of [{ type: 'multinomial', size: 4, groupSize: 4 }, 3] as const) {
      const crbm = ConditionalRBM.create(be, { visible: visible as never, hidden: 3, order: 2, weightStd: 1, seed: 3 });
      const params = await crbm.getParams();
      const bias = params['visible.bias']!;
      bias.data.forEach((_, j) => (bias.data[j] = Math.cos(j)));
      crbm.setParams({ 'visible.bias': bias }, { partial: true });
      const past = Matrix.fromRows(crbm.frameSize === 4 ? [[0, 1, 0, 0, 0, 0, 0, 1], [1, 0, 0, 0, 0, 0, 1, 0]] : [[1, 0, 1, 0, 0, 1], [0, 0, 0, 1, 1, 1]]).toFloat64();
      const { probabilities, states } = await crbm.nextDistribution(past);
      for (let r = 0; r < past.rows; r++) {
        const want = bruteNext(await crbm.getParams(), past.row(r), states.toArray());
        want.forEach((p, c) => expect(probabilities.get(r, c)).to.be.closeTo(p, 1e-12));
      }
      const mean = await crbm.predictNext(past);
      const p0 = Array.from(probabilities.row(0));
      for (let j = 0; j < crbm.frameSize; j++) expect(mean.get(0, j)).to.be.closeTo(p0.reduce((s, p, c) => s + p * states.get(c, j), 0), 1e-12);
    }
  });

  it('cuts (past, next) windows with the most recent frame first, and refuses sequences shorter than the memory', function () {
    const crbm = ConditionalRBM.create(new ReferenceBackend(), { visible: 2, hidden: 2, order: 2 });
    const seq = Matrix.fromRows([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const { history, next } = crbm.windows([seq]);
    expect(next.toArray()).to.deep.equal([[1, 0], [1, 1]]);
    expect(history.toArray()).to.deep.equal([[0, 1, 0, 0], [1, 0, 0, 1]]);
    expect(() => crbm.windows([seq, seq.sliceRows(0, 2)])).to.throw(InvalidValueError, 'sequence 1 has 2 frames; a model with memory 2 needs at least 3 (2 to condition on, 1 to predict)');
    expect(() => crbm.windows([Matrix.fromRows([[0, 0, 1]])])).to.throw(ShapeError, /frames of 3 values; the model's frames have 2/);
    expect(() => crbm.windows([Matrix.fromRows([[0, 2], [0, 0], [0, 0]])])).to.throw(InvalidValueError, /sequence 0/);
    expect(() => crbm.windows([])).to.throw(InvalidValueError, /at least one sequence/);
    return crbm.generate(seq.sliceRows(0, 1), 3).then(
      () => expect.fail('should throw'),
      (e: Error) => expect(e.message).to.equal('the prefix has 1 frames; a model with memory 2 needs at least 2 to continue from'),
    );
  });

  it('learns a hidden order-2 rule over 6 symbols by CD-1 and continues sequences from 2-symbol prefixes', async function () {
    const u = new CounterRng(8).uniforms(new Float64Array(400));
    const train = Array.from({ length: 200 }, (_, r) => oneHot(continueRule(Math.floor(u[2 * r]! * K), Math.floor(u[2 * r + 1]! * K), 5)));
    const crbm = ConditionalRBM.create(new CpuBackend({ precision: 'float32' }), { visible: { type: 'multinomial', size: K, groupSize: K }, hidden: 30, order: 2, weightStd: 0.1, seed: 1 });
    await crbm.fit(train, { epochs: 400, learningRate: 0.1, batchSize: 40, seed: 1 });
    // one step, every context: most likely next symbol vs the rule
    const pasts = Matrix.zeros(K * K, 2 * K);
    for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) pasts.data.set([...oneHot([b]).data, ...oneHot([a]).data], (a * K + b) * 2 * K);
    const { probabilities } = await crbm.nextDistribution(pasts);
    let oneStep = 0;
    for (let q = 0; q < K * K; q++) {
      const row = Array.from(probabilities.row(q));
      if (row.indexOf(Math.max(...row)) === TABLE[q]) oneStep++;
    }
    // free-running: 8 symbols from each of the 36 prefixes, errors compound
    let right = 0;
    for (let a = 0; a < K; a++) {
      for (let b = 0; b < K; b++) {
        const truth = continueRule(a, b, 10);
        const g = await crbm.generate(oneHot(truth.slice(0, 2)), 8);
        for (let t = 2; t < 10; t++) if (g.get(t, truth[t]!) === 1) right++;
      }
    }
    // chance is 1/6; measured here: 34/36 one-step, 0.95 free-running (0.91-0.98 over other seeds)
    expect(oneStep / 36).to.be.at.least(0.9);
    expect(right / (36 * 8)).to.be.at.least(0.85);
  });

  it('Gaussian frames: learns a sine wave and continues it (mean-field)', async function () {
    const seqs = Array.from({ length: 20 }, (_, s) => new Matrix(40, 1, Float64Array.from({ length: 40 }, (_, t) => Math.sin(0.5 * t + s))));
    const crbm = ConditionalRBM.create(new CpuBackend({ precision: 'float64' }), { visible: { type: 'gaussian', size: 1 }, hidden: 10, order: 2, seed: 1 });
    await crbm.fit(seqs, { epochs: 100, learningRate: 0.01, batchSize: 20, seed: 1 });
    const { history, next } = crbm.windows(seqs);
    const predicted = await crbm.predictNext(history);
    let se = 0;
    let repeat = 0;
    for (let r = 0; r < next.rows; r++) {
      se += (predicted.data[r]! - next.data[r]!) ** 2;
      repeat += (history.get(r, 0) - next.data[r]!) ** 2;
    }
    expect(Math.sqrt(repeat / next.rows)).to.be.above(0.3); // repeating the last value
    expect(Math.sqrt(se / next.rows)).to.be.below(0.05); // measured 0.003
    const continued = await crbm.generate(seqs[0]!.sliceRows(0, 2), 10);
    for (let t = 2; t < 12; t++) expect(continued.get(t, 0)).to.be.closeTo(Math.sin(0.5 * t), 0.1);
  });

  it('saves and loads as a ConditionalRBM (history layer of unsampled units) with the same predictions', async function () {
    const be = new CpuBackend({ precision: 'float64' });
    const crbm = ConditionalRBM.create(be, { visible: { type: 'multinomial', size: 3, groupSize: 3 }, hidden: 4, order: 3, weightStd: 0.5, seed: 9 });
    const dir = mkdtempSync(join(tmpdir(), 'crbm-'));
    await saveModel(join(dir, 'crbm.json'), crbm);
    const loaded = loadModel(join(dir, 'crbm.json'), be).model as ConditionalRBM;
    expect(loaded).to.be.instanceOf(ConditionalRBM);
    expect(loaded.order).to.equal(3);
    const past = Matrix.fromRows([[1, 0, 0, 0, 1, 0, 0, 0, 1]]);
    expect(Array.from((await loaded.nextDistribution(past)).probabilities.data)).to.deep.equal(Array.from((await crbm.nextDistribution(past)).probabilities.data));
    expect(() => loaded.layers[2]!.mean(be.zeros(1, 9), be.zeros(1, 9))).to.throw(InvalidValueError, /conditioning inputs/);
  });
});

describe('ConditionalRBM: divergence', function () {
  it('a learning rate that overflows stops fit with a DivergenceError naming the epoch, the parameters it started from restored', async function () {
    const crbm = ConditionalRBM.create(new CpuBackend({ precision: 'float64' }), { visible: 2, hidden: 3, order: 1, seed: 4 });
    const seq = Matrix.fromRows([[0, 1], [1, 0], [0, 1], [1, 0], [1, 1], [0, 0]]);
    await crbm.fit([seq], { epochs: 1, learningRate: 0.1, batchSize: 1, seed: 4 });
    const good = await crbm.getParams();
    let caught: unknown;
    try {
      await crbm.fit([seq], { epochs: 2, learningRate: 1e308, batchSize: 1, seed: 4 });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(DivergenceError);
    expect((caught as Error).message).to.match(/^training diverged in epoch 1: ".*" holds NaN or Inf \(learning rate 1e\+308, momentum 0.5\); the last good parameters were restored$/);
    const restored = await crbm.getParams();
    for (const [name, m] of Object.entries(good)) expect(Array.from(restored[name]!.data), name).to.deep.equal(Array.from(m.data));
  });
});
