import { expect } from 'chai';
import { CounterRng, Matrix, ReferenceBackend, rngState, type Backend, type Tensor } from '@boltzmann/tensor';
import { CpuBackend, nativeElementwise } from '@boltzmann/backend-cpu';
import {
  BernoulliLayer,
  ContrastiveDivergence,
  DenseConnection,
  EnergyModel,
  GaussianLayer,
  GibbsSampler,
  LateralConnection,
  MultinomialLayer,
  RBM,
  ReLULayer,
  Trainer,
  type EpochReport,
  type TrainerOptions,
  type UnitLayer,
} from '@boltzmann/core';
import { matrix64, randomBinary } from './helpers.js';

/** Every backend a fused mean must agree on, bit for bit, with the unfused one. */
const backends: [string, () => Backend][] = [
  ['reference (float64)', () => new ReferenceBackend()],
  ['cpu float64', () => new CpuBackend({ precision: 'float64' })],
  ['cpu float32, TypeScript element-wise', () => new CpuBackend({ precision: 'float32', elementwise: 'typescript' })],
  ...(nativeElementwise() === undefined ? [] : [['cpu float32, native element-wise', () => new CpuBackend({ precision: 'float32' })] as [string, () => Backend]]),
];

const dense = (be: Backend, name: string, from: BernoulliLayer | GaussianLayer | MultinomialLayer | ReLULayer, to: BernoulliLayer | GaussianLayer | MultinomialLayer | ReLULayer, seed = 1) =>
  new DenseConnection(be, name, from, to, { std: 0.5, rng: new CounterRng(seed) });

/** Hides the dense connection's fused op, so every sampler and estimator on `model` takes the unfused path. */
function unfuse(model: EnergyModel): EnergyModel {
  for (const c of model.connections) Object.defineProperty(c, 'addActivatedField', { value: undefined });
  return model;
}

function host(be: Backend, t: Tensor): number[] {
  return Array.from(be.readSync(t).data);
}

