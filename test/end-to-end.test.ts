/**
 * Cross-package integration: the `boltzmann` command (from its sources) run as a real child process
 * (train -> evaluate -> sample on a spec file, and a bad spec), and the same RBM trained on
 * every backend that runs here agreeing with the float64 reference backend.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { GpuBackend, modeAvailable } from '@boltzmann/backend-gpu';
import { RBM, Trainer, exactLogLikelihood, loadModel, saveModel } from '@boltzmann/core';
import { barsAndStripes } from '@boltzmann/data';
import { Matrix, ReferenceBackend, type Backend } from '@boltzmann/tensor';
import { CLI_FROM_SOURCE, sourceEnv } from './cli-from-source.js';


/** Runs the command in `cwd` as a user would; returns its exit code and output. */
function boltzmann(cwd: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CLI_FROM_SOURCE, ...args], { cwd, env: sourceEnv(), encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('end to end: the boltzmann command as a child process', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'boltzmann-e2e-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('trains from a spec file, then evaluates and samples the saved model', function () {
    const spec = {
      model: { layers: [{ type: 'bernoulli', name: 'visible', size: 16 }, { type: 'bernoulli', name: 'hidden', size: 8 }] },
      training: { epochs: 4, batchSize: 10, learningRate: 0.1 },
      data: { source: { type: 'bars-and-stripes', size: 4, count: 300 }, validationSplit: 0.2 },
      seed: 5,
      output: { dir: 'run', samples: { count: 4, steps: 10 }, filters: 8, reconstructions: 4 },
    };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    const train = boltzmann(dir, 'train', 'spec.json', '--quiet');
    expect(train.code, train.stderr).to.equal(0);
    for (const file of ['model.json', 'spec.json', 'metrics.json', 'metrics.jsonl', 'metrics.svg', 'filters.png', 'reconstructions.png', 'samples.png']) {
      expect(existsSync(join(dir, 'run', file)), file).to.equal(true);
    }
    const metrics = JSON.parse(readFileSync(join(dir, 'run', 'metrics.json'), 'utf8')) as { epochs: { reconstructionError: number }[] };
    expect(metrics.epochs).to.have.length(4);
    expect(metrics.epochs.every((e) => Number.isFinite(e.reconstructionError))).to.equal(true);

    const evaluate = boltzmann(dir, 'evaluate', 'run/model.json', '--data', 'bars-and-stripes', '--json');
    expect(evaluate.code, evaluate.stderr).to.equal(0);
    const scores = JSON.parse(evaluate.stdout) as { reconstructionError: number; pseudoLogLikelihood: number };
    expect(scores.reconstructionError).to.be.within(0, 1);
    expect(scores.pseudoLogLikelihood).to.be.below(0);

    const sample = boltzmann(dir, 'sample', 'run/model.json', '--count', '4', '--steps', '5', '--out', 'more.png');
    expect(sample.code, sample.stderr).to.equal(0);
    expect(readFileSync(join(dir, 'more.png')).subarray(1, 4).toString()).to.equal('PNG');
  });

  it('trains from a YAML spec file', function () {
    writeFileSync(
      join(dir, 'spec.yaml'),
      ['model:', '  layers:', '    - { type: bernoulli, name: visible, size: 9 }', '    - { type: bernoulli, name: hidden, size: 4 }', 'training: { epochs: 2, batchSize: 10 }', 'data:', '  source: { type: bars-and-stripes, size: 3, count: 60 }', 'output: { dir: yaml-run, samples: { count: 4, steps: 5 } }', 'seed: 2', ''].join('\n'),
    );
    const r = boltzmann(dir, 'train', 'spec.yaml', '--quiet');
    expect(r.code, r.stderr).to.equal(0);
    const saved = JSON.parse(readFileSync(join(dir, 'yaml-run', 'spec.json'), 'utf8')) as { model: { layers: { size: number }[] }; training: { epochs: number } };
    expect(saved.model.layers.map((l) => l.size)).to.deep.equal([9, 4]);
    expect(saved.training.epochs).to.equal(2);
  });

  it('a spec with a bad field exits non-zero naming the field, and writes nothing', function () {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ training: { batchSize: 0 }, output: { dir: 'bad-run' } }));
    const r = boltzmann(dir, 'train', 'bad.json', '--quiet');
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.match(/training\.batchSize: .*got 0/);
    expect(existsSync(join(dir, 'bad-run'))).to.equal(false);
  });
});

