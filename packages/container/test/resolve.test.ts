/**
 * Resolving a spec into objects: the model and trainer match the spec (weights from the seed
 * as RBM.create draws them), the seeded split, extra metrics against a float64 host
 * computation, resuming, and every resolution error with its field path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { SpecError, createContainer, loadRunData, resolveRun, scoreExtraMetrics, validateSpec, type BoltzmannContainer, type Dataset, type ResolvedRun } from '@boltzmann/container';
import { ParallelTempering, RBM, saveModel } from '@boltzmann/core';
import { defaultStoppingMetric } from '@boltzmann/pipeline';
import type { Matrix } from '@boltzmann/tensor';

describe('container: resolution', function () {
  let container: BoltzmannContainer;
  let dir: string;

  before(async function () {
    container = await createContainer({ optionalBackends: false });
    dir = mkdtempSync(join(tmpdir(), 'boltzmann-resolve-'));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A tiny run: 3x3 bars and stripes (100 drawn), 9 x 5 RBM. */
  function tinySpec(extra: Record<string, unknown> = {}) {
    return validateSpec(
      {
        model: { layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'hidden', size: 5 }], weightStd: 0.1 },
        training: { epochs: 4, batchSize: 10, estimator: { type: 'cd', k: 2 }, regularizers: [{ type: 'l2', coefficient: 0.001 }], ...((extra['training'] as object) ?? {}) },
        data: { source: { type: 'bars-and-stripes', size: 3, count: 100 }, validationSplit: 0.25, ...((extra['data'] as object) ?? {}) },
        seed: 7,
        ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'training' && k !== 'data')),
      },
      container.catalog,
    );
  }

  async function specError(p: Promise<unknown>): Promise<SpecError> {
    try {
      const run = (await p) as ResolvedRun;
      run.dispose();
    } catch (error) {
      expect(error).to.be.instanceOf(SpecError);
      return error as SpecError;
    }
    expect.fail('expected a SpecError');
  }

  /** A 9-4-3 DBM with Bernoulli units. */
  const DBM_MODEL = {
    kind: 'dbm',
    layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'h1', size: 4 }, { type: 'bernoulli', name: 'h2', size: 3 }],
    connections: [{ type: 'dense', name: 'v-h1', from: 'visible', to: 'h1' }, { type: 'dense', name: 'h1-h2', from: 'h1', to: 'h2' }],
  };

  const rowKeys = (m: Matrix) => Array.from({ length: m.rows }, (_, r) => Array.from(m.row(r)).join(''));

  describe('resolving a spec', function () {
    it('builds the model and trainer the spec describes, weights drawn from the seed', async function () {
      const run = await resolveRun(container, tinySpec());
      try {
        expect(run.model).to.be.instanceOf(RBM);
        expect(run.model.layers.map((l) => [l.type, l.name, l.size])).to.deep.equal([['bernoulli', 'visible', 9], ['bernoulli', 'hidden', 5]]);
        expect(run.backend.name).to.equal('cpu');
        const reference = RBM.create(new CpuBackend(), { visible: 9, hidden: 5, weightStd: 0.1, seed: 7 });
        const want = await reference.getParams();
        const got = await run.model.getParams();
        expect(Array.from(got['visible-hidden.weights']!.data)).to.deep.equal(Array.from(want['visible-hidden.weights']!.data));
        const c = run.trainer.config;
        expect(c.batchSize).to.equal(10);
        expect(c.seed).to.equal(7);
        expect(c.estimator).to.deep.include({ type: 'cd', k: 2 });
        expect(c.regularizers.map((r) => [r.type, r['coefficient']])).to.deep.equal([['l2', 1e-4], ['l2', 0.001]]);
        expect(c.momentum).to.deep.equal({ type: 'constant', value: 0.5 });
        expect(run.remainingEpochs).to.equal(4);
        expect(run.resumed).to.equal(false);
      } finally {
        run.dispose();
      }
    });

    it('splits the rows with the seed: a quarter held out, nothing lost, the same split for the same seed', async function () {
      const a = await loadRunData(container, tinySpec());
      const b = await loadRunData(container, tinySpec());
      const c = await loadRunData(container, tinySpec({ seed: 8 }));
      expect([a.train.rows, a.validation!.rows]).to.deep.equal([75, 25]);
      expect(rowKeys(a.validation!)).to.deep.equal(rowKeys(b.validation!));
      expect(rowKeys(a.validation!)).to.not.deep.equal(rowKeys(c.validation!));
      // The seed also draws the 100 patterns, so compare a's rows with its own source.
      const all = await container.catalog.factory('dataSource', 'bars-and-stripes')({ type: 'bars-and-stripes', size: 3, count: 100 }, { seed: 7, baseDir: dir, columns: 9 }) as Dataset;
      expect([...rowKeys(a.train), ...rowKeys(a.validation!)].sort()).to.deep.equal(rowKeys(all.data).sort());
      expect(a.imageShape).to.deep.equal([3, 3]);
      const limited = await loadRunData(container, tinySpec({ data: { limit: 41 } }));
      expect([limited.train.rows, limited.validation!.rows]).to.deep.equal([31, 10]);
      const none = await loadRunData(container, tinySpec({ data: { validationSplit: 0 } }));
      expect([none.train.rows, none.validation]).to.deep.equal([100, undefined]);
    });

    it('a metric with options is scored apart from the trainer, on both sets, matching a float64 computation', async function () {
      const run = await resolveRun(container, tinySpec({ training: { metrics: ['freeEnergy', { name: 'meanHiddenActivation', layer: 'hidden' }] } }));
      try {
        expect(run.monitor).to.deep.equal({ freeEnergy: true, pseudoLikelihood: false, rows: 1000 });
        expect(run.extraMetrics.map((m) => m.name)).to.deep.equal(['meanHiddenActivation']);
        expect(run.extraMetrics[0]!.heldOut).to.not.equal(undefined);
        const p = await run.model.getParams();
        const w = p['visible-hidden.weights']!;
        const c = p['hidden.bias']!;
        const v = run.data.validation!;
        let sum = 0;
        for (let r = 0; r < v.rows; r++) {
          for (let j = 0; j < 5; j++) {
            let x = c.data[j]!;
            for (let i = 0; i < 9; i++) x += v.data[r * 9 + i]! * w.data[i * 5 + j]!;
            sum += 1 / (1 + Math.exp(-x));
          }
        }
        const scored = await scoreExtraMetrics(run, v);
        expect(scored['meanHiddenActivation']).to.be.closeTo(sum / (v.rows * 5), 1e-6);
      } finally {
        run.dispose();
      }
    });

    it('listed metrics the model cannot give are skipped with the reason (Gaussian visible units: no pseudo-likelihood)', async function () {
      const spec = tinySpec();
      spec.model.layers[0] = { type: 'gaussian', name: 'visible', size: 9 };
      expect(spec.training.metrics).to.include('pseudoLogLikelihood');
      const run = await resolveRun(container, spec);
      try {
        expect(run.monitor).to.deep.equal({ freeEnergy: true, pseudoLikelihood: false, rows: 1000 });
        expect(run.skippedMetrics.map((m) => m.name)).to.deep.equal(['pseudoLogLikelihood']);
        expect(run.skippedMetrics[0]!.reason).to.match(/flips binary units.*layer "visible" holds gaussian units/);
        const [r] = await run.trainer.fit(run.data.train, { epochs: 1, monitor: run.monitor, validation: run.data.validation! });
        expect(r!.pseudoLogLikelihood).to.equal(undefined);
        expect(r!.freeEnergy!.validation).to.satisfy(Number.isFinite);
      } finally {
        run.dispose();
      }
    });

    it('a DBM with the default metrics trains: free energy and pseudo-likelihood skipped; asking for them with options names the connection', async function () {
      const model = {
        kind: 'dbm',
        layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'h1', size: 4 }, { type: 'bernoulli', name: 'h2', size: 3 }],
        connections: [{ type: 'dense', name: 'v-h1', from: 'visible', to: 'h1' }, { type: 'dense', name: 'h1-h2', from: 'h1', to: 'h2' }],
      };
      const run = await resolveRun(container, tinySpec({ model, training: { estimator: { type: 'mean-field-pcd' } } }));
      try {
        expect(run.monitor).to.deep.include({ freeEnergy: false, pseudoLikelihood: false });
        expect(run.skippedMetrics.map((m) => m.name)).to.deep.equal(['freeEnergy', 'pseudoLogLikelihood']);
        expect(run.skippedMetrics[0]!.reason).to.match(/connection "h1-h2" joins layers "h1" and "h2"/);
        const [r] = await run.trainer.fit(run.data.train, { epochs: 1, monitor: run.monitor });
        expect(r!.reconstructionError).to.satisfy(Number.isFinite);
      } finally {
        run.dispose();
      }
      const e = await specError(resolveRun(container, tinySpec({ model, training: { estimator: { type: 'mean-field-pcd' }, metrics: [{ name: 'freeEnergy' }] } })));
      expect(e.issues[0]!.path).to.equal('training.metrics[0]');
      expect(e.issues[0]!.message).to.match(/cannot compute freeEnergy on this dbm model: .*"h1-h2"/);
      const pll = await specError(resolveRun(container, tinySpec({ model: { layers: [{ type: 'gaussian', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'hidden', size: 5 }] }, training: { metrics: [{ name: 'pseudoLogLikelihood' }] } })));
      expect(pll.issues[0]!.path).to.equal('training.metrics[0]');
      expect(pll.issues[0]!.message).to.match(/gaussian units/);
    });

    it('a parallel-tempering estimator from the spec ("pt", or its alias) trains an epoch and reports its swap rates', async function () {
      const run = await resolveRun(container, tinySpec({ training: { estimator: { type: 'parallel-tempering', temperatures: 3, chains: 8, k: 2 } } }));
      try {
        expect(run.trainer.estimator).to.be.instanceOf(ParallelTempering);
        expect(run.trainer.config.estimator).to.deep.equal({ type: 'pt', k: 2, chains: 8, betas: [1, 0.5, 0] });
        const before = await run.model.getParams();
        const [r] = await run.trainer.fit(run.data.train, { epochs: 1, monitor: run.monitor });
        expect(r!.reconstructionError).to.satisfy(Number.isFinite);
        const after = await run.model.getParams();
        expect(Array.from(after['visible-hidden.weights']!.data)).to.not.deep.equal(Array.from(before['visible-hidden.weights']!.data));
        const rates = await (run.trainer.estimator as ParallelTempering).swapAcceptance();
        expect(rates).to.have.length(2);
        for (const x of rates) expect(x).to.be.within(0, 1);
        expect(Object.keys(run.trainer.checkpoint().estimator)).to.have.length(6); // 3 temperatures x 2 layers
      } finally {
        run.dispose();
      }
      const e = await specError(resolveRun(container, tinySpec({ training: { estimator: { type: 'pt', betas: [1, 0.5, 0.5] } } })));
      expect(e.issues[0]!.path).to.equal('training.estimator');
      expect(e.issues[0]!.message).to.match(/must decrease strictly/);
    });

    it('early stopping with no metric on a DBM with Bernoulli visible units falls back to the reconstruction error (no pseudo-likelihood, nothing held out)', async function () {
      const spec = tinySpec({ model: DBM_MODEL, training: { estimator: { type: 'mean-field-pcd' }, metrics: ['reconstructionError'], earlyStopping: {} }, data: { validationSplit: 0 } });
      const run = await resolveRun(container, spec);
      try {
        expect(run.data.validation).to.equal(undefined);
        expect(defaultStoppingMetric(run.model, { validation: false, monitor: run.monitor })).to.equal('reconstructionError');
      } finally {
        run.dispose();
      }
    });

    it('builds the spec\'s sampler for samples.png (block Gibbs by default) before training', async function () {
      const gibbs = await resolveRun(container, tinySpec());
      try {
        expect(gibbs.sampler!.spec()).to.deep.equal({ type: 'gibbs' });
        expect(gibbs.samplesSkipped).to.equal(undefined);
        const rows = await gibbs.sampler!.sample({ count: 4, sweeps: 3, seed: 1, init: gibbs.data.validation! });
        expect([rows.rows, rows.cols]).to.deep.equal([4, 9]);
      } finally {
        gibbs.dispose();
      }
      const glauber = await resolveRun(container, tinySpec({ output: { samples: { sampler: { type: 'glauber', temperature: 0.5 } } } }));
      try {
        expect(glauber.sampler!.spec()).to.deep.equal({ type: 'glauber', temperature: 0.5 });
        const states = await glauber.sampler!.sample({ count: 3, sweeps: 2, seed: 1, binary: true });
        for (const x of states.data) expect([0, 1]).to.include(x);
      } finally {
        glauber.dispose();
      }
    });

    it('a sampler that cannot sample the model is skipped with the reason; the run still trains', async function () {
      // Three layers joined in a triangle: no two blocks for block Gibbs, but wake-dream trains it.
      const model = {
        kind: 'graph',
        layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'a', size: 2 }, { type: 'bernoulli', name: 'b', size: 2 }],
        connections: [{ type: 'dense', name: 'va', from: 'visible', to: 'a' }, { type: 'dense', name: 'vb', from: 'visible', to: 'b' }, { type: 'dense', name: 'ab', from: 'a', to: 'b' }],
      };
      const training = { estimator: { type: 'wake-dream', expectations: 'gibbs', chains: 10 }, regularizers: [], metrics: [] };
      const run = await resolveRun(container, tinySpec({ model, training }));
      try {
        expect(run.sampler).to.equal(undefined);
        expect(run.samplesSkipped).to.match(/^output\.samples\.sampler: sampler "gibbs" \(block Gibbs\) needs a model whose layers split into two blocks.*"glauber"/);
        await run.trainer.fit(run.data.train, { epochs: 1, monitor: run.monitor });
      } finally {
        run.dispose();
      }
      const glauber = await resolveRun(container, tinySpec({ model, training, output: { samples: { sampler: { type: 'glauber' } } } }));
      try {
        const rows = await glauber.sampler!.sample({ count: 2, sweeps: 5, seed: 3 });
        expect([rows.rows, rows.cols]).to.deep.equal([2, 9]);
      } finally {
        glauber.dispose();
      }
    });

    it('resumes a saved run: same parameters, counters and remaining epochs', async function () {
      const first = await resolveRun(container, tinySpec());
      const file = join(dir, 'resume.json');
      let saved: Record<string, Matrix>;
      try {
        await first.trainer.fit(first.data.train, { epochs: 3, monitor: { freeEnergy: false, pseudoLikelihood: false } });
        await saveModel(file, first.model, first.trainer);
        saved = await first.model.getParams();
      } finally {
        first.dispose();
      }
      const run = await resolveRun(container, tinySpec(), { resume: file });
      try {
        expect(run.resumed).to.equal(true);
        expect(run.trainer.epoch).to.equal(3);
        expect(run.remainingEpochs).to.equal(1);
        const got = await run.model.getParams();
        for (const name of Object.keys(saved)) expect(Array.from(got[name]!.data)).to.deep.equal(Array.from(saved[name]!.data));
      } finally {
        run.dispose();
      }
    });
  });

  describe('resolution errors name the field', function () {
    it('data whose width is not the visible layer\'s', async function () {
      const spec = tinySpec({ model: { layers: [{ type: 'bernoulli', name: 'visible', size: 10 }, { type: 'bernoulli', name: 'hidden', size: 5 }] } });
      const e = await specError(resolveRun(container, spec));
      expect(e.issues[0]!.path).to.equal('model.layers[0].size');
      expect(e.issues[0]!.message).to.match(/the data has 9 columns \(100 bars-and-stripes patterns of 3x3\) but layer "visible" has 10 units/);
    });

    it('a regularizer that rejects its options', async function () {
      const e = await specError(resolveRun(container, tinySpec({ training: { regularizers: [{ type: 'l2', coefficient: -1 }] } })));
      expect(e.issues[0]).to.deep.include({ path: 'training.regularizers[0]' });
      expect(e.issues[0]!.message).to.match(/L2 weight decay must be a finite number in \[0, Infinity\], got -1/);
    });

    it('an estimator that rejects its options', async function () {
      const e = await specError(resolveRun(container, tinySpec({ training: { estimator: { type: 'cd', k: 0 } } })));
      expect(e.issues[0]!.path).to.equal('training.estimator');
      expect(e.issues[0]!.message).to.match(/k .*must be an integer in \[1, .*got 0/);
    });

    it('a sampler that rejects its options (before any training)', async function () {
      const e = await specError(resolveRun(container, tinySpec({ output: { samples: { sampler: { type: 'glauber', temperature: -2 } } } })));
      expect(e.issues[0]!.path).to.equal('output.samples.sampler');
      expect(e.issues[0]!.message).to.match(/sampler "glauber" temperature must be a finite number in \[0, Infinity\], got -2/);
      const typo = await specError(resolveRun(container, tinySpec({ output: { samples: { sampler: { type: 'parallel-dynamics', temprature: 2 } } } })));
      expect(typo.issues[0]!.message).to.match(/sampler "parallel-dynamics" has an unknown option "temprature"; its options are "temperature" \(did you mean "temperature"\?\)/);
    });

    it('a data source that cannot load (a missing CSV file)', async function () {
      const e = await specError(resolveRun(container, tinySpec({ data: { source: { type: 'csv', path: 'missing.csv' } } }), { baseDir: dir }));
      expect(e.issues[0]!.path).to.equal('data.source');
      expect(e.issues[0]!.message).to.match(/missing\.csv/);
    });

    it('a data source option of the wrong type', async function () {
      const e = await specError(resolveRun(container, tinySpec({ data: { source: { type: 'bars-and-stripes', size: 'big' } } })));
      expect(e.issues[0]).to.deep.equal({ path: 'data.source', message: '"size" must be an integer >= 1, got "big"' });
    });

    it('values outside the visible units\' range', async function () {
      const csv = join(dir, 'out-of-range.csv');
      writeFileSync(csv, '0,1,0,1,0,1,0,1,2\n0,0,0,0,0,0,0,0,0\n1,1,1,1,1,1,1,1,1\n');
      const e = await specError(resolveRun(container, tinySpec({ data: { source: { type: 'csv', path: csv }, validationSplit: 0 } })));
      expect(e.issues[0]!.path).to.equal('model.layers[0]');
      expect(e.issues[0]!.message).to.match(/must lie in \[0, 1\], got 2/);
    });

    it('a split that leaves no training rows', async function () {
      const e = await specError(resolveRun(container, tinySpec({ data: { limit: 1, validationSplit: 0.5 } })));
      expect(e.issues[0]).to.deep.equal({ path: 'data.validationSplit', message: 'holding out 1 of 1 rows leaves none to train on' });
    });

    it('early stopping on PLL that is not scored (the default metric of a Bernoulli RBM), or with none held out', async function () {
      const e = await specError(resolveRun(container, tinySpec({ training: { metrics: ['freeEnergy'], earlyStopping: {} } })));
      expect(e.issues[0]!.path).to.equal('training.earlyStopping.metric');
      expect(e.issues[0]!.message).to.match(/needs "pseudoLogLikelihood" in training.metrics/);
      const none = await specError(resolveRun(container, tinySpec({ training: { earlyStopping: {} }, data: { validationSplit: 0 } })));
      expect(none.issues[0]).to.deep.equal({ path: 'training.earlyStopping.metric', message: '"pseudoLogLikelihood" watches held-out data, but data.validationSplit is 0' });
    });

    it('early stopping on a metric the built model cannot give (PLL of a DBM)', async function () {
      const e = await specError(resolveRun(container, tinySpec({ model: DBM_MODEL, training: { estimator: { type: 'mean-field-pcd' }, earlyStopping: { metric: 'pseudoLogLikelihood' } } })));
      expect(e.issues[0]!.path).to.equal('training.earlyStopping.metric');
      expect(e.issues[0]!.message).to.match(/earlyStopping.metric "pseudoLogLikelihood": cannot compute pseudoLogLikelihood on this dbm model: .*"h1-h2"/);
    });

    it('early stopping on the pseudo-likelihood of visible units that declare no two values (Gaussian)', async function () {
      const spec = tinySpec({ training: { earlyStopping: { metric: 'pseudoLogLikelihood' } } });
      spec.model.layers[0] = { type: 'gaussian', name: 'visible', size: 9 };
      const e = await specError(resolveRun(container, spec));
      expect(e.issues[0]!.path).to.equal('training.earlyStopping.metric');
      expect(e.issues[0]!.message).to.match(/cannot compute pseudoLogLikelihood on this rbm model: the pseudo-log-likelihood flips binary units .*layer "visible" holds gaussian units, which declare no two values/);
    });

    it('resuming from a model file without training state', async function () {
      const plain = await resolveRun(container, tinySpec());
      const file = join(dir, 'plain.json');
      await saveModel(file, plain.model);
      plain.dispose();
      const e = await specError(resolveRun(container, tinySpec(), { resume: file }));
      expect(e.issues[0]!.path).to.equal('--resume');
      expect(e.issues[0]!.message).to.match(/holds a model without training state/);
    });

    it('resuming with a spec whose model differs from the file\'s', async function () {
      const run = await resolveRun(container, tinySpec());
      const file = join(dir, 'other.json');
      await saveModel(file, run.model, run.trainer);
      run.dispose();
      const spec = tinySpec({ model: { layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'hidden', size: 6 }] } });
      const e = await specError(resolveRun(container, spec, { resume: file }));
      expect(e.issues[0]!.path).to.equal('model');
      expect(e.issues[0]!.message).to.match(/does not match the model in .*other\.json: the spec has rbm: visible \(9 bernoulli\), hidden \(6 bernoulli\).*the file rbm: visible \(9 bernoulli\), hidden \(5 bernoulli\)/);
    });
  });
});
