import { expect } from 'chai';
import { CounterRng, DivergenceError, InvalidValueError, Matrix, ShapeError, type Tensor } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { loadDigits } from '@boltzmann/data';
import { DBN, FeedForwardNet, accuracy, checkLabels, oneHot } from '@boltzmann/core';

const be64 = new CpuBackend({ precision: 'float64' });
const be32 = new CpuBackend({ precision: 'float32' });

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Every partial derivative of the loss against a central finite difference (float64). */
async function checkGradient(net: FeedForwardNet, data: Matrix, labels: number[], weightDecay: number): Promise<number> {
  const { grads } = await net.lossAndGradients(data, labels, { weightDecay });
  const analytic = grads.map((g) => be64.readSync(g));
  const h = 1e-5;
  let checked = 0;
  const params: Tensor[] = net.parameters;
  for (let p = 0; p < params.length; p++) {
    const original = be64.readSync(params[p]!);
    for (let k = 0; k < original.data.length; k++) {
      const at = (delta: number) => {
        const m = original.clone();
        m.data[k]! += delta;
        be64.write(params[p]!, m);
      };
      at(h);
      const up = (await net.lossAndGradients(data, labels, { weightDecay })).loss;
      at(-h);
      const down = (await net.lossAndGradients(data, labels, { weightDecay })).loss;
      be64.write(params[p]!, original);
      const numeric = (up - down) / (2 * h);
      expect(analytic[p]!.data[k]!, `parameter ${p} element ${k}`).to.be.closeTo(numeric, 1e-7 + 1e-6 * Math.abs(numeric));
      checked += 1;
    }
  }
  for (const g of grads) be64.dispose(g);
  return checked;
}

describe('feed-forward classifier and DBN fine-tuning: gradients by finite differences (float64)', function () {
  const rng = new CounterRng(3, 1);
  const data = new Matrix(7, 5, rng.normals(new Float64Array(35)));
  const labels = [0, 2, 1, 1, 0, 2, 2];

  it('backpropagation through sigmoid, ReLU and tanh layers with weight decay matches finite differences', async function () {
    const net = FeedForwardNet.create(be64, { sizes: [5, 4, 6, 3, 3], activation: ['sigmoid', 'relu', 'tanh'], seed: 4, init: { std: 0.7 } });
    expect(await checkGradient(net, data, labels, 0.01)).to.equal(5 * 4 + 4 + 4 * 6 + 6 + 6 * 3 + 3 + 3 * 3 + 3);
    net.dispose();
  });

  it('the fine-tuning loss of a DBN stack (Bernoulli and ReLU hidden RBMs plus read-out) matches finite differences', async function () {
    const x = new Matrix(7, 5, Float64Array.from({ length: 35 }, (_, i) => (Math.sin(i * 1.3) + 1) / 2));
    const dbn = DBN.create(be64, { layers: [5, 4, { type: 'relu', size: 3 }], seed: 2, weightStd: 0.5 });
    await dbn.fitReadout(x, labels, { epochs: 1, classes: 3 });
    const net = await dbn.network();
    expect(net.activations).to.deep.equal(['sigmoid', 'relu']);
    expect(net.sizes).to.deep.equal([5, 4, 3, 3]);
    expect(await checkGradient(net, x, labels, 0)).to.equal(5 * 4 + 4 + 4 * 3 + 3 + 3 * 3 + 3);
    // The cross-entropy is that of the DBN's own predictions.
    const probs = await dbn.predictProba(x);
    let ce = 0;
    labels.forEach((y, r) => (ce -= Math.log(probs.get(r, y)) / labels.length));
    expect(await net.loss(x, labels)).to.be.closeTo(ce, 1e-12);
    net.dispose();
    dbn.dispose();
  });
});

describe('feed-forward classifier: training and bad input', function () {
  it('multinomial logistic regression separates three Gaussian blobs', async function () {
    const rng = new CounterRng(5, 2);
    const n = 300;
    const noise = rng.normals(new Float64Array(n * 4), 0, 0.6);
    const data = Matrix.zeros(n, 4, 'float32');
    const labels = Array.from({ length: n }, (_, i) => i % 3);
    for (let r = 0; r < n; r++) for (let c = 0; c < 4; c++) data.data[r * 4 + c] = noise[r * 4 + c]! + (c === labels[r] ? 2 : 0);
    const net = FeedForwardNet.create(be32, { sizes: [4, 3], seed: 1 });
    const before = await net.loss(data, labels);
    const reports = await net.fit(data, labels, { epochs: 10, learningRate: 0.1, seed: 1 });
    expect(reports.at(-1)!.loss).to.be.below(reports[0]!.loss);
    expect(await net.loss(data, labels)).to.be.below(before / 3);
    expect(await net.accuracy(data, labels)).to.be.above(0.95);
    net.dispose();
  });

  it('refuses labels outside the class range, the wrong number of labels and bad sizes', async function () {
    const net = FeedForwardNet.create(be32, { sizes: [2, 3], seed: 1 });
    const x = Matrix.fromRows([[0, 1], [1, 0]]);
    expect((await rejection(net.fit(x, [0, 3], { epochs: 1 }))).message).to.equal('labels[1] is 3: a class index must be an integer in [0, 2] for 3 classes');
    expect((await rejection(net.fit(x, [-1, 0], { epochs: 1 }))).message).to.match(/labels\[0\] is -1/);
    expect((await rejection(net.fit(x, [0.5, 0], { epochs: 1 }))).message).to.match(/labels\[0\] is 0.5/);
    expect(await rejection(net.fit(x, [0], { epochs: 1 }))).to.be.instanceOf(ShapeError);
    expect(await rejection(net.accuracy(Matrix.zeros(2, 3), [0, 1]))).to.be.instanceOf(ShapeError);
    expect(() => FeedForwardNet.create(be32, { sizes: [3] })).to.throw(InvalidValueError, /sizes \[inputs, \.\.\., classes\]/);
    expect(() => FeedForwardNet.create(be32, { sizes: [3, 4, 2], activation: ['sigmoid', 'relu'] })).to.throw(InvalidValueError, /one activation for all 1 hidden layers/);
    expect(() => FeedForwardNet.create(be32, { sizes: [3, 1] })).to.throw(InvalidValueError, /at least 2 classes/);
    expect(() => checkLabels([0, 1], 2, 1)).to.throw(InvalidValueError);
    expect(() => oneHot([2], 2)).to.throw(InvalidValueError, /labels\[0\] is 2/);
    expect(accuracy([1, 2, 3], [1, 2, 0])).to.be.closeTo(2 / 3, 1e-15);
    net.dispose();
    const wild = FeedForwardNet.create(be64, { sizes: [2, 3, 2], seed: 1 });
    const diverged = await rejection(wild.fit(x.toFloat64(), [0, 1], { epochs: 3, learningRate: 1e308, batchSize: 1 }));
    expect(diverged).to.be.instanceOf(DivergenceError);
    expect(diverged.message).to.match(/classifier training diverged in epoch \d \(loss (NaN|-?Infinity), learning rate 1e\+308\)/);
    wild.dispose();
  });
});

