/**
 * `boltzmann logz` on small saved models with random weights (fixed seed, float32-exact values,
 * so the float64 references use the very parameters the command loads): exact log Z and
 * log-likelihoods against enumeration from the definitions, the AIS estimate inside its +-3 sigma
 * interval around the exact value for an RBM and a DBM, the DBM's variational bound below its
 * true log-likelihood, the default method, and the errors with their exit codes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { runCli } from '@boltzmann/cli';
import { DBM, RBM, saveModel } from '@boltzmann/core';
import { Matrix } from '@boltzmann/tensor';
import { bruteLogZ, freeEnergy, memoryIO, type HostParams } from './helpers.js';

/** What `logz --json` prints. */
interface Report {
  model: string;
  method: string;
  logZ: number;
  logZInterval?: [number | null, number];
  runs?: number;
  betas?: number;
  start?: string;
  summedOut?: string[];
  seed?: number;
  data?: string;
  rows?: number;
  logLikelihood?: number;
  logLikelihoodSandwich?: [number, number];
  logZSandwich?: [number, number];
  logZReverse?: number;
  sidesAgree?: boolean;
  effectiveSampleSize?: number;
  precision?: string;
  warnings?: string[];
  dataWarning?: string;
  variationalLowerBound?: number;
  variationalLowerBoundInterval?: [number, number | null];
}

/** A seeded stream of N(0, std) values rounded to float32 (the CLI loads models in float32). */
function gaussians(seed: number): (count: number, std: number) => number[] {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return (count, std) => Array.from({ length: count }, () => Math.fround(std * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())));
}

const lse = (xs: readonly number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((acc, x) => acc + Math.exp(x - m), 0));
};
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const bits = (s: number, n: number): number[] => Array.from({ length: n }, (_, i) => (s >> i) & 1);

/** A 3-layer Bernoulli DBM in float64: biases b0, b1, b2 and weights W1 (v x h1), W2 (h1 x h2). */
interface HostDBM {
  b: number[][];
  W1: number[][];
  W2: number[][];
}

/** log sum_{h1} exp(-E(v, h1, h2)): h1 summed out analytically. */
function dbmLogMarginal(p: HostDBM, v: readonly number[], h2: readonly number[]): number {
  let x = 0;
  v.forEach((vi, i) => (x += p.b[0]![i]! * vi));
  h2.forEach((hk, k) => (x += p.b[2]![k]! * hk));
  for (let j = 0; j < p.b[1]!.length; j++) {
    let a = p.b[1]![j]!;
    v.forEach((vi, i) => (a += vi * p.W1[i]![j]!));
    h2.forEach((hk, k) => (a += p.W2[j]![k]! * hk));
    x += softplus(a);
  }
  return x;
}

/** log p*(v) = log sum_{h1, h2} exp(-E): h2 enumerated. */
function dbmLogUnnormalised(p: HostDBM, v: readonly number[]): number {
  const n2 = p.b[2]!.length;
  return lse(Array.from({ length: 2 ** n2 }, (_, s) => dbmLogMarginal(p, v, bits(s, n2))));
}

function dbmLogZ(p: HostDBM): number {
  const n0 = p.b[0]!.length;
  return lse(Array.from({ length: 2 ** n0 }, (_, s) => dbmLogUnnormalised(p, bits(s, n0))));
}

const rowsOf = (m: number[][]) => new Matrix(m.length, m[0]!.length, Float64Array.from(m.flat()));

