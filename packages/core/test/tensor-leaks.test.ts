/**
 * Tensor accounting: every estimator, model, sampler and metric is run for a few steps (or
 * calls), and the backend's live-tensor count (Backend.memory) after warm-up must not change
 * from one step to the next - a step that forgets to dispose a tensor grows it by one per step.
 * Warm-up is there for lazily made scratch (workspace buffers, persistent chains).
 */
import { expect } from 'chai';
import { Matrix, rngState, type Backend, type Tensor } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import {
  Adam,
  BoltzmannMachine,
  ConditionalRBM,
  ContrastiveDivergence,
  DBM,
  DBN,
  Dropout,
  FreeEnergyMetric,
  GibbsModelSampler,
  GlauberModelSampler,
  L1WeightDecay,
  MaxNorm,
  MeanActivationMetric,
  MeanFieldPCD,
  ParallelDynamicsModelSampler,
  ParallelTempering,
  PseudoLikelihoodMetric,
  RBM,
  ReconstructionErrorMetric,
  RecommenderRBM,
  SGD,
  ScaledFieldCD,
  SparsityTarget,
  Trainer,
  UpdateNormMetric,
  WakeDream,
  WeightNormMetric,
  aisLogLikelihood,
  annealedImportanceSampling,
  exactLogLikelihood,
  exactLogPartition,
  logLikelihoodSandwich,
  logPartitionSandwich,
  reverseAnnealedImportanceSampling,
  pretrainDBM,
  pseudoLogLikelihood,
  variationalLowerBound,
  type EnergyModel,
  type Estimator,
  type Metric,
} from '@boltzmann/core';
import { randomBinary } from './helpers.js';

/**
 * Calls `step` `warmup` times, then `steps` more, and expects the live tensors and their bytes
 * after each of the later calls to equal those after warm-up.
 */
async function expectSteadyTensors(backend: Backend, step: (i: number) => unknown, { warmup = 2, steps = 3 } = {}): Promise<void> {
  for (let i = 0; i < warmup; i++) await step(i);
  const counts = [backend.memory()];
  for (let i = 0; i < steps; i++) {
    await step(warmup + i);
    counts.push(backend.memory());
  }
  const tensors = counts.map((m) => m.numTensors);
  const bytes = counts.map((m) => m.numBytes);
  expect(tensors, 'live tensors after warm-up, then after each further step').to.deep.equal(tensors.map(() => tensors[0]));
  expect(bytes, 'live bytes after warm-up, then after each further step').to.deep.equal(bytes.map(() => bytes[0]));
}

/** Calls `use` once and expects it to leave exactly the live tensors it found. */
async function expectNoNetTensors(backend: Backend, use: () => unknown): Promise<void> {
  const before = backend.memory();
  await use();
  expect(backend.memory(), 'live tensors and bytes before and after').to.deep.equal(before);
}

/** Expects the backend to hold no tensor: whoever made one has disposed it. */
function expectAllFreed(backend: Backend): void {
  expect(backend.memory(), 'live tensors and bytes once everything is disposed').to.deep.equal({ numTensors: 0, numBytes: 0 });
}

/** One training step by hand (the estimator, then plain SGD, as a trainer does) and what disposes its tensors. */
function estimatorStep(model: EnergyModel, estimator: Estimator, batch: Tensor): { step: () => Promise<void>; dispose: () => void } {
  const grads = model.createGradients();
  const optimizer = new SGD(model.backend, model.parameters);
  const rng = rngState(5);
  return {
    step: async () => {
      await estimator.computeGradients(batch, grads, rng);
      optimizer.step(model.parameters, grads.tensors, { learningRate: 0.05, momentum: 0.5 });
    },
    dispose: () => {
      for (const g of grads.tensors) model.backend.dispose(g);
      optimizer.dispose();
    },
  };
}

const data = randomBinary(24, 7, 11);
const quiet = { freeEnergy: false, pseudoLikelihood: false } as const;

