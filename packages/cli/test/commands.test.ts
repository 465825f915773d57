/**
 * The `boltzmann` commands run in-process on tiny data into a temp directory: the files train
 * writes (PNG signatures and sizes, finite metrics, a loadable resumable model), resume equal
 * to an uninterrupted run, evaluate / transform / logz against float64 references, sample
 * sizes, plugins from the command line, and the errors and exit codes.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { decodeNpy, runCli, type MetricsDocument } from '@boltzmann/cli';
import { createContainer, loadRunData, validateSpec } from '@boltzmann/container';
import { BoltzmannMachine, DBM, decodeModel, exactLogLikelihood, loadModel, saveModel } from '@boltzmann/core';
import { Matrix } from '@boltzmann/tensor';
import { bruteLogZ, freeEnergy, hiddenMeans, hostParams, memoryIO, pngSize } from './helpers.js';

const examplePlugin = fileURLToPath(new URL('../../../examples/custom-unit-plugin', import.meta.url));

/** 3x3 bars and stripes (200 drawn, 40 held out), a 9 x 4 RBM, 3 epochs of CD-1. */
const TINY_SPEC = {
  model: { layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'hidden', size: 4 }], weightStd: 0.1 },
  training: { epochs: 3, batchSize: 10, learningRate: 0.1, estimator: { type: 'cd', k: 1 }, checkpointEvery: 1 },
  data: { source: { type: 'bars-and-stripes', size: 3, count: 200 }, validationSplit: 0.2 },
  seed: 11,
  output: { dir: 'run', samples: { count: 9, steps: 20 }, filters: 4, reconstructions: 6 },
};

