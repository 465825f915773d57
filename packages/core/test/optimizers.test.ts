import { expect } from 'chai';
import { CounterRng, Matrix, ReferenceBackend, type Backend, type Tensor } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { Constant, L1WeightDecay, L2WeightDecay, LinearRamp, RBM, SGD, Trainer, defaultMomentum, toSchedule, type Hyperparameters, type ModelParameter, type Optimizer, type OptimizerSpec, type TrainerOptions } from '@boltzmann/core';

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

describe('L2 weight decay folded into the SGD step', function () {
  /** The same SGD, but without `takesDecay`: the trainer then runs the decay's own pass (a class: plain objects read as specs). */
  class Unfolded implements Optimizer {
    readonly type: string;
    constructor(readonly sgd: SGD) {
      this.type = sgd.type;
    }
    step(params: readonly ModelParameter[], grads: readonly Tensor[], hyper: Hyperparameters): void {
      this.sgd.step(params, grads, hyper);
    }
    spec(): OptimizerSpec {
      return this.sgd.spec();
    }
    state(): Record<string, Tensor> {
      return this.sgd.state();
    }
    loadState(state: Readonly<Record<string, Matrix>>): void {
      this.sgd.loadState(state);
    }
    dispose(): void {
      this.sgd.dispose();
    }
  }

  /** Takes decays and records what the trainer hands it. */
  class DecaySpy extends Unfolded {
    readonly takesDecay = true;
    readonly seen: (readonly number[] | undefined)[] = [];
    override step(params: readonly ModelParameter[], grads: readonly Tensor[], hyper: Hyperparameters, decays?: readonly number[]): void {
      this.seen.push(decays);
      this.sgd.step(params, grads, hyper, decays);
    }
  }

  /** The parameters' bits after 7 steps (batch 5) of an RBM 13 x 7 on random binary rows. */
  async function trainedBits(backend: Backend, options: { fold: boolean; nesterov: boolean; weightDecay?: number }): Promise<Float64Array[]> {
    const rbm = RBM.create(backend, { visible: 13, hidden: 7, seed: 3 });
    const sgd = new SGD(backend, rbm.parameters, { nesterov: options.nesterov });
    const trainer = new Trainer(rbm, {
      seed: 5,
      batchSize: 5,
      weightDecay: options.weightDecay ?? 0.01,
      optimizer: options.fold ? sgd : new Unfolded(sgd),
    });
    const data = new Matrix(35, 13, new Float64Array(35 * 13));
    new CounterRng(9).uniforms(data.data);
    for (let i = 0; i < data.data.length; i++) data.data[i] = data.data[i]! < 0.4 ? 1 : 0;
    await trainer.fit(data, { epochs: 1, monitor: { freeEnergy: false, pseudoLikelihood: false } });
    const bits = await Promise.all(rbm.parameters.map(async (p) => Float64Array.from((await backend.read(p.tensor)).data)));
    trainer.dispose();
    return bits;
  }

  for (const [label, make] of [['CpuBackend float32 (native passes where built)', () => new CpuBackend()], ['ReferenceBackend (float64, one axpby per pass)', () => new ReferenceBackend()]] as const) {
    for (const nesterov of [false, true]) {
      it(`${label}${nesterov ? ', Nesterov' : ''}: the same bits as the decay's own pass before the step`, async function () {
        const backend = make();
        const folded = await trainedBits(backend, { fold: true, nesterov });
        const separate = await trainedBits(backend, { fold: false, nesterov });
        folded.forEach((p, i) => expect(p.every((x, j) => Object.is(x, separate[i]![j])), `parameter ${i}`).to.equal(true));
        // And the decay is applied at all: without it the weights end elsewhere.
        const none = await trainedBits(backend, { fold: true, nesterov, weightDecay: 0 });
        expect(none[2]!.some((x, j) => x !== folded[2]![j]), 'weights without decay').to.equal(true);
        backend.destroy();
      });
    }
  }

  it('is handed to the optimizer only when it is the only regularizer adding to gradients', async function () {
    const rbm = RBM.create(be, { visible: 3, hidden: 2 });
    const data = Matrix.fromRows([[1, 0, 1], [0, 1, 1]]).toFloat64();
    /** What the trainer handed the optimizer in its last step. */
    const decaysSeen = async (options: Omit<TrainerOptions, 'optimizer'>): Promise<readonly number[] | undefined> => {
      const spy = new DecaySpy(new SGD(be, rbm.parameters));
      const trainer = new Trainer(rbm, { batchSize: 2, ...options, optimizer: spy });
      await trainer.fit(data, { epochs: 1, monitor: { freeEnergy: false, pseudoLikelihood: false } });
      trainer.dispose();
      return spy.seen.at(-1);
    };
    expect(await decaysSeen({ weightDecay: 0.01 })).to.deep.equal([0, 0, 0.01]); // visible bias, hidden bias, weights
    expect(await decaysSeen({ weightDecay: 0.01, regularizers: [new L1WeightDecay(0.001)] })).to.equal(undefined);
    expect(await decaysSeen({ weightDecay: 0 })).to.equal(undefined);
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