describe('end to end: one RBM, every backend', function () {
  const data = barsAndStripes(3); // 14 distinct 3x3 patterns

  /** CD-1 on bars and stripes from the same seed for `epochs` (2 steps each); the parameters in float64. */
  async function trainOn(be: Backend, epochs: number): Promise<{ params: Record<string, Matrix>; logLikelihood: number }> {
    const rbm = RBM.create(be, { visible: 9, hidden: 7, seed: 3 });
    const trainer = new Trainer(rbm, { learningRate: 0.1, batchSize: 7, seed: 3 });
    await trainer.fit(data, { epochs, monitor: { freeEnergy: false, pseudoLikelihood: false } });
    const params = await rbm.getParams();
    const logLikelihood = await exactLogLikelihood(rbm, data);
    trainer.dispose();
    return { params, logLikelihood };
  }

  const backends: [string, () => Promise<Backend> | Backend, number][] = [
    ['cpu float64', () => new CpuBackend({ precision: 'float64' }), 1e-12],
    ['cpu float32', () => new CpuBackend({ precision: 'float32' }), 1e-4],
  ];
  for (const mode of ['webasm', 'cpu'] as const) {
    if (modeAvailable(mode)) backends.push([`gpu.js ${mode}`, () => GpuBackend.create({ mode }), 1e-4]);
  }

  it('CPU float64 and float32 and gpu.js (webasm, cpu) take the same first 20 steps as the float64 reference', async function () {
    // Short enough that float32 rounding never flips a Bernoulli sample; past that, runs part ways.
    const reference = await trainOn(new ReferenceBackend(), 10);
    for (const [name, make, tolerance] of backends) {
      const got = await trainOn(await make(), 10);
      for (const [key, expected] of Object.entries(reference.params)) {
        const actual = got.params[key]!;
        let worst = 0;
        for (let i = 0; i < expected.data.length; i++) worst = Math.max(worst, Math.abs(actual.data[i]! - expected.data[i]!));
        expect(worst, `${name}: ${key}`).to.be.at.most(tolerance);
      }
      expect(got.logLikelihood, name).to.be.closeTo(reference.logLikelihood, tolerance);
    }
  });

  it('on every backend 300 steps raise the exact log-likelihood by more than 1.5 nats', async function () {
    const untrained = await exactLogLikelihood(RBM.create(new ReferenceBackend(), { visible: 9, hidden: 7, seed: 3 }), data);
    expect(untrained).to.be.closeTo(-9 * Math.log(2), 0.01); // near uniform
    for (const [name, make] of [['reference', () => new ReferenceBackend()] as const, ...backends]) {
      const { logLikelihood } = await trainOn(await make(), 150);
      expect(logLikelihood, name).to.be.above(untrained + 1.5);
    }
  });

  it('a model saved by one backend loads on another with identical outputs', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'boltzmann-e2e-'));
    try {
      const be = new CpuBackend({ precision: 'float32' });
      const rbm = RBM.create(be, { visible: 9, hidden: 5, seed: 8 });
      const trainer = new Trainer(rbm, { seed: 8 });
      await trainer.fit(data, { epochs: 3, monitor: { freeEnergy: false, pseudoLikelihood: false } });
      await saveModel(join(dir, 'm.json'), rbm, trainer);
      const loaded = loadModel(join(dir, 'm.json'), new ReferenceBackend()).model as RBM;
      const a = await rbm.transform(data);
      const b = await loaded.transform(data);
      for (let i = 0; i < a.data.length; i++) expect(b.data[i]).to.be.closeTo(a.data[i]!, 1e-6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