describe('cli: commands', function () {
  let dir: string;

  async function cli(args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    const m = memoryIO(dir);
    const code = await runCli(args, env === undefined ? m.io : { ...m.io, env });
    return { code, stdout: m.stdout(), stderr: m.stderr() };
  }

  async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const r = await cli(args);
    expect(r.code, `boltzmann ${args.join(' ')} failed: ${r.stderr}`).to.equal(0);
    return r;
  }

  function readJson<T>(path: string): T {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  }

  /** The held-out rows of the tiny spec, as the commands pick them. */
  async function heldOut(): Promise<Matrix> {
    const container = await createContainer({ optionalBackends: false });
    const data = await loadRunData(container, validateSpec(TINY_SPEC, container.catalog));
    return data.validation!;
  }

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'boltzmann-cli-'));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(TINY_SPEC));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('train', function () {
    let trained: { stdout: string; stderr: string };

    before(async function () {
      trained = await ok(['train', 'spec.json']);
    });

    it('writes every output file; the PNGs are PNGs of the expected grid sizes', function () {
      for (const f of ['model.json', 'spec.json', 'metrics.jsonl', 'metrics.json', 'metrics.svg', 'filters.png', 'reconstructions.png', 'samples.png']) {
        expect(existsSync(join(dir, 'run', f)), f).to.equal(true);
      }
      // 3x3 images with 1 pixel of padding: 4 filters in 2 columns, 6 pairs in rows of 10, 9 samples in 3 columns.
      expect(pngSize(join(dir, 'run', 'filters.png'))).to.deep.equal({ width: 2 * 3 + 3, height: 2 * 3 + 3 });
      expect(pngSize(join(dir, 'run', 'reconstructions.png'))).to.deep.equal({ width: 10 * 3 + 11, height: 2 * 3 + 3 });
      expect(pngSize(join(dir, 'run', 'samples.png'))).to.deep.equal({ width: 3 * 3 + 4, height: 3 * 3 + 4 });
      expect(trained.stdout).to.match(/^wrote run\/model\.json, run\/spec\.json, .*run\/samples\.png\n$/);
    });

    it('reports progress on stderr: each epoch with its metrics, then the end', function () {
      expect(trained.stderr).to.match(/model: rbm: visible 9 bernoulli, hidden 4 bernoulli; backend cpu \(float32: products [\w-]+, element-wise [\w-]+\)/);
      expect(trained.stderr).to.match(/data: 200 bars-and-stripes patterns of 3x3: 160 training rows, 40 held out/);
      for (const e of [1, 2, 3]) expect(trained.stderr).to.match(new RegExp(`epoch ${e}/3  recon [0-9.]+  F -?[0-9.]+/-?[0-9.]+  PLL -[0-9.]+/-[0-9.]+`));
      expect(trained.stderr).to.match(/done: completed, 3 epochs, 48 steps/);
    });

    it('metrics.json holds one finite record per epoch, train and held-out', function () {
      const doc = readJson<MetricsDocument>(join(dir, 'run', 'metrics.json'));
      expect(doc.format).to.equal('boltzmann.ts/metrics');
      expect([doc.trainRows, doc.validationRows, doc.seed]).to.deep.equal([160, 40, 11]);
      expect(doc.epochs.map((r) => [r.epoch, r.step])).to.deep.equal([[1, 16], [2, 32], [3, 48]]);
      for (const r of doc.epochs) {
        for (const x of [r.reconstructionError, r.meanHiddenActivation, r.freeEnergy!.train, r.freeEnergy!.validation!, r.pseudoLogLikelihood!.train, r.pseudoLogLikelihood!.validation!, r.seconds]) {
          expect(Number.isFinite(x), JSON.stringify(r)).to.equal(true);
        }
        expect(r.reconstructionError).to.be.within(0, 1);
        expect(r.pseudoLogLikelihood!.train).to.be.below(0);
      }
      expect(doc.final).to.deep.equal(doc.epochs[2]);
      expect(doc.summary).to.deep.include({ reason: 'completed', epochs: 3, steps: 48 });
    });

    it('metrics.jsonl logs the events; metrics.svg plots the four panels', function () {
      const lines = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
      expect(lines.map((l) => l.type).filter((t) => t !== 'checkpoint-written')).to.deep.equal(['started', 'epoch-end', 'epoch-end', 'epoch-end', 'finished']);
      const svg = readFileSync(join(dir, 'run', 'metrics.svg'), 'utf8');
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true);
      expect(svg.trimEnd().endsWith('</svg>')).to.equal(true);
      for (const title of ['Reconstruction error', 'Mean free energy', 'Pseudo-log-likelihood', 'Mean hidden activation']) expect(svg).to.include(title);
      expect(svg.match(/<polyline /g)).to.have.length(1 + 2 + 2 + 1);
      expect(svg).to.not.match(/NaN|Infinity/);
    });

    it('saves the full spec and a model that loads with its training state', function () {
      const spec = readJson<Record<string, unknown>>(join(dir, 'run', 'spec.json'));
      expect(spec).to.deep.include({ seed: 11, plugins: [] });
      expect((spec['training'] as { monitorRows: number }).monitorRows).to.equal(1000);
      const loaded = loadModel(join(dir, 'run', 'model.json'), new CpuBackend());
      expect(loaded.trainer!.epoch).to.equal(3);
      expect(loaded.model.layers.map((l) => l.size)).to.deep.equal([9, 4]);
    });

    it('--resume continues the run: 3 + 2 epochs end with the parameters of 5 straight ones', async function () {
      await ok(['train', 'spec.json', '--epochs', '5', '--out', 'straight', '--quiet']);
      await ok(['train', 'spec.json', '--epochs', '3', '--out', 'resumed', '--quiet']);
      const r = await ok(['train', '--resume', 'resumed/model.json', '--epochs', '5']);
      expect(r.stderr).to.match(/resuming at epoch 3 of 5/);
      const params = (file: string) => decodeModel(readFileSync(join(dir, file)), new CpuBackend()).model.getParams();
      const [a, b] = [await params('straight/model.json'), await params('resumed/model.json')];
      for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).to.deep.equal(Array.from(a[name]!.data));
      const doc = readJson<MetricsDocument>(join(dir, 'resumed', 'metrics.json'));
      const straight = readJson<MetricsDocument>(join(dir, 'straight', 'metrics.json'));
      expect(doc.epochs.map((e) => e.epoch)).to.deep.equal([1, 2, 3, 4, 5]);
      expect(doc.epochs.map((e) => e.pseudoLogLikelihood)).to.deep.equal(straight.epochs.map((e) => e.pseudoLogLikelihood));
    });

    it('--resume of a copied model writes beside the copy, never into the folder its spec names; run-changing options need --allow-changes, which the new spec records', async function () {
      await ok(['train', 'spec.json', '--epochs', '2', '--out', 'origin', '--quiet']);
      mkdirSync(join(dir, 'copy'), { recursive: true });
      for (const f of ['model.json', 'spec.json']) writeFileSync(join(dir, 'copy', f), readFileSync(join(dir, 'origin', f)));
      const files = (folder: string) => Object.fromEntries(readdirSync(join(dir, folder)).map((f) => [f, readFileSync(join(dir, folder, f)).toString('base64')]));
      const origin = files('origin');
      const refused = await cli(['train', '--resume', 'copy/model.json', '--epochs', '3', '--limit', '20']);
      expect(refused.code).to.equal(2);
      expect(refused.stderr).to.match(/--limit would change the resumed run .* add --allow-changes/);
      await ok(['train', '--resume', 'copy/model.json', '--epochs', '3', '--quiet']);
      expect(files('origin')).to.deep.equal(origin);
      expect(loadModel(join(dir, 'copy', 'model.json'), new CpuBackend()).trainer!.epoch).to.equal(3);
      await ok(['train', '--resume', 'copy/model.json', '--epochs', '4', '--limit', '20', '--allow-changes', '--quiet']);
      expect(readJson<{ data: { limit: number } }>(join(dir, 'copy', 'spec.json')).data.limit).to.equal(20);
      expect(files('origin')).to.deep.equal(origin);
    });

    it('a lock left by a process that no longer runs is taken over, saying so; a live one refuses the run', async function () {
      const lock = (pid: number) => JSON.stringify({ pid, host: hostname(), command: 'boltzmann train', started: 'earlier' });
      writeFileSync(join(dir, 'origin', '.boltzmann.lock'), lock(4194305)); // over Linux's pid_max: no such process
      const r = await ok(['train', 'spec.json', '--epochs', '1', '--out', 'origin']);
      expect(r.stderr).to.match(/origin: took over the lock of process 4194305 \(boltzmann train\), which no longer runs/);
      expect(existsSync(join(dir, 'origin', '.boltzmann.lock'))).to.equal(false);
      writeFileSync(join(dir, 'origin', '.boltzmann.lock'), lock(process.pid));
      const refused = await cli(['train', 'spec.json', '--epochs', '1', '--out', 'origin']);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.match(new RegExp(`is in use by process ${process.pid} on `));
      rmSync(join(dir, 'origin', '.boltzmann.lock'));
    });

    it('an operational error is one line naming the file; --debug adds the stack', async function () {
      mkdirSync(join(dir, 'a-folder'), { recursive: true });
      // Lines other than notes (a machine without the native kernel says so first).
      const lines = (stderr: string) => stderr.trimEnd().split('\n').filter((l) => !l.startsWith('boltzmann: note:'));
      const eisdir = await cli(['transform', 'run/model.json', '--out', 'a-folder']);
      expect(eisdir.code).to.equal(1);
      expect(lines(eisdir.stderr), eisdir.stderr).to.have.length(1);
      expect(eisdir.stderr).to.match(/a-folder/);
      const missing = await cli(['evaluate', 'nowhere/model.json']);
      expect(lines(missing.stderr), missing.stderr).to.have.length(1);
      expect(missing.stderr).to.match(/nowhere\/model\.json/);
      const debug = await cli(['evaluate', 'nowhere/model.json', '--debug']);
      expect(lines(debug.stderr)[0]).to.equal(lines(missing.stderr)[0]);
      expect(debug.stderr).to.match(/\n\s+at /);
    });

    it('a metric with options is scored on this epoch\'s parameters into metrics.json and the plot', async function () {
      const spec = { ...TINY_SPEC, training: { ...TINY_SPEC.training, metrics: ['freeEnergy', { name: 'meanHiddenActivation', layer: 'hidden' }] } };
      writeFileSync(join(dir, 'extra.json'), JSON.stringify(spec));
      await ok(['train', 'extra.json', '--epochs', '2', '--out', 'extra2', '--quiet']);
      await ok(['train', 'extra.json', '--epochs', '1', '--out', 'extra1', '--quiet']);
      const doc = readJson<MetricsDocument>(join(dir, 'extra2', 'metrics.json'));
      expect(doc.epochs.map((e) => Object.keys(e.extra ?? {}))).to.deep.equal([['meanHiddenActivation'], ['meanHiddenActivation']]);
      expect(doc.epochs[0]!.pseudoLogLikelihood).to.equal(undefined);
      // Epoch 1's value is that of the parameters after epoch 1 (the 1-epoch run's model), on all 160 training rows.
      const container = await createContainer({ optionalBackends: false });
      const train = (await loadRunData(container, validateSpec(spec, container.catalog))).train;
      const p1 = hostParams(await decodeModel(readFileSync(join(dir, 'extra1', 'model.json')), new CpuBackend({ precision: 'float64' })).model.getParams());
      let mean = 0;
      for (let r = 0; r < train.rows; r++) for (const h of hiddenMeans(p1, train.row(r))) mean += h / (train.rows * 4);
      expect(doc.epochs[0]!.extra!['meanHiddenActivation']!.train).to.be.closeTo(mean, 1e-6);
      expect(Number.isFinite(doc.epochs[0]!.extra!['meanHiddenActivation']!.validation)).to.equal(true);
      expect(readFileSync(join(dir, 'extra2', 'metrics.svg'), 'utf8')).to.include('>meanHiddenActivation</text>');
    });

    it('--dry-run prints the full spec with the command line applied, and trains nothing', async function () {
      const r = await ok(['train', 'spec.json', '--dry-run', '--epochs', '7', '--hidden', '6', '--out', 'never']);
      const spec = JSON.parse(r.stdout) as { training: { epochs: number }; model: { layers: { size: number }[] }; output: { dir: string } };
      expect(spec.training.epochs).to.equal(7);
      expect(spec.model.layers[1]!.size).to.equal(6);
      expect(spec.output.dir).to.equal('never');
      expect(existsSync(join(dir, 'never'))).to.equal(false);
    });

    it('--precision takes bfloat16-mixed and best-available into backend.precision, and names the choices when wrong', async function () {
      for (const precision of ['bfloat16-mixed', 'best-available']) {
        const spec = JSON.parse((await ok(['train', 'spec.json', '--dry-run', '--precision', precision])).stdout) as { backend: { precision: string } };
        expect(spec.backend.precision).to.equal(precision);
      }
      const bad = await cli(['train', 'spec.json', '--dry-run', '--precision', 'bf16']);
      expect(bad.code).to.not.equal(0);
      expect(bad.stderr).to.match(/--precision must be float32, float64, bfloat16-mixed, best-available; got "bf16"/);
    });
  });

  describe('evaluate, transform, sample, logz on the trained model', function () {
    let rows: Matrix;
    let p: ReturnType<typeof hostParams>;

    before(async function () {
      if (!existsSync(join(dir, 'run', 'model.json'))) await ok(['train', 'spec.json', '--quiet']);
      rows = await heldOut();
      p = hostParams(await decodeModel(readFileSync(join(dir, 'run', 'model.json')), new CpuBackend({ precision: 'float64' })).model.getParams());
    });

    it('evaluate scores the held-out rows: free energy and exact log-likelihood match enumeration', async function () {
      const r = await ok(['evaluate', 'run/model.json', '--json']);
      const result = JSON.parse(r.stdout) as Record<string, number | string>;
      expect(result['rows']).to.equal(40);
      expect(result['data']).to.match(/^40 validation rows of 200 bars-and-stripes/);
      const logZ = bruteLogZ(p);
      let f = 0;
      let ll = 0;
      for (let r2 = 0; r2 < rows.rows; r2++) {
        const fe = freeEnergy(p, rows.row(r2));
        f += fe / rows.rows;
        ll += (-fe - logZ) / rows.rows;
      }
      expect(result['exactLogLikelihood'] as number).to.be.closeTo(ll, 1e-9);
      expect(result['freeEnergy'] as number).to.be.closeTo(f, 1e-4);
      for (const k of ['reconstructionError', 'pseudoLogLikelihood', 'meanHiddenActivation']) expect(Number.isFinite(result[k])).to.equal(true);
    });

    it('evaluate prints a table, and --data picks another set', async function () {
      writeFileSync(join(dir, 'rows.csv'), ['1,1,1,0,0,0,0,0,0', '0,1,0,0,1,0,0,1,0', '1,0,0,1,0,0,1,0,0'].join('\n'));
      const r = await ok(['evaluate', 'run/model.json', '--data', 'csv:rows.csv', '--limit', '2']);
      expect(r.stdout).to.match(/\ndata {20}first 2 of 3 rows of 9 columns from .*rows\.csv\n/);
      expect(r.stdout).to.match(/^model {19}run\/model\.json \(rbm: visible 9 bernoulli, hidden 4 bernoulli\)\n/);
      expect(r.stdout).to.match(/exact log-likelihood {4}-[0-9.]+\n/);
      const whole = await ok(['evaluate', 'run/model.json', '--data', '{"type":"bars-and-stripes","size":3}', '--json']);
      expect((JSON.parse(whole.stdout) as { rows: number }).rows).to.equal(14);
    });

    it('transform writes E[h | v] as CSV and as .npy, equal to sigmoid(c + vW)', async function () {
      await ok(['transform', 'run/model.json', '--out', 'features.csv']);
      const lines = readFileSync(join(dir, 'features.csv'), 'utf8').trim().split('\n');
      expect(lines[0]).to.equal('h0,h1,h2,h3');
      expect(lines).to.have.length(1 + 40);
      lines.slice(1).forEach((line, r) => {
        const want = hiddenMeans(p, rows.row(r));
        line.split(',').forEach((x, j) => expect(Number(x)).to.be.closeTo(want[j]!, 1e-6));
      });
      await ok(['transform', 'run/model.json', '--out', 'features.npy']);
      const bytes = readFileSync(join(dir, 'features.npy'));
      expect((10 + bytes.readUInt16LE(8)) % 64).to.equal(0);
      const npy = decodeNpy(new Uint8Array(bytes));
      expect([npy.rows, npy.cols]).to.deep.equal([40, 4]);
      lines.slice(1).forEach((line, r) => line.split(',').forEach((x, j) => expect(npy.data[r * 4 + j]).to.equal(Math.fround(Number(x)))));
    });

    it('sample writes a grid of the asked size, from random units or from data', async function () {
      await ok(['sample', 'run/model.json', '--count', '4', '--steps', '5', '--out', 'more/s.png']);
      expect(pngSize(join(dir, 'more', 's.png'))).to.deep.equal({ width: 2 * 3 + 3, height: 2 * 3 + 3 });
      const r = await ok(['sample', 'run/model.json', '--count', '10', '--steps', '5', '--init', 'data', '--image-shape', '1x9', '--out', 'more/d.png']);
      expect(r.stdout).to.match(/10 samples after 5 Gibbs sweeps from 40 validation rows/);
      expect(pngSize(join(dir, 'more', 'd.png'))).to.deep.equal({ width: 4 * 9 + 5, height: 3 * 1 + 4 });
    });

    it('sample, transform and convert remove the temp files a killed run left beside their output (a live process\'s stay)', async function () {
      // Atomic writes name temp files .<name>.<pid>.<time>.tmp; no process has a pid over 2^22 (Linux's pid_max).
      const dead = join(dir, 'more', '.s.png.4194305.1.tmp');
      const live = join(dir, 'more', `.s.png.${process.pid}.1.tmp`);
      mkdirSync(join(dir, 'more'), { recursive: true });
      for (const f of [dead, live]) writeFileSync(f, 'partial');
      const r = await ok(['sample', 'run/model.json', '--count', '4', '--steps', '1', '--out', 'more/s.png']);
      expect(r.stderr).to.contain(`removed 1 temp file(s) left by a killed run in ${join(dir, 'more')}`);
      expect([existsSync(dead), existsSync(live)]).to.deep.equal([false, true]);
      rmSync(live);
      for (const [args, name] of [[['transform', 'run/model.json', '--out', 'more/f.csv'], '.f.csv'], [['convert', 'run/model.json', 'more/raw.json'], '.raw.json']] as const) {
        const stale = join(dir, 'more', `${name}.4194305.7.tmp`);
        writeFileSync(stale, 'partial');
        await ok([...args]);
        expect(existsSync(stale), name).to.equal(false);
      }
    });

    it('logz prints exact log Z, equal to enumeration', async function () {
      const r = await ok(['logz', 'run/model.json', '--json']);
      expect((JSON.parse(r.stdout) as { logZ: number }).logZ).to.be.closeTo(bruteLogZ(p), 1e-9);
      const text = await ok(['logz', 'run/model.json']);
      expect(text.stdout).to.match(/^log Z = -?[0-9.]+ \(exact, rbm: visible 9 bernoulli, hidden 4 bernoulli\)\n$/);
    });
  });

  describe('samplers: sample --sampler, train --sampler / output.samples.sampler', function () {
    before(async function () {
      if (!existsSync(join(dir, 'run', 'model.json'))) await ok(['train', 'spec.json', '--quiet']);
    });

    it('sample --sampler NAME or JSON runs that sampler and says so', async function () {
      const g = await ok(['sample', 'run/model.json', '--sampler', 'glauber', '--count', '4', '--steps', '5', '--binary', '--out', 'more/g.png']);
      expect(g.stdout).to.match(/\(4 samples after 5 Glauber sweeps at T = 1 from random units\)/);
      expect(pngSize(join(dir, 'more', 'g.png'))).to.deep.equal({ width: 2 * 3 + 3, height: 2 * 3 + 3 });
      const p = await ok(['sample', 'run/model.json', '--sampler', '{"type":"parallel-dynamics","temperature":2}', '--count', '10', '--steps', '5', '--init', 'data', '--out', 'more/p.png']);
      expect(p.stdout).to.match(/\(10 samples after 5 parallel-dynamics steps at T = 2 from 40 validation rows/);
    });

    it('an unknown sampler lists the registered ones (1); bad options (1); a JSON sampler without a type (2)', async function () {
      const unknown = await cli(['sample', 'run/model.json', '--sampler', 'metropolis', '--count', '2', '--steps', '1', '--out', 'more/x.png']);
      expect(unknown.code).to.equal(1);
      expect(unknown.stderr).to.match(/output\.samples\.sampler\.type: unknown sampler "metropolis"; registered: gibbs, glauber, parallel-dynamics/);
      const typo = await cli(['sample', 'run/model.json', '--sampler', '{"type":"glauber","temprature":1}', '--count', '2', '--steps', '1', '--out', 'more/x.png']);
      expect(typo.code).to.equal(1);
      expect(typo.stderr).to.match(/sampler "glauber" has an unknown option "temprature"; its options are "temperature"/);
      const untyped = await cli(['sample', 'run/model.json', '--sampler', '{"temperature":1}']);
      expect(untyped.code).to.equal(2);
      expect(untyped.stderr).to.match(/--sampler: a JSON sampler is an object with a "type"/);
      expect(existsSync(join(dir, 'more', 'x.png'))).to.equal(false);
    });

    it('a Boltzmann machine with lateral weights: block Gibbs refuses it naming glauber; glauber samples it', async function () {
      const bm = BoltzmannMachine.create(new CpuBackend(), { visible: 9, hidden: 3, weightStd: 0.5, seed: 2 });
      mkdirSync(join(dir, 'bm'), { recursive: true });
      await saveModel(join(dir, 'bm', 'bm.json'), bm);
      bm.dispose();
      const refused = await cli(['sample', 'bm/bm.json', '--count', '4', '--steps', '3', '--out', 'bm/gibbs.png']);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.match(/sampler "gibbs" \(block Gibbs\) needs a model whose layers split into two blocks.*sample it with "glauber"/);
      const r = await ok(['sample', 'bm/bm.json', '--sampler', 'glauber', '--count', '9', '--steps', '20', '--binary', '--out', 'bm/glauber.png']);
      expect(r.stdout).to.match(/9 samples after 20 Glauber sweeps at T = 1 from random units/);
      expect(pngSize(join(dir, 'bm', 'glauber.png'))).to.deep.equal({ width: 3 * 3 + 4, height: 3 * 3 + 4 });
    });

    it('train --sampler draws samples.png with it and saves it in spec.json', async function () {
      const r = await ok(['train', 'spec.json', '--epochs', '1', '--out', 'glauber-run', '--sampler', 'glauber']);
      expect(r.stderr).to.match(/drawing 9 samples \(20 Glauber sweeps at T = 1 from held-out examples\)/);
      expect(pngSize(join(dir, 'glauber-run', 'samples.png'))).to.deep.equal({ width: 3 * 3 + 4, height: 3 * 3 + 4 });
      expect(readJson<{ output: { samples: unknown } }>(join(dir, 'glauber-run', 'spec.json')).output.samples).to.deep.equal({ count: 9, steps: 20, init: 'data', sampler: { type: 'glauber' } });
      // `sample` on that model uses the run's sampler unless told otherwise.
      const s = await ok(['sample', 'glauber-run/model.json', '--count', '4', '--steps', '2', '--out', 'more/run-sampler.png']);
      expect(s.stdout).to.match(/after 2 Glauber sweeps/);
    });

    it('--help of sample and train documents --sampler', async function () {
      for (const command of ['sample', 'train']) {
        const h = await ok([command, '--help']);
        expect(h.stdout).to.match(/--sampler NAME\|JSON +how the sample chains run \(output\.samples\.sampler\): gibbs/);
      }
      expect((await ok(['sample', '--help'])).stdout).to.match(/boltzmann sample bm\.json --sampler glauber/);
    });
  });

  describe('evaluate on models beyond the Bernoulli RBM: what a model cannot give is skipped with the reason', function () {
    type Result = Record<string, unknown> & { skipped: Record<string, string> };
    const rowsCsv = ['1,0,1,0,1,0,1,0,1', '0,1,0,1,0,1,0,1,0', '1,1,1,0,0,0,1,1,1'];

    before(function () {
      writeFileSync(join(dir, 'eval-rows.csv'), rowsCsv.join('\n'));
    });

    it('a Gaussian-visible RBM trains with the default metrics, and evaluate skips the pseudo-likelihood', async function () {
      const gaussian = { ...TINY_SPEC, model: { ...TINY_SPEC.model, layers: [{ type: 'gaussian', name: 'visible', size: 9 }, TINY_SPEC.model.layers[1]] }, training: { ...TINY_SPEC.training, epochs: 1, learningRate: 0.01 }, output: { ...TINY_SPEC.output, dir: 'gauss' } };
      writeFileSync(join(dir, 'gauss.json'), JSON.stringify(gaussian));
      await ok(['train', 'gauss.json', '--quiet']);
      const metrics = readJson<MetricsDocument>(join(dir, 'gauss', 'metrics.json'));
      expect(metrics.epochs).to.have.length(1);
      const r = JSON.parse((await ok(['evaluate', 'gauss/model.json', '--json'])).stdout) as Result;
      expect(r['pseudoLogLikelihood']).to.equal(undefined);
      expect(r.skipped['pseudoLogLikelihood']).to.match(/flips binary units.*layer "visible" holds gaussian units/);
      expect(Number.isFinite(r['freeEnergy'])).to.equal(true);
      expect(Number.isFinite(r['reconstructionError'])).to.equal(true);
      expect(Number.isFinite(r['exactLogLikelihood']), 'a log-density: the hidden block is enumerated').to.equal(true);
      expect(Object.keys(r.skipped)).to.deep.equal(['pseudoLogLikelihood']);
      const text = (await ok(['evaluate', 'gauss/model.json'])).stdout;
      expect(text).to.match(/\npseudo-log-likelihood {3}n\/a \(the pseudo-log-likelihood flips binary units/);
    });

    it('a DBM: free energy, pseudo-likelihood and hidden activation skipped; reconstruction error and the exact log-likelihood (h2 enumerated per row) scored', async function () {
      const dbm = DBM.create(new CpuBackend(), { layers: [9, 4, 3], seed: 1, weightStd: 1 });
      await saveModel(join(dir, 'dbm.json'), dbm);
      const r = JSON.parse((await ok(['evaluate', 'dbm.json', '--data', 'csv:eval-rows.csv', '--json'])).stdout) as Result;
      expect(Object.keys(r.skipped)).to.have.members(['freeEnergy', 'pseudoLogLikelihood', 'meanHiddenActivation']);
      const dbm64 = DBM.create(new CpuBackend({ precision: 'float64' }), { layers: [9, 4, 3] });
      dbm64.setParams(await dbm.getParams());
      const rows = new Matrix(rowsCsv.length, 9, Float64Array.from(rowsCsv.flatMap((line) => line.split(',').map(Number))));
      expect(r['exactLogLikelihood'] as number).to.be.closeTo(await exactLogLikelihood(dbm64, rows), 1e-9);
      expect(r.skipped['freeEnergy']).to.match(/connection "hidden1-hidden2" joins layers "hidden1" and "hidden2"/);
      expect(Number.isFinite(r['reconstructionError'])).to.equal(true);
      expect(r['rows']).to.equal(3);
    });

    it('a fully visible Boltzmann machine: free energy = mean energy (float64 reference), no reconstruction or exact log-likelihood', async function () {
      const bm = BoltzmannMachine.create(new CpuBackend({ precision: 'float64' }), { visible: 9, weightStd: 0.5, bias: [0.1, -0.2, 0.3, 0, 0.5, -0.4, 0.2, 0.1, -0.1], seed: 2 });
      const params = await bm.getParams();
      await saveModel(join(dir, 'bm.json'), bm);
      const r = JSON.parse((await ok(['evaluate', 'bm.json', '--data', 'csv:eval-rows.csv', '--json', '--precision', 'float64'])).stdout) as Result;
      const b = params['visible.bias']!.data;
      const L = params['visible-visible.weights']!.data;
      let e = 0;
      for (const line of rowsCsv) {
        const v = line.split(',').map(Number);
        for (let i = 0; i < 9; i++) {
          e -= b[i]! * v[i]!;
          for (let j = 0; j < 9; j++) e -= 0.5 * v[i]! * L[i * 9 + j]! * v[j]!;
        }
      }
      expect(r['freeEnergy'] as number).to.be.closeTo(e / rowsCsv.length, 1e-12);
      expect(r['pseudoLogLikelihood'] as number).to.be.below(0);
      expect(Object.keys(r.skipped)).to.have.members(['reconstructionError', 'meanHiddenActivation', 'exactLogLikelihood']);
      expect(r.skipped['reconstructionError']).to.match(/block Gibbs/);
    });
  });

  describe('plugins from the command line', function () {
    const isingSpec = { ...TINY_SPEC, model: { layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'ising', name: 'hidden', size: 3 }] }, output: { ...TINY_SPEC.output, dir: 'ising' } };

    before(function () {
      writeFileSync(join(dir, 'ising.json'), JSON.stringify(isingSpec));
    });

    it('an unknown unit type is an error listing the registered ones', async function () {
      writeFileSync(join(dir, 'glass.json'), JSON.stringify({ ...isingSpec, model: { layers: [isingSpec.model.layers[0], { type: 'spin-glass', name: 'hidden', size: 3 }] } }));
      const missing = await cli(['train', 'glass.json']);
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.match(/model\.layers\[1\]\.type: unknown unit type "spin-glass"; registered: bernoulli/);
    });

    it('with --plugin a spec trains with the plugin\'s unit type; later commands load the plugin from spec.json only when trusted', async function () {
      await ok(['train', 'ising.json', '--plugin', examplePlugin, '--quiet']);
      expect(readJson<{ plugins: string[] }>(join(dir, 'ising', 'spec.json')).plugins).to.deep.equal([examplePlugin]);
      // Opening a model runs no code: the plugin beside it is refused, naming it, until the user trusts it.
      const refused = await cli(['evaluate', 'ising/model.json', '--json']);
      expect(refused.code).to.equal(2);
      expect(refused.stderr).to.match(/lists plugins, which run code when loaded: .*custom-unit-plugin; pass --trust-plugins, name each with --plugin, or list them in BOLTZMANN_TRUSTED_PLUGINS/);
      await ok(['evaluate', 'ising/model.json', '--json', '--plugin', examplePlugin]);
      // The trusted list: the plugin itself, or a folder above it; a list naming others trusts nothing here.
      const examples = join(examplePlugin, '..');
      for (const listed of [examplePlugin, examples, `/nowhere${delimiter}${examples}`]) expect((await cli(['evaluate', 'ising/model.json', '--json'], { BOLTZMANN_TRUSTED_PLUGINS: listed })).code, listed).to.equal(0);
      for (const listed of [join(examples, 'csp'), `${examples}-other`, 'custom-unit-plugin', '']) expect((await cli(['evaluate', 'ising/model.json', '--json'], { BOLTZMANN_TRUSTED_PLUGINS: listed })).code, listed).to.equal(2);
      const r = await ok(['evaluate', 'ising/model.json', '--json', '--trust-plugins']);
      expect(Number.isFinite((JSON.parse(r.stdout) as { exactLogLikelihood: number }).exactLogLikelihood)).to.equal(true);
    });
  });

  describe('errors and exit codes', function () {
    it('an unknown command (2), an unknown option with a suggestion (2), a bad value (2)', async function () {
      const a = await cli(['fit']);
      expect([a.code, a.stderr]).to.deep.equal([2, 'boltzmann: unknown command "fit"; commands: train, evaluate, sample, transform, logz, convert, watch, info\n']);
      const b = await cli(['train', '--epoch', '3']);
      expect(b.code).to.equal(2);
      expect(b.stderr).to.match(/unknown option --epoch for "train" \(did you mean --epochs\?\)/);
      const c = await cli(['train', '--epochs', 'many']);
      expect([c.code, c.stderr]).to.deep.equal([2, 'boltzmann train: --epochs must be an integer, got "many"\n']);
      const d = await cli(['evaluate']);
      expect(d.code).to.equal(2);
      expect(d.stderr).to.match(/"evaluate" needs <model\.json>/);
    });

    it('an invalid spec (1) names each field', async function () {
      writeFileSync(join(dir, 'bad.json'), JSON.stringify({ training: { batchSize: 0 }, backend: 'cuda' }));
      const r = await cli(['train', 'bad.json']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/SpecError: invalid bad\.json:\n {2}training\.batchSize: must be an integer >= 1, got 0\n {2}backend\.name: unknown backend "cuda"; registered: auto, cpu/);
      writeFileSync(join(dir, 'broken.json'), '{ "training": ');
      const j = await cli(['train', 'broken.json']);
      expect(j.code).to.equal(1);
      expect(j.stderr).to.match(/FormatError: spec file ".*broken\.json" is not valid JSON/);
    });

    it('an abort (Ctrl-C) stops training between two steps: exit 130, a final checkpoint and the metrics so far are written', async function () {
      const controller = new AbortController();
      let err = '';
      const io = {
        stdout: { write: () => true },
        // Abort as soon as the first epoch is reported.
        stderr: { write: (t: string) => ((err += t), t.startsWith('epoch 1/') && controller.abort(), true) },
        cwd: dir,
        signal: controller.signal,
      };
      expect(await runCli(['train', 'spec.json', '--out', 'aborted', '--epochs', '3'], io)).to.equal(130);
      expect(err).to.match(/interrupted at step \d+; resume with: boltzmann train --resume aborted\/model\.json/);
      const doc = readJson<MetricsDocument>(join(dir, 'aborted', 'metrics.json'));
      expect(doc.epochs.map((e) => e.epoch)).to.deep.equal([1]);
      expect(existsSync(join(dir, 'aborted', 'samples.png'))).to.equal(false);
      expect(loadModel(join(dir, 'aborted', 'model.json'), new CpuBackend()).trainer!.epoch).to.be.at.least(1);
      expect(readdirSync(join(dir, 'aborted')).filter((f) => f.startsWith('.'))).to.deep.equal([]); // no lock, staging or temp file left
    });

    it('a missing model file (1), an unknown log Z method (2), too many states for exact log Z (1)', async function () {
      const a = await cli(['evaluate', 'nowhere/model.json']);
      expect(a.code).to.equal(1);
      expect(a.stderr).to.match(/FormatError: model file ".*nowhere\/model\.json" does not exist/);
      const b = await cli(['logz', 'run/model.json', '--method', 'mcmc']);
      expect(b.code).to.equal(2);
      expect(b.stderr).to.match(/--method must be exact or ais, got "mcmc"/);
      if (!existsSync(join(dir, 'run', 'model.json'))) await ok(['train', 'spec.json', '--quiet']);
      const c = await cli(['logz', 'run/model.json', '--method', 'exact', '--max-states', '8']);
      expect(c.code).to.equal(1);
      expect(c.stderr).to.match(/would enumerate 16 states/);
    });
  });
});