describe('fused means (UnitLayer.meanActivation, GibbsOptions.fuseMeans)', function () {
  it('fuses only a layer whose mean is an activation and whose input is one dense connection plus its bias', function () {
    const be = new ReferenceBackend();
    const v = new BernoulliLayer(be, { name: 'v', size: 4 });
    const h = new BernoulliLayer(be, { name: 'h', size: 3 });
    const rbm = new EnergyModel(be, [v, h], [dense(be, 'vh', v, h)]);
    expect([rbm.fusesMean(0), rbm.fusesMean(1)]).to.deep.equal([true, true]);

    // DBM-like chain: the middle layer has two connections.
    const a = new BernoulliLayer(be, { name: 'a', size: 4 });
    const b = new BernoulliLayer(be, { name: 'b', size: 3 });
    const c = new BernoulliLayer(be, { name: 'c', size: 2 });
    const chain = new EnergyModel(be, [a, b, c], [dense(be, 'ab', a, b), dense(be, 'bc', b, c)]);
    expect([0, 1, 2].map((l) => chain.fusesMean(l))).to.deep.equal([true, false, true]);

    // Lateral weights: the layer's input is not one product.
    const x = new BernoulliLayer(be, { name: 'x', size: 3 });
    const y = new BernoulliLayer(be, { name: 'y', size: 2 });
    const lateral = new EnergyModel(be, [x, y], [dense(be, 'xy', x, y), new LateralConnection(be, 'xx', x, x, { std: 0.5, rng: new CounterRng(2) })]);
    expect([lateral.fusesMean(0), lateral.fusesMean(1)]).to.deep.equal([false, true]);

    // Other unit types (their mean is no activation of the input, or their sample needs the input).
    const g = new GaussianLayer(be, { type: 'gaussian', name: 'g', size: 3 });
    const m = new MultinomialLayer(be, { type: 'multinomial', name: 'm', size: 4, groupSize: 2 });
    const r = new ReLULayer(be, { type: 'relu', name: 'r', size: 2 });
    const hb = new BernoulliLayer(be, { name: 'hb', size: 2 });
    const mixed = new EnergyModel(be, [g, hb, m, r], []);
    for (const layer of [g, m, r] as UnitLayer[]) expect(layer.meanActivation, layer.type).to.equal(undefined);
    expect(hb.meanActivation).to.equal('sigmoid');
    expect([0, 1, 2, 3].map((l) => mixed.fusesMean(l)), 'a layer without connections').to.deep.equal([false, false, false, false]);
    const gauss = new EnergyModel(be, [g, r], [dense(be, 'gr', g, r)]);
    expect([gauss.fusesMean(0), gauss.fusesMean(1)]).to.deep.equal([false, false]);

    expect(() => chain.computeMean(1, [undefined, undefined, undefined], be.zeros(2, 3))).to.throw(/layer "b" cannot be fused/);
    expect(() => rbm.computeMean(1, [undefined, undefined], be.zeros(2, 3))).to.throw(/needs a state for layer "v"/);
    expect(() => rbm.fusesMean(5)).to.throw(/no layer 5/);
    expect(() => new GibbsSampler(rbm, { fuseMeans: 'yes' as unknown as boolean })).to.throw(/"fuseMeans" must be true or false/);
  });

  for (const [name, make] of backends) {
    it(`a fused update equals the unfused one bit for bit and the float64 sigmoid(v W + c), leaving the input unwritten: ${name}`, function () {
      const be = make();
      const rbm = RBM.create(be, { visible: 7, hidden: 5, weightStd: 1, seed: 4 });
      rbm.setParams({ 'hidden.bias': matrix64([[0.3, -1.2, 2, 0, -0.4]]), 'visible.bias': matrix64([[1, -1, 0.5, -0.5, 0.25, 0, 2]]) }, { partial: true });
      const fused = new GibbsSampler(rbm, { meanLayers: ['visible'], fuseMeans: true });
      const plain = new GibbsSampler(rbm, { meanLayers: ['visible'] });
      expect([fused.fusesMean(0), fused.fusesMean(1), plain.fusesMean(1)]).to.deep.equal([true, true, false]);
      const data = be.upload(randomBinary(9, 7, 3));
      const cf = fused.createChain(9);
      const cp = plain.createChain(9);
      be.copy(data, cf.states[0]!);
      be.copy(data, cp.states[0]!);
      const rf = rngState(8, 1);
      const rp = rngState(8, 1);
      for (let sweep = 0; sweep < 3; sweep++) {
        fused.updateBlock(cf, 1, rf);
        plain.updateBlock(cp, 1, rp);
        fused.updateBlock(cf, 0, rf);
        plain.updateBlock(cp, 0, rp);
        for (const l of [0, 1]) {
          expect(host(be, cf.means[l]!), `means of layer ${l}, sweep ${sweep}`).to.deep.equal(host(be, cp.means[l]!));
          expect(host(be, cf.states[l]!), `states of layer ${l}, sweep ${sweep}`).to.deep.equal(host(be, cp.states[l]!));
        }
        expect(rf.counter).to.equal(rp.counter);
      }
      expect(host(be, cf.inputs[1]!).every((x) => x === 0), 'the fused chain never wrote the hidden input').to.equal(true);
      expect(host(be, cp.inputs[1]!).some((x) => x !== 0)).to.equal(true);

      // Against plain float64 loops: hidden mean = sigmoid(v W + c) at the chain's visible state.
      const p = rbm.getParams();
      return p.then((params) => {
        const W = params['visible-hidden.weights']!;
        const c = params['hidden.bias']!.data;
        const v = host(be, cf.states[0]!);
        fused.updateBlock(cf, 1, rf);
        const got = host(be, cf.means[1]!);
        const tol = be.precision === 'float64' ? 1e-14 : 2e-6;
        for (let r = 0; r < 9; r++) {
          for (let j = 0; j < 5; j++) {
            let s = c[j]!;
            for (let i = 0; i < 7; i++) s += v[r * 7 + i]! * W.data[i * 5 + j]!;
            expect(got[r * 5 + j]!, `mean (${r}, ${j})`).to.be.closeTo(1 / (1 + Math.exp(-s)), tol);
          }
        }
      });
    });
  }

  const configurations: [string, TrainerOptions][] = [
    ['CD-1', { batchSize: 10 }],
    ['PCD-2 with dropout', { batchSize: 10, estimator: { type: 'pcd', k: 2 }, regularizers: [{ type: 'dropout', visible: 0.2, hidden: 0.5 }] }],
    ['CD-2, sampled hidden statistics', { batchSize: 10, estimator: { type: 'cd', k: 2, statistics: { hidden: 'sample' } } }],
  ];
  for (const [name, make] of backends) {
    for (const [what, options] of configurations) {
      it(`the Trainer (${what}) trains bit-identically with and without fusion: ${name}`, async function () {
        const data = randomBinary(40, 12, 5);
        const run = async (fuse: boolean): Promise<{ params: Record<string, Matrix>; reports: EpochReport[] }> => {
          const be = make();
          const rbm = RBM.create(be, { visible: 12, hidden: 6, weightStd: 0.3, seed: 2 });
          if (!fuse) unfuse(rbm);
          const trainer = new Trainer(rbm, { ...options, seed: 3 });
          const sampler = (trainer.estimator as ContrastiveDivergence).sampler;
          expect([sampler.fusesMean(0), sampler.fusesMean(1)], 'CD fuses the means of its own chains').to.deep.equal([fuse, fuse]);
          const reports = await trainer.fit(data, { epochs: 3 });
          return { params: await rbm.getParams(), reports };
        };
        const fused = await run(true);
        const plain = await run(false);
        for (const key of Object.keys(plain.params)) {
          expect(Array.from(fused.params[key]!.data), key).to.deep.equal(Array.from(plain.params[key]!.data));
        }
        const strip = (r: EpochReport) => ({ ...r, seconds: 0 });
        expect(fused.reports.map(strip)).to.deep.equal(plain.reports.map(strip));
        expect(fused.reports[2]!.reconstructionError).to.be.a('number').and.be.greaterThan(0);
      });
    }
  }
});