describe('tensor accounting: a training step leaks no tensor, and disposing frees everything', function () {
  let be: CpuBackend;
  beforeEach(function () {
    be = new CpuBackend({ precision: 'float64' });
  });
  afterEach(function () {
    be.destroy();
  });

  describe('estimators (one step = gradients + SGD)', function () {
    const cases: Array<[string, (be: Backend) => { model: EnergyModel; estimator: Estimator }]> = [
      ['CD-1', (b) => rbmWith(b, (m) => new ContrastiveDivergence(m, { k: 1 }))],
      ['CD-3 sampling every layer', (b) => rbmWith(b, (m) => new ContrastiveDivergence(m, { k: 3, meanLayers: [], statistics: { visible: 'sample', hidden: 'sample' } }))],
      ['PCD-2 with 5 persistent chains', (b) => rbmWith(b, (m) => new ContrastiveDivergence(m, { k: 2, persistent: true, chains: 5 }))],
      ['CD-1 on Gaussian visible and ReLU hidden units', (b) => rbmWith(b, (m) => new ContrastiveDivergence(m, { k: 1 }), { visible: { type: 'gaussian', size: 7 }, hidden: { type: 'relu', size: 4 } })],
      ['parallel tempering, 3 temperatures', (b) => rbmWith(b, (m) => new ParallelTempering(m, { k: 1, chains: 6, betas: [1, 0.7, 0.4] }))],
      ['scaled-field CD', (b) => rbmWith(b, (m) => new ScaledFieldCD(m, { k: 1, upScale: 2, downScale: 1 }))],
      ['mean-field PCD (fixed iterations)', (b) => dbmWith(b, (m) => new MeanFieldPCD(m, { k: 1, chains: 6, maxIterations: 4, tolerance: 0 }))],
      ['mean-field PCD (convergence test read back)', (b) => dbmWith(b, (m) => new MeanFieldPCD(m, { k: 1, chains: 6, maxIterations: 10, tolerance: 1e-4 }))],
      ['wake/dream, exact expectations', (b) => bmWith(b, (m) => new WakeDream(m))],
      ['wake/dream, Gibbs expectations', (b) => bmWith(b, (m) => new WakeDream(m, { expectations: 'gibbs', chains: 8, sweeps: 2, clampedSweeps: 2 }))],
    ];
    for (const [name, make] of cases) {
      it(name, async function () {
        const { model, estimator } = make(be);
        const batch = be.upload(data.sliceRows(0, 8));
        const { step, dispose } = estimatorStep(model, estimator, batch);
        await expectSteadyTensors(be, step);
        dispose();
        estimator.dispose();
        be.dispose(batch);
        model.dispose();
        expectAllFreed(be);
      });
    }
  });

  describe('models, through their training entry points', function () {
    it('RBM: Trainer.trainStep with Adam, L1, max-norm, dropout and a sparsity target', async function () {
      const rbm = RBM.create(be, { visible: 7, hidden: 5, seed: 1, weightStd: 0.3 });
      const trainer = new Trainer(rbm, {
        optimizer: new Adam(be, rbm.parameters),
        regularizers: [new L1WeightDecay(1e-3), new MaxNorm(2), new Dropout({ hidden: 0.3 }), new SparsityTarget({ target: 0.1 })],
        batchSize: 8,
      });
      const batch = be.upload(data.sliceRows(0, 8));
      await expectSteadyTensors(be, () => trainer.trainStep(batch));
      trainer.dispose();
      be.dispose(batch);
      rbm.dispose();
      expectAllFreed(be);
    });

    it('RBM: Trainer.partialFit', async function () {
      const rbm = RBM.create(be, { visible: 7, hidden: 5, seed: 1, weightStd: 0.3 });
      const trainer = new Trainer(rbm, { estimator: { type: 'pcd', k: 1 }, batchSize: 8 });
      await expectSteadyTensors(be, (i) => trainer.partialFit(data.sliceRows(i % 3, (i % 3) + 8)));
      trainer.dispose();
      rbm.dispose();
      expectAllFreed(be);
    });

    it('RBM: Trainer.fit, one epoch per step, every epoch metric and a validation set', async function () {
      const rbm = RBM.create(be, { visible: 7, hidden: 5, seed: 1, weightStd: 0.3 });
      const trainer = new Trainer(rbm, { batchSize: 5 });
      await expectSteadyTensors(be, () => trainer.fit(data, { epochs: 1, validation: data.sliceRows(0, 9), monitor: { freeEnergy: true, pseudoLikelihood: true } }));
      trainer.dispose();
      rbm.dispose();
      expectAllFreed(be);
    });

    it('DBM: Trainer.fit with mean-field PCD', async function () {
      const dbm = DBM.create(be, { layers: [7, 5, 3], seed: 2, weightStd: 0.3 });
      const trainer = new Trainer(dbm, { estimator: new MeanFieldPCD(dbm, { k: 1, chains: 6, tolerance: 1e-4 }), batchSize: 6 });
      await expectSteadyTensors(be, () => trainer.fit(data, { epochs: 1, monitor: quiet }));
      trainer.dispose();
      dbm.dispose();
      expectAllFreed(be);
    });

    it('DBM: greedy pretraining gives back only the DBM and the RBMs it returns', async function () {
      await expectNoNetTensors(be, async () => {
        const { dbm, rbms } = await pretrainDBM(be, data, { layers: [7, 5, 3], epochs: 1, trainer: { batchSize: 6 }, monitor: quiet });
        dbm.dispose();
        for (const r of rbms) r.dispose();
      });
      expectAllFreed(be);
    });

    it('DBN: pretraining, read-out training and fine-tuning', async function () {
      const dbn = DBN.create(be, { layers: [7, 5, 4], seed: 3, weightStd: 0.3 });
      const labels = Int32Array.from({ length: data.rows }, (_, i) => i % 3);
      await expectSteadyTensors(be, async () => {
        await dbn.pretrain(data, { epochs: 1, trainer: { batchSize: 6 }, monitor: quiet });
        await dbn.fitReadout(data, labels, { epochs: 1, batchSize: 6 });
        await dbn.fineTune(data, labels, { epochs: 1, batchSize: 6 });
        await dbn.predict(data);
      });
      dbn.dispose();
      expectAllFreed(be);
    });

    it('fully connected Boltzmann machine: Trainer.fit with wake/dream', async function () {
      const bm = BoltzmannMachine.create(be, { visible: 7, hidden: 2, seed: 4, weightStd: 0.3 });
      const trainer = new Trainer(bm, { estimator: new WakeDream(bm, { expectations: 'gibbs', chains: 8, sweeps: 2, clampedSweeps: 2 }), batchSize: 8 });
      await expectSteadyTensors(be, () => trainer.fit(data, { epochs: 1, monitor: quiet }));
      trainer.dispose();
      bm.dispose();
      expectAllFreed(be);
    });

    it('fully connected Boltzmann machine: the Trainer with wake/dream', async function () {
      const bm = BoltzmannMachine.create(be, { visible: 5, hidden: 2, seed: 4, weightStd: 0.3 });
      const trainer = new Trainer(bm, { estimator: { type: 'wake-dream' }, batchSize: 8, seed: 1, initVisibleBiasFromData: false });
      await expectSteadyTensors(be, () => trainer.fit(firstColumns(data, 5), { epochs: 1 }));
      trainer.dispose();
      bm.dispose();
      expectAllFreed(be);
    });

    it('conditional RBM: fit, one epoch per step, then prediction and generation', async function () {
      const crbm = ConditionalRBM.create(be, { visible: 3, hidden: 4, order: 2, seed: 5, weightStd: 0.3 });
      const sequences = [randomBinary(9, 3, 1), randomBinary(7, 3, 2)];
      await expectSteadyTensors(be, async () => {
        await crbm.fit(sequences, { epochs: 1, batchSize: 4 });
        await crbm.predictNext(Matrix.fromRows([[1, 0, 1, 0, 1, 1]]));
        await crbm.generate(sequences[0]!.sliceRows(0, 2), 3, { mode: 'sample', seed: 1 });
      });
      crbm.dispose();
      expectAllFreed(be);
    });

    it('recommender RBM: fit with a validation set, one epoch per step, then prediction', async function () {
      const rbm = RecommenderRBM.create(be, { items: 6, levels: [1, 2, 3], hidden: 4, seed: 6, weightStd: 0.3 });
      const ratings = { users: [0, 0, 1, 1, 2, 2, 2, 3, 4, 4], items: [0, 3, 1, 5, 0, 2, 4, 3, 1, 2], ratings: [1, 3, 2, 2, 3, 1, 1, 2, 3, 3] };
      const validation = { users: [0, 1, 2], items: [1, 0, 5], ratings: [2, 1, 3] };
      await expectSteadyTensors(be, async () => {
        await rbm.fit(ratings, { epochs: 1, batchSize: 2, validation });
        await rbm.predict(ratings, validation);
      });
      rbm.dispose();
      expectAllFreed(be);
    });
  });

  describe('a refusal leaves no tensor behind', function () {
    it('Trainer options refused after the estimator or the optimizer was built', async function () {
      const rbm = RBM.create(be, { visible: 7, hidden: 5, seed: 1 });
      const refused = [
        { estimator: { type: 'pt' }, regularizers: [new Dropout({ hidden: 0.5 })] },
        { estimator: { type: 'pcd', chains: 3 }, optimizer: { type: 'no-such-optimizer' } },
        { estimator: { type: 'pt' }, optimizer: { type: 'adam', beta1: 7 } },
      ];
      for (const options of refused) await expectNoNetTensors(be, () => expect(() => new Trainer(rbm, options)).to.throw());
      rbm.dispose();
      expectAllFreed(be);
    });

    it('AIS from the base rates without data', async function () {
      const rbm = RBM.create(be, { visible: 7, hidden: 5, seed: 1 });
      await expectNoNetTensors(be, async () => {
        const refused = await annealedImportanceSampling(rbm, { start: 'base-rate', betas: 5, runs: 3 }).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(refused?.message).to.match(/base-rate" start needs the data/);
      });
      rbm.dispose();
      expectAllFreed(be);
    });
  });

  describe('samplers and metrics used in training and evaluation', function () {
    it('each Metric: update, value, reset', async function () {
      const rbm = RBM.create(be, { visible: 7, hidden: 5, seed: 1, weightStd: 0.3 });
      const batch = be.upload(data.sliceRows(0, 8));
      const metrics: Metric[] = [
        new FreeEnergyMetric(rbm),
        new PseudoLikelihoodMetric(rbm, { seed: 1 }),
        new ReconstructionErrorMetric(rbm, { seed: 1 }),
        new MeanActivationMetric(rbm),
        new WeightNormMetric(rbm),
        new UpdateNormMetric(rbm),
      ];
      for (const metric of metrics) {
        await expectSteadyTensors(be, async () => {
          metric.reset();
          if (metric instanceof UpdateNormMetric) metric.beforeStep();
          metric.update(batch);
          await metric.value();
        });
        metric.dispose();
      }
      be.dispose(batch);
      rbm.dispose();
      expectAllFreed(be);
    });

    it('metrics and training steps on batches of ever new sizes (a stream) keep a bounded set of scratch tensors', async function () {
      const rbm = RBM.create(be, { visible: 7, hidden: 5, seed: 1, weightStd: 0.3 });
      const metrics = [new ReconstructionErrorMetric(rbm, { seed: 1 }), new MeanActivationMetric(rbm), new FreeEnergyMetric(rbm)];
      const trainer = new Trainer(rbm, { batchSize: 8 });
      const rows = randomBinary(60, 7, 12);
      // The workspace keeps scratch for the most recent row counts and frees the older ones in
      // bursts, so the count cycles: compare the highest count of successive windows of steps.
      const highest: number[] = [];
      for (let window = 0, size = 10; window < 4; window++) {
        let most = 0;
        for (let i = 0; i < 10; i++, size++) {
          const batch = be.upload(rows.sliceRows(0, size));
          for (const metric of metrics) metric.update(batch);
          await trainer.trainStep(batch);
          be.dispose(batch);
          most = Math.max(most, be.memory().numTensors);
        }
        highest.push(most);
      }
      expect(highest.slice(1), 'the most live tensors in each window of 10 steps after the first').to.deep.equal([highest[1], highest[1], highest[1]]);
      for (const metric of metrics) metric.dispose();
      trainer.dispose();
      rbm.dispose();
      expectAllFreed(be);
    });

    it('the model samplers (Gibbs, Glauber, parallel dynamics)', async function () {
      const rbm = RBM.create(be, { visible: 7, hidden: 5, seed: 1, weightStd: 0.3 });
      for (const sampler of [new GibbsModelSampler(rbm), new GlauberModelSampler(rbm), new ParallelDynamicsModelSampler(rbm)]) {
        await expectSteadyTensors(be, () => sampler.sample({ count: 4, sweeps: 2 }));
      }
      const bm = BoltzmannMachine.create(be, { visible: 5, hidden: 2, seed: 4, weightStd: 0.3 });
      await expectSteadyTensors(be, () => bm.sample(4, { sweeps: 2 }));
      rbm.dispose();
      bm.dispose();
      expectAllFreed(be);
    });

    it('RBM and DBM inference: transform, reconstruct, sample', async function () {
      const rbm = RBM.create(be, { visible: 7, hidden: 5, seed: 1, weightStd: 0.3 });
      await expectSteadyTensors(be, async () => {
        await rbm.transform(data);
        await rbm.reconstruct(data);
        await rbm.sample(3, { steps: 2 });
        await rbm.freeEnergyOf(data);
        await rbm.scoreSamples(data);
      });
      const dbm = DBM.create(be, { layers: [7, 5, 3], seed: 2, weightStd: 0.3 });
      await expectSteadyTensors(be, async () => {
        await dbm.transform(data);
        await dbm.reconstruct(data);
        await dbm.sample(3, { steps: 2 });
      });
      rbm.dispose();
      dbm.dispose();
      expectAllFreed(be);
    });

    it('likelihood estimates: exact, pseudo-likelihood, AIS, the variational bound', async function () {
      const rbm = RBM.create(be, { visible: 7, hidden: 5, seed: 1, weightStd: 0.3 });
      const dbm = DBM.create(be, { layers: [7, 5, 3], seed: 2, weightStd: 0.3 });
      await expectSteadyTensors(be, async () => {
        await exactLogLikelihood(rbm, data);
        await pseudoLogLikelihood(rbm, data, { seed: 1 });
        await annealedImportanceSampling(rbm, { betas: 20, runs: 5, seed: 1 });
        await annealedImportanceSampling(dbm, { betas: 20, runs: 5, seed: 1 });
        await aisLogLikelihood(rbm, data, { betas: 20, runs: 5, seed: 1 });
        await variationalLowerBound(dbm, data, { logZ: 0 });
        await reverseAnnealedImportanceSampling(rbm, data, { betas: 20, seed: 1 });
        await logLikelihoodSandwich(rbm, data, await logPartitionSandwich(rbm, { baseRate: data, betas: 20, runs: 5, seed: 1 }));
        await exactLogLikelihood(dbm, data);
        await exactLogPartition(rbm, { pairs: false });
      });
      rbm.dispose();
      dbm.dispose();
      expectAllFreed(be);
    });
  });
});

function rbmWith(b: Backend, make: (m: RBM) => Estimator, layers: Partial<Parameters<typeof RBM.create>[1]> = {}): { model: EnergyModel; estimator: Estimator } {
  const model = RBM.create(b, { visible: 7, hidden: 5, seed: 1, weightStd: 0.3, ...layers });
  return { model, estimator: make(model) };
}

function dbmWith(b: Backend, make: (m: DBM) => Estimator): { model: EnergyModel; estimator: Estimator } {
  const model = DBM.create(b, { layers: [7, 5, 3], seed: 2, weightStd: 0.3 });
  return { model, estimator: make(model) };
}

function bmWith(b: Backend, make: (m: BoltzmannMachine) => Estimator): { model: EnergyModel; estimator: Estimator } {
  const model = BoltzmannMachine.create(b, { visible: 7, hidden: 2, seed: 4, weightStd: 0.3 });
  return { model, estimator: make(model) };
}

function firstColumns(m: Matrix, cols: number): Matrix {
  return Matrix.fromRows(m.toArray().map((row) => row.slice(0, cols)));
}