describe('DBN on the bundled digits (small)', function () {
  const train = loadDigits({ split: 'train', count: 1500 });
  const test = loadDigits({ split: 'test', count: 500 });
  const labelled = { images: train.images.sliceRows(0, 500), labels: train.labels.slice(0, 500) };

  it('pretrains greedily, reads out, fine-tunes (the stack changes, the loss falls) and transforms', async function () {
    const dbn = DBN.create(be32, { layers: [784, 64, 32], seed: 1 });
    const pre = await dbn.pretrain(train.images, { epochs: [10, 10], trainer: { seed: 1 }, monitor: { freeEnergy: false, pseudoLikelihood: false } });
    expect(pre.map((r) => r.length)).to.deep.equal([10, 10]);
    expect(pre[1]!.at(-1)!.reconstructionError).to.be.below(pre[1]![0]!.reconstructionError);
    const features = await dbn.transform(test.images);
    expect([features.rows, features.cols]).to.deep.equal([500, 32]);
    expect((await dbn.transform(test.images, { layer: 1 })).cols).to.equal(64);
    expect((await rejection(dbn.predict(test.images))).message).to.equal('predict() needs a trained read-out: call fitReadout() or fineTune() first');

    await dbn.fitReadout(labelled.images, labelled.labels, { epochs: 30, learningRate: 0.1, seed: 1 });
    const readoutAccuracy = await dbn.accuracy(test.images, test.labels);
    expect(readoutAccuracy).to.be.above(0.7); // 0.78 on 32 features

    const weightsBefore = await dbn.rbms[0]!.getParams();
    const tuned = await dbn.fineTune(labelled.images, labelled.labels, { epochs: 10, learningRate: 0.1, batchSize: 20, seed: 1 });
    expect(tuned.at(-1)!.loss).to.be.below(tuned[0]!.loss);
    const weightsAfter = await dbn.rbms[0]!.getParams();
    expect(Array.from(weightsAfter['visible-hidden.weights']!.data)).to.not.deep.equal(Array.from(weightsBefore['visible-hidden.weights']!.data));
    expect(Array.from(weightsAfter['visible.bias']!.data)).to.deep.equal(Array.from(weightsBefore['visible.bias']!.data)); // not part of the net
    const tunedAccuracy = await dbn.accuracy(test.images, test.labels);
    expect(tunedAccuracy).to.be.above(readoutAccuracy);
    const net = await dbn.network();
    expect(Array.from(await net.predict(test.images))).to.deep.equal(Array.from(await dbn.predict(test.images)));
    net.dispose();
    dbn.dispose();
  });

  it('refuses labels outside the class range, a read-out of another class count and hidden units it cannot backpropagate through', async function () {
    const dbn = DBN.create(be32, { layers: [784, 8], seed: 1 });
    const x = labelled.images.sliceRows(0, 20);
    const y = Array.from(labelled.labels.slice(0, 20));
    const bad = [...y];
    bad[4] = 10;
    expect((await rejection(dbn.fitReadout(x, bad, { epochs: 1, classes: 10 }))).message).to.equal('labels[4] is 10: a class index must be an integer in [0, 9] for 10 classes');
    expect((await rejection(dbn.fineTune(x, bad, { epochs: 1, classes: 10 }))).message).to.match(/labels\[4\] is 10/);
    await dbn.fitReadout(x, y, { epochs: 1, classes: 10 });
    expect((await rejection(dbn.fineTune(x, y, { epochs: 1, classes: 12 }))).message).to.match(/the read-out has 10 classes, fine-tuning was asked for 12/);
    expect((await rejection(dbn.accuracy(x, bad))).message).to.match(/labels\[4\] is 10/);
    expect(() => DBN.create(be32, { layers: [784] })).to.throw(InvalidValueError, /at least two layers/);
    const gaussian = DBN.create(be32, { layers: [784, { type: 'gaussian', size: 4, variance: 'learned' }], seed: 1 });
    expect((await rejection(gaussian.fineTune(x, y, { epochs: 1, classes: 10 }))).message).to.match(/fine-tuning needs hidden layers whose mean is f\(v W \+ bias\).*gaussian units/);
    dbn.dispose();
    gaussian.dispose();
  });
});