describe('cli: logz', function () {
  let dir: string;
  const draw = gaussians(20240611);
  // A 12 x 8 RBM with N(0, 1) weights and N(0, 0.5) biases: far from independent units.
  const rbm: HostParams = {
    W: Array.from({ length: 12 }, () => draw(8, 1)),
    b: draw(12, 0.5),
    c: draw(8, 0.5),
  };
  // A 10-6-4 DBM with N(0, 1) weights and N(0, 0.5) biases.
  const dbm: HostDBM = {
    b: [draw(10, 0.5), draw(6, 0.5), draw(4, 0.5)],
    W1: Array.from({ length: 10 }, () => draw(6, 1)),
    W2: Array.from({ length: 6 }, () => draw(4, 1)),
  };
  const binaryRows = (n: number, cols: number, seed: number) => {
    const g = gaussians(seed);
    return Array.from({ length: n }, () => g(cols, 1).map((x) => (x > 0.5 ? 1 : 0)));
  };
  const rbmRows = binaryRows(30, 12, 5);
  const dbmRows = binaryRows(30, 10, 6);
  let exactRbm: number;
  let exactDbm: number;

  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const m = memoryIO(dir);
    const code = await runCli(args, m.io);
    return { code, stdout: m.stdout(), stderr: m.stderr() };
  }

  async function report(args: string[]): Promise<Report> {
    const r = await cli([...args, '--json']);
    expect(r.code, `boltzmann ${args.join(' ')} failed: ${r.stderr}`).to.equal(0);
    return JSON.parse(r.stdout) as Report;
  }

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'boltzmann-logz-'));
    const be = new CpuBackend({ precision: 'float64' });
    const r = RBM.create(be, { visible: 12, hidden: 8, weights: rowsOf(rbm.W), visibleBias: rbm.b, hiddenBias: rbm.c });
    await saveModel(join(dir, 'rbm.json'), r);
    r.dispose();
    const d = DBM.create(be, { layers: [10, 6, 4], weights: [rowsOf(dbm.W1), rowsOf(dbm.W2)] });
    d.setParams({ 'visible.bias': rowsOf([dbm.b[0]!]), 'hidden1.bias': rowsOf([dbm.b[1]!]), 'hidden2.bias': rowsOf([dbm.b[2]!]) }, { partial: true });
    await saveModel(join(dir, 'dbm.json'), d);
    d.dispose();
    be.destroy();
    writeFileSync(join(dir, 'rbm-rows.csv'), rbmRows.map((row) => row.join(',')).join('\n'));
    writeFileSync(join(dir, 'dbm-rows.csv'), dbmRows.map((row) => row.join(',')).join('\n'));
    exactRbm = bruteLogZ(rbm);
    exactDbm = dbmLogZ(dbm);
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('exact', function () {
    it('is the default for a small RBM: log Z and the mean log-likelihood of --data equal enumeration', async function () {
      const r = await report(['logz', 'rbm.json', '--data', 'csv:rbm-rows.csv']);
      expect(r.method).to.equal('exact');
      expect(r.logZ).to.be.closeTo(exactRbm, 1e-9);
      const ll = rbmRows.reduce((acc, v) => acc - freeEnergy(rbm, v) - exactRbm, 0) / rbmRows.length;
      expect(r.logLikelihood!).to.be.closeTo(ll, 1e-9);
      expect([r.rows, r.logZInterval, r.variationalLowerBound]).to.deep.equal([30, undefined, undefined]);
      const text = await cli(['logz', 'rbm.json']);
      expect(text.stdout).to.match(/^log Z = [0-9.]+ \(exact, rbm: visible 12 bernoulli, hidden 8 bernoulli\)\n$/);
    });

    it('a DBM: log Z equals enumeration; --data gives the variational bound, below the true mean log p(v)', async function () {
      const r = await report(['logz', 'dbm.json', '--data', 'csv:dbm-rows.csv']);
      expect(r.method).to.equal('exact');
      expect(r.logZ).to.be.closeTo(exactDbm, 1e-9);
      expect(r.logLikelihood).to.equal(undefined);
      const ll = dbmRows.reduce((acc, v) => acc + dbmLogUnnormalised(dbm, v) - exactDbm, 0) / dbmRows.length;
      expect(r.variationalLowerBound!).to.be.below(ll);
      expect(r.variationalLowerBound!).to.be.above(ll - 2);
    });

    it('--method exact refuses a model over --max-states, naming the sizes (1)', async function () {
      const r = await cli(['logz', 'rbm.json', '--method', 'exact', '--max-states', '100']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/InvalidValueError: exact log Z would enumerate 256 states of "hidden" \(8 bernoulli units\); the limit is 100/);
    });
  });

  describe('ais', function () {
    it('an RBM: the exact log Z lies inside the +-3 sigma interval of the estimate and inside the sandwich, in float64', async function () {
      const r = await report(['logz', 'rbm.json', '--method', 'ais', '--betas', '1000', '--runs', '100', '--seed', '3']);
      expect(r).to.include({ method: 'ais', runs: 100, betas: 1000, start: 'uniform', seed: 3, precision: 'float64', sidesAgree: true });
      expect(r.summedOut).to.deep.equal(['hidden']);
      expect(exactRbm).to.be.within(r.logZSandwich![0], r.logZSandwich![1]);
      expect(r.logZSandwich![1] - r.logZSandwich![0]).to.be.below(4);
      expect(r.effectiveSampleSize).to.be.within(10, 100);
      expect(r.warnings).to.deep.equal([]);
      const [lower, upper] = r.logZInterval!;
      expect(lower).to.be.a('number');
      expect(exactRbm).to.be.within(lower!, upper);
      expect(r.logZ).to.be.within(lower!, upper);
      // Not vacuous: the interval is narrow.
      expect(upper - lower!).to.be.below(0.5);
      expect(r.logZ).to.be.closeTo(exactRbm, 0.15);
    });

    it('a DBM: the exact log Z lies inside the interval and inside the two-sided sandwich; --data gives the bound with the AIS log Z', async function () {
      // 1,000 betas are too few for this DBM: the estimate sits about 0.05 low (AIS's bias), at the interval's edge.
      const r = await report(['logz', 'dbm.json', '--method', 'ais', '--betas', '5000', '--runs', '100', '--data', 'csv:dbm-rows.csv']);
      expect(r).to.include({ method: 'ais', start: 'data', rows: 30 });
      expect(r.summedOut).to.deep.equal(['visible', 'hidden2']);
      const [lower, upper] = r.logZInterval!;
      expect(exactDbm).to.be.within(lower!, upper);
      expect(upper - lower!).to.be.below(0.5);
      expect(exactDbm).to.be.within(r.logZSandwich![0], r.logZSandwich![1]);
      expect(r.logZReverse).to.be.a('number');
      expect(r.sidesAgree).to.equal(true);
      const exact = await report(['logz', 'dbm.json', '--data', 'csv:dbm-rows.csv']);
      // The same mean-field bound, shifted by the difference of the log Zs (float32 vs float64).
      expect(r.variationalLowerBound! + r.logZ).to.be.closeTo(exact.variationalLowerBound! + exact.logZ, 1e-4);
      const [bLow, bHigh] = r.variationalLowerBoundInterval!;
      expect(exact.variationalLowerBound!).to.be.within(bLow, bHigh!);
      expect(bLow).to.be.closeTo(r.variationalLowerBound! + r.logZ - r.logZSandwich![1], 1e-9);
    });

    it('evaluate --ais on a DBM: the log Z sandwich holds the exact log Z, and the lower end of the mean-field bound lies below the exact log-likelihood', async function () {
      const r = await cli(['evaluate', 'dbm.json', '--data', 'csv:dbm-rows.csv', '--ais', '--max-states', '4', '--betas', '2000', '--runs', '50', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const e = JSON.parse(r.stdout) as { logZ: { lower: number; upper: number; agree: boolean }; variationalLowerBoundSandwich: [number, number]; logLikelihoodSandwich?: unknown };
      expect(exactDbm).to.be.within(e.logZ.lower, e.logZ.upper);
      expect(e.logZ.agree).to.equal(true);
      expect(e.logLikelihoodSandwich).to.equal(undefined);
      const exactLL = dbmRows.reduce((acc, v) => acc + dbmLogUnnormalised(dbm, v) / dbmRows.length, 0) - exactDbm;
      const [lo, hi] = e.variationalLowerBoundSandwich;
      expect(lo, `bound [${lo}, ${hi}], exact log-likelihood ${exactLL}`).to.be.below(exactLL);
      expect(hi - lo).to.be.closeTo(e.logZ.upper - e.logZ.lower, 1e-9);
      const text = await cli(['evaluate', 'dbm.json', '--data', 'csv:dbm-rows.csv', '--ais', '--max-states', '4', '--betas', '200', '--runs', '10']);
      expect(text.stdout).to.match(/log-likelihood \(AIS\) +at least -?[0-9.]+ \(mean-field bound with log Z's upper end/);
      expect(text.stdout).to.match(/log Z +between -?[0-9.]+ and -?[0-9.]+ \(AIS .* from below, reverse AIS .* from above/);
    });

    it('an RBM with --data: the AIS log-likelihood is -F - log Z-hat, the sandwich holds the exact one', async function () {
      const r = await report(['logz', 'rbm.json', '--method', 'ais', '--betas', '1000', '--runs', '100', '--data', 'csv:rbm-rows.csv', '--limit', '20']);
      expect(r).to.include({ start: 'data', rows: 20 });
      expect(r.data).to.match(/^first 20 of 30 rows of 12 columns from .*rbm-rows\.csv$/);
      const negF = rbmRows.slice(0, 20).reduce((acc, v) => acc - freeEnergy(rbm, v), 0) / 20;
      expect(r.logLikelihood!).to.be.closeTo(negF - r.logZ, 1e-4);
      expect(negF - exactRbm).to.be.within(r.logLikelihoodSandwich![0], r.logLikelihoodSandwich![1]);
      expect(r.logLikelihoodSandwich![0]).to.be.closeTo(negF - r.logZSandwich![1], 1e-9);
      const uniform = await report(['logz', 'rbm.json', '--method', 'ais', '--betas', '100', '--runs', '10', '--data', 'csv:rbm-rows.csv', '--start', 'uniform']);
      expect(uniform.start).to.equal('uniform');
    });

    it('is the default when the smaller block has more than --max-states states; the seed makes it repeatable', async function () {
      const args = ['logz', 'rbm.json', '--max-states', '100', '--betas', '200', '--runs', '20'];
      const a = await report([...args, '--seed', '7']);
      const b = await report([...args, '--seed', '7']);
      const c = await report([...args, '--seed', '8']);
      expect(a.method).to.equal('ais');
      expect(b.logZ).to.equal(a.logZ);
      expect(c.logZ).to.not.equal(a.logZ);
      const text = await cli(args);
      expect(text.stdout).to.match(
        /^log Z = [0-9.]+ \(ais, rbm: visible 12 bernoulli, hidden 8 bernoulli\)\n {2}between [0-9.]+ and [0-9.]+: AIS from below, reverse AIS from above \(estimate [0-9.]+\); (the sides agree|THE SIDES DISAGREE \(see the warning\))\n {2}\+-3 sigma interval \[[0-9.]+, [0-9.]+\]; 20 runs, 200 betas, uniform start, summed out: hidden, effective sample size [0-9.]+, float64, seed 1\n$/,
      );
    });
  });

  describe('other programs\' models (raw interop format) and grey-level data', function () {
    it('convert writes the raw format and back; logz, evaluate and transform read either, with the same numbers', async function () {
      expect((await cli(['convert', 'rbm.json', 'raw/rbm.json'])).stdout).to.match(/^wrote .*raw\/rbm\.json: raw RBM description \(float64 arrays beside it\) of rbm: visible 12 bernoulli, hidden 8 bernoulli\n$/);
      const raw = await report(['logz', 'raw/rbm.json', '--data', 'csv:rbm-rows.csv']);
      const native = await report(['logz', 'rbm.json', '--data', 'csv:rbm-rows.csv']);
      expect([raw.logZ, raw.logLikelihood]).to.deep.equal([native.logZ, native.logLikelihood]);
      expect((await cli(['convert', 'raw/rbm.json', 'back.json'])).code).to.equal(0);
      expect((await report(['logz', 'back.json'])).logZ).to.equal(native.logZ);
      expect((await cli(['evaluate', 'raw/rbm.json', '--data', 'csv:rbm-rows.csv'])).stdout).to.match(/exact log-likelihood\s+-[0-9.]+/);
      expect((await cli(['transform', 'raw/rbm.json', '--data', 'csv:rbm-rows.csv', '--out', 'f.csv'])).stdout).to.match(/30 x 8 features/);
      expect((await cli(['convert', 'raw/rbm.json', 'x.json', '--dtype', 'float32'])).stderr).to.match(/--dtype chooses the values of raw output/);
      expect((await cli(['convert', 'dbm.json', 'x.json'])).stderr).to.match(/"convert" needs an RBM; the model file holds a "dbm" model/);
    });

    it('a weights file declared with the transposed shape is refused, naming the fix', async function () {
      // 12 x 8 weights written hidden x visible (as scikit-learn's components_) but declared [8, 12] without "transpose".
      const w = new Float64Array(96);
      rbm.W.forEach((row, i) => row.forEach((x, j) => (w[j * 12 + i] = x)));
      writeFileSync(join(dir, 'W.bin'), Buffer.from(w.buffer));
      writeFileSync(join(dir, 'b.bin'), Buffer.from(Float64Array.from(rbm.b).buffer));
      writeFileSync(join(dir, 'c.bin'), Buffer.from(Float64Array.from(rbm.c).buffer));
      const description = (weights: object) => ({
        format: 'boltzmann.ts/raw-rbm',
        version: 1,
        visible: { type: 'bernoulli', size: 12 },
        hidden: { type: 'bernoulli', size: 8 },
        arrays: { 'visible-hidden.weights': { file: 'W.bin', dtype: 'float64', ...weights }, 'visible.bias': { file: 'b.bin', dtype: 'float64', shape: [12] }, 'hidden.bias': { file: 'c.bin', dtype: 'float64', shape: [8] } },
      });
      writeFileSync(join(dir, 'wrong.json'), JSON.stringify(description({ shape: [8, 12] })));
      const r = await cli(['logz', 'wrong.json']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/array "visible-hidden.weights" of raw RBM description ".*wrong\.json" has shape \[8,12\], but the model needs 12x8: that is the transpose; .* add "transpose": true/);
      writeFileSync(join(dir, 'right.json'), JSON.stringify(description({ shape: [8, 12], transpose: true })));
      expect((await report(['logz', 'right.json'])).logZ).to.be.closeTo(exactRbm, 1e-9);
    });

    it('grey-level data scored under Bernoulli visible units draws a warning naming the binarize option', async function () {
      writeFileSync(join(dir, 'grey.csv'), rbmRows.map((row) => row.map((x) => (x ? 0.8 : 0.1)).join(',')).join('\n'));
      const r = await cli(['logz', 'rbm.json', '--data', 'csv:grey.csv', '--json']);
      expect(r.code).to.equal(0);
      expect(r.stderr).to.match(/^warning: --data has grey levels \(360 of 360 values strictly between 0 and 1\) scored under Bernoulli visible units.*binarize it with the data source's "binarize" option/);
      expect((await cli(['logz', 'rbm.json', '--data', 'csv:rbm-rows.csv'])).stderr).to.equal('');
      expect((await cli(['evaluate', 'rbm.json', '--data', 'csv:grey.csv'])).stderr).to.match(/warning: the evaluation data has grey levels/);
    });
  });

  describe('errors', function () {
    const cases: [string[], number, RegExp][] = [
      [['--method', 'sampling'], 2, /--method must be exact or ais, got "sampling"/],
      [['--method', 'ais', '--betas', '0'], 2, /--betas must be at least 1 .*got 0/],
      [['--method', 'ais', '--runs', '0'], 2, /--runs must be at least 2 .*got 0/],
      [['--method', 'ais', '--runs', '1'], 2, /--runs must be at least 2 /],
      [['--method', 'ais', '--start', 'data'], 2, /--start data sets the base distribution from the data's column means: give --data too/],
      [['--method', 'ais', '--start', 'zeros'], 2, /--start must be uniform or data, got "zeros"/],
      [['--method', 'exact', '--runs', '10'], 2, /--runs is an option of --method ais, not exact/],
      [['--betas', '10', '--runs', '10'], 2, /--betas, --runs are options of --method ais; this model is small enough for exact log Z, the default .*: add --method ais/],
      [['--limit', '3'], 2, /--limit picks the first rows of --data; give --data too/],
      [['--data', 'csv:dbm-rows.csv'], 1, /ShapeError: --data 30 rows of 10 columns .* has 10 columns but the layer has 12 units/],
    ];
    for (const [extra, code, message] of cases) {
      it(`logz rbm.json ${extra.join(' ')}: exit ${code}`, async function () {
        const r = await cli(['logz', 'rbm.json', ...extra]);
        expect(r.code).to.equal(code);
        expect(r.stderr).to.match(message);
        expect(r.stdout).to.equal('');
      });
    }
  });
});
