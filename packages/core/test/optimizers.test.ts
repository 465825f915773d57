import { expect } from 'chai';
import { Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { Constant, L2WeightDecay, LinearRamp, RBM, SGD, Trainer, defaultMomentum, toSchedule, type ModelParameter } from '@boltzmann/core';

const be = new ReferenceBackend();

function param(values: number[]): ModelParameter {
  return { name: 'p.weights', owner: 'p', role: 'weights', tensor: be.upload(new Matrix(1, values.length, Float64Array.from(values))) };
}

describe('SGD with momentum', function () {
  it('v <- m*v - lr*g; w <- w + v (the stored step is not multiplied by lr again)', function () {
    const p = param([1, -2, 0.5]);
    const sgd = new SGD(be, [p]);
    const grads = [[0.5, 1, -1], [0.25, -0.5, 2], [0, 0, 0]];
    const hyper = [{ learningRate: 0.1, momentum: 0.5 }, { learningRate: 0.2, momentum: 0.9 }, { learningRate: 0.3, momentum: 0.9 }];
    let w = [1, -2, 0.5];
    let v = [0, 0, 0];
    grads.forEach((g, t) => {
      sgd.step([p], [be.upload(new Matrix(1, 3, Float64Array.from(g)))], hyper[t]!);
      v = v.map((vi, i) => hyper[t]!.momentum * vi - hyper[t]!.learningRate * g[i]!);
      w = w.map((wi, i) => wi + v[i]!);
      Array.from(be.readSync(p.tensor).data).forEach((x, i) => expect(x).to.be.closeTo(w[i]!, 1e-15));
    });
    // After a zero gradient the weights keep moving by m*v: with the lr-twice bug they would move by lr*m*v.
    expect(be.readSync(sgd.state()['velocity:p.weights']!).data[0]).to.be.closeTo(v[0]!, 1e-15);
  });

  it('Nesterov: w <- w + m*v_new - lr*g', function () {
    const p = param([1, 2]);
    const sgd = new SGD(be, [p], { nesterov: true });
    const g = be.upload(new Matrix(1, 2, Float64Array.from([1, -1])));
    sgd.step([p], [g], { learningRate: 0.1, momentum: 0.9 });
    sgd.step([p], [g], { learningRate: 0.1, momentum: 0.9 });
    // v1 = -0.1g, w1 = w0 + 0.9 v1 - 0.1 g = w0 - 0.19 g; v2 = 0.9 v1 - 0.1 g = -0.19 g; w2 = w1 + 0.9 v2 - 0.1 g = w0 - 0.461 g
    const w = be.readSync(p.tensor).data;
    expect(w[0]).to.be.closeTo(1 - 0.461, 1e-15);
    expect(w[1]).to.be.closeTo(2 + 0.461, 1e-15);
  });

  it('L2 weight decay adds coefficient * w to the weights gradient only', function () {
    const rbm = RBM.create(be, { visible: 2, hidden: 2, weightStd: 1 });
    rbm.setParams({
      'visible.bias': Matrix.fromRows([[1, 1]]).toFloat64(),
      'hidden.bias': Matrix.fromRows([[1, 1]]).toFloat64(),
      'visible-hidden.weights': Matrix.fromRows([[1, -2], [3, 0.5]]).toFloat64(),
    });
    const grads = rbm.createGradients();
    new L2WeightDecay(0.1).addGradient({ model: rbm, grads });
    const [gb, gc, gw] = grads.tensors.map((t) => Array.from(be.readSync(t).data));
    expect(gb).to.deep.equal([0, 0]);
    expect(gc).to.deep.equal([0, 0]);
    expect(gw).to.deep.equal([0.1, -0.2, 0.30000000000000004, 0.05]);
  });
});

describe('schedules', function () {
  it('constant and linear ramps (epochs or steps), and the default momentum 0.5 then 0.9', function () {
    expect(new Constant(0.05).value()).to.equal(0.05);
    const ramp = new LinearRamp({ from: 1, to: 0, start: 2, end: 6 });
    expect([0, 2, 3, 4, 6, 9].map((epoch) => ramp.value({ epoch, step: 0 }))).to.deep.equal([1, 1, 0.75, 0.5, 0, 0]);
    const steps = new LinearRamp({ from: 0, to: 10, end: 10, unit: 'step' });
    expect(steps.value({ epoch: 0, step: 3 })).to.equal(3);
    const m = defaultMomentum();
    expect([0, 1, 5, 20].map((epoch) => m.value({ epoch, step: 0 }))).to.deep.equal([0.5, 0.9, 0.9, 0.9]);
    expect(toSchedule(m.spec(), 'momentum').value({ epoch: 1, step: 0 })).to.equal(0.9);
    expect(() => new LinearRamp({ from: 0, to: 1, start: 5, end: 2 })).to.throw(/end/);
    expect(() => toSchedule(NaN, 'learningRate')).to.throw(/learningRate/);
  });

  it('the trainer steps with the scheduled values', async function () {
    const rbm = RBM.create(be, { visible: 2, hidden: 1 });
    const trainer = new Trainer(rbm, { learningRate: { type: 'linear', from: 0.1, to: 0.01, end: 2 }, batchSize: 1 });
    const data = Matrix.fromRows([[1, 0], [0, 1]]).toFloat64();
    const reports = await trainer.fit(data, { epochs: 3 });
    expect(reports.map((r) => r.learningRate)).to.deep.equal([0.1, 0.055, 0.01]);
    expect(reports.map((r) => r.momentum)).to.deep.equal([0.5, 0.9, 0.9]);
    expect(reports.map((r) => r.step)).to.deep.equal([2, 4, 6]);
  });
});
