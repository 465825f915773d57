/**
 * A unit type defined in this file (-1/+1 spins, the Ising model) and registered once into a
 * component set gets annealed importance sampling, parallel tempering, Glauber dynamics and the
 * pseudo-likelihood by declaring the capabilities they need, and nothing in core names it.
 * Each is checked against float64 enumeration written here from the definitions; the same type
 * registered without the declarations is refused by each, naming the missing capability.
 */
import { expect } from 'chai';
import { CounterRng, Matrix, ReferenceBackend, assertDimension, assertRange, type Backend, type Precision, type RngState, type Tensor } from '@boltzmann/tensor';
import {
  ParallelTempering,
  PseudoLikelihoodMetric,
  Trainer,
  annealedImportanceSampling,
  buildModel,
  builtinComponents,
  checkMatrix,
  exactLogLikelihood,
  exactLogPartition,
  type EnergyModel,
  type ModelSpec,
  type Parameter,
  type UnitLayer,
  type UnitSpec,
  type UnitValues,
  type Workspace,
} from '@boltzmann/core';

/**
 * Spins s in {-1, +1} with bias b: E_l(s) = -b.s, so given its input x a spin is +1 with
 * probability sigmoid(2x), E[s | x] = tanh(x) and log sum_s e^(s x) = log(2 cosh x).
 * `declared` switches its capability declarations on (the unit type proper) or off (the same
 * mathematics, undeclared: every algorithm must then refuse it).
 */
class SpinLayer implements UnitLayer {
  readonly name: string;
  readonly size: number;
  readonly bias: Tensor;
  readonly parameters: readonly Parameter[];
  readonly temperable?: boolean;
  readonly annealable?: boolean;
  readonly twoValued?: UnitValues;

  constructor(
    readonly backend: Backend,
    spec: UnitSpec,
    readonly type: string,
    declared: boolean,
  ) {
    assertDimension(`size of layer "${spec.name}"`, spec.size);
    this.name = spec.name;
    this.size = spec.size;
    this.bias = backend.zeros(1, spec.size);
    this.parameters = [{ name: 'bias', role: 'bias', tensor: this.bias }];
    if (declared) {
      this.temperable = true; // energy -input . s: beta scales the input
      this.annealable = true; // energy affine in the bias
      this.twoValued = 'spin'; // two values, -1 and +1, energy -b.s
    }
  }

  get fieldOffset(): Tensor {
    return this.bias;
  }

  get stateCount(): number {
    return 2 ** this.size;
  }

  interaction(state: Tensor): Tensor {
    return state;
  }

  mean(input: Tensor, out: Tensor): void {
    this.backend.unary('tanh', input, out);
  }

  sample(_input: Tensor, mean: Tensor, rng: RngState, out: Tensor): void {
    this.backend.affine(mean, 0.5, 0.5, out); // p(+1) = (1 + tanh x) / 2
    this.backend.sampleBernoulli(out, rng, out);
    this.backend.affine(out, 2, -1, out);
  }

  addEnergy(state: Tensor, out: Tensor, scale: number): void {
    this.backend.matmul(state, this.bias, out, { transposeB: true, alpha: -scale, beta: 1 });
  }

  addLogPartition(input: Tensor, out: Tensor, scale: number, workspace: Workspace): void {
    const t = workspace.get(`${this.name}:log-2cosh`, input.rows, input.cols);
    this.backend.affine(input, 2, 0, t);
    this.backend.unary('softplus', t, t);
    this.backend.binary('sub', t, input, t); // log(2 cosh x) = softplus(2x) - x
    this.backend.matmul(t, workspace.onesColumn(input.cols), out, { alpha: scale, beta: 1 });
  }

  addEnergyGradient(state: Tensor, scale: number, grads: readonly Tensor[], accumulate: boolean): void {
    this.backend.sumColumns(state, grads[0]!, -scale, accumulate ? 1 : 0);
  }

  validate(data: Matrix, what: string): void {
    checkMatrix(what, data, this.size);
    assertRange(`${what} (spins of layer "${this.name}")`, data, -1, 1);
  }

  enumerateStates(start: number, count: number, precision: Precision): Matrix {
    const m = Matrix.zeros(count, this.size, precision);
    for (let r = 0; r < count; r++) for (let j = 0; j < this.size; j++) m.data[r * this.size + j] = Math.floor((start + r) / 2 ** j) % 2 === 1 ? 1 : -1;
    return m;
  }

  initializeFromData(columnMeans: Float64Array): void {
    const b = Matrix.zeros(1, this.size, this.backend.precision);
    for (let j = 0; j < this.size; j++) b.data[j] = Math.atanh(Math.min(0.998, Math.max(-0.998, columnMeans[j]!)));
    this.backend.write(this.bias, b);
  }

  spec(): UnitSpec {
    return { type: this.type, name: this.name, size: this.size };
  }

  dispose(): void {
    this.backend.dispose(this.bias);
  }
}

// The one registration (plus the undeclared twin that shows the declarations are what count).
const components = builtinComponents();
components.unitTypes.register('spin', (backend, spec) => new SpinLayer(backend, spec, 'spin', true));
components.unitTypes.register('undeclared-spin', (backend, spec) => new SpinLayer(backend, spec, 'undeclared-spin', false));

const be = new ReferenceBackend();

/** Host float64 parameters: W (nv x nh), L (nv x nv lateral, symmetric, zero diagonal), b, c. */
interface Host {
  W: number[][];
  L: number[][] | undefined;
  b: number[];
  c: number[];
}

function randomHost(nv: number, nh: number, seed: number, scale: number, lateral = false): Host {
  const rng = new CounterRng(seed, 3);
  const u = (n: number) => Array.from(rng.uniforms(new Float64Array(n)), (x) => (2 * x - 1) * scale);
  const L = lateral ? Array.from({ length: nv }, () => new Array<number>(nv).fill(0)) : undefined;
  if (L) for (let i = 0; i < nv; i++) for (let j = 0; j < i; j++) L[i]![j] = L[j]![i] = u(1)[0]!;
  return { W: Array.from({ length: nv }, () => u(nh)), L, b: u(nv), c: u(nh) };
}

/** E(v, h) = -b.v - c.h - v W h - 1/2 v L v, from the definition. */
function energy(p: Host, v: readonly number[], h: readonly number[]): number {
  let e = 0;
  v.forEach((vi, i) => {
    e -= p.b[i]! * vi;
    h.forEach((hj, j) => (e -= vi * p.W[i]![j]! * hj));
    if (p.L) v.forEach((vk, k) => (e -= 0.5 * vi * p.L![i]![k]! * vk));
  });
  h.forEach((hj, j) => (e -= p.c[j]! * hj));
  return e;
}

function spinStates(n: number): number[][] {
  return Array.from({ length: 2 ** n }, (_, s) => Array.from({ length: n }, (_, j) => (Math.floor(s / 2 ** j) % 2 === 1 ? 1 : -1)));
}

function logSumExp(xs: readonly number[]): number {
  const m = xs.reduce((a, b) => Math.max(a, b), -Infinity);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

const m64 = (rows: number[][]) => new Matrix(rows.length, rows[0]!.length, Float64Array.from(rows.flat()));

/** A spin model (an RBM, or a graph with lateral visible weights) of `type` units with the host parameters. */
function spinModel(p: Host, type = 'spin'): EnergyModel {
  const spec: ModelSpec = {
    kind: p.L ? 'graph' : 'rbm',
    layers: [
      { type, name: 'visible', size: p.b.length },
      { type, name: 'hidden', size: p.c.length },
    ],
    connections: [
      { type: 'dense', name: 'visible-hidden', from: 'visible', to: 'hidden' },
      ...(p.L ? [{ type: 'lateral', name: 'visible-lateral', from: 'visible', to: 'visible' }] : []),
    ],
  };
  const model = buildModel(be, spec, { components });
  model.setParams({ 'visible.bias': m64([p.b]), 'hidden.bias': m64([p.c]), 'visible-hidden.weights': m64(p.W), ...(p.L ? { 'visible-lateral.weights': m64(p.L) } : {}) });
  return model;
}

/** Bars and stripes on a 2x3 grid as spins, each pattern `repeat` times. */
function spinBars(repeat: number): Matrix {
  const rows: number[][] = [];
  for (let mask = 0; mask < 8; mask++) rows.push([0, 1, 2, 0, 1, 2].map((j) => ((mask >> j) & 1 ? 1 : -1)));
  for (let mask = 1; mask < 3; mask++) rows.push([0, 0, 0, 1, 1, 1].map((i) => ((mask >> i) & 1 ? 1 : -1)));
  return m64(Array.from({ length: repeat }, () => rows).flat());
}

describe('a unit type defined in a test file (+-1 spins) gets AIS, tempering and Glauber dynamics by declaring them', function () {
  it('AIS: log Z of a 10 x 7 spin RBM agrees with exact enumeration within 3 sigma, and the interval is tight', async function () {
    const p = randomHost(10, 7, 11, 0.8);
    const model = spinModel(p);
    const exact = logSumExp(spinStates(10).flatMap((v) => spinStates(7).map((h) => -energy(p, v, h))));
    expect(await exactLogPartition(model)).to.be.closeTo(exact, 1e-9);
    const ais = await annealedImportanceSampling(model, { betas: 1000, runs: 100, seed: 2 });

    // The +-3 sigma interval of Z-hat holds the exact value, and is narrow enough to mean something.
    expect(ais.lower).to.be.at.most(exact);
    expect(ais.upper).to.be.at.least(exact);
    expect(ais.upper - ais.lower).to.be.below(0.3);
    expect(ais.logZ).to.be.closeTo(exact, 0.1);
    // Not a trivial model: log Z is far from that of the independent units at zero weights.
    expect(Math.abs(exact - ais.logZBase)).to.be.above(5);
    model.dispose();
  });

  it('parallel tempering trains a spin RBM on spin bars and stripes: the exact log-likelihood rises, and swaps are accepted', async function () {
    const data = spinBars(4);
    const model = spinModel(randomHost(6, 8, 5, 0.05));
    const trainer = new Trainer(model, { estimator: { type: 'pt', betas: [1, 0.7, 0.4], k: 1 }, learningRate: 0.1, momentum: 0.5, batchSize: 10, weightDecay: 0, seed: 3 });
    expect(trainer.estimator).to.be.instanceOf(ParallelTempering);
    const before = await exactLogLikelihood(model, data);
    await trainer.fit(data, { epochs: 100 });
    const after = await exactLogLikelihood(model, data);
    // 10 equally frequent patterns: the best possible is log(1/10) = -2.30; the start is about 6 log 2 = -4.16.
    expect(before).to.be.below(-4);
    expect(after).to.be.above(before + 1);
    expect(after).to.be.above(-3);
    const rates = await (trainer.estimator as ParallelTempering).swapAcceptance();
    expect(rates).to.have.length(2);
    for (const r of rates) expect(r).to.be.within(0.05, 1);
    trainer.dispose();
    model.dispose();
  });

  it('Glauber dynamics on a spin graph with lateral weights reaches the exact marginals and pair correlations', async function () {
    const p = randomHost(4, 3, 9, 0.7, true);
    const model = spinModel(p);
    const states = spinStates(4).flatMap((v) => spinStates(3).map((h) => ({ v, w: -energy(p, v, h) })));
    const logZ = logSumExp(states.map((s) => s.w));
    const expectation = (f: (v: number[]) => number) => states.reduce((sum, s) => sum + f(s.v) * Math.exp(s.w - logZ), 0);
    const sampler = components.samplers.get('glauber')(model, { type: 'glauber' });
    const n = 12000;
    const samples = await sampler.sample({ count: n, sweeps: 20, seed: 4, binary: true });
    expect(new Set(samples.data)).to.deep.equal(new Set([-1, 1]));
    const mean = (f: (r: number) => number) => Array.from({ length: n }, (_, r) => f(r)).reduce((a, b) => a + b, 0) / n;
    const at = (r: number, i: number) => samples.data[r * 4 + i]!;
    // A mean of n draws of +-1 has a standard error below 1 / sqrt(n) = 0.0091: allow 5 of them.
    for (let i = 0; i < 4; i++) {
      expect(mean((r) => at(r, i)), `E[v${i}]`).to.be.closeTo(expectation((v) => v[i]!), 5 / Math.sqrt(n));
      for (let j = 0; j < i; j++) expect(mean((r) => at(r, i) * at(r, j)), `E[v${i} v${j}]`).to.be.closeTo(expectation((v) => v[i]! * v[j]!), 5 / Math.sqrt(n));
    }
    model.dispose();
  });

  it('the pseudo-likelihood flips a spin to its other value: n log sigmoid(F(v flipped) - F(v)), against enumeration', async function () {
    const p = randomHost(5, 3, 21, 0.8);
    const model = spinModel(p);
    const free = (v: number[]) => -logSumExp(spinStates(3).map((h) => -energy(p, v, h)));
    const rows = [[1, -1, 1, 1, -1], [-1, -1, 1, -1, 1], [1, 1, 1, -1, -1]];
    const indices = Uint32Array.of(0, 3, 4);
    const batch = be.upload(m64(rows));
    const out = be.zeros(3, 1);
    new PseudoLikelihoodMetric(model).scoreRows(batch, indices, out);
    const scores = be.readSync(out).data;
    rows.forEach((v, r) => {
      const flipped = v.map((x, i) => (i === indices[r] ? -x : x));
      const d = free(flipped) - free(v);
      expect(scores[r]).to.be.closeTo(-5 * Math.log1p(Math.exp(-d)), 1e-10);
    });
    model.dispose();
  });

  it('the same spins without the declarations are refused by each, naming the capability', async function () {
    const p = randomHost(4, 3, 1, 0.5);
    const undeclared = spinModel(p, 'undeclared-spin');
    const error = async (f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(await error(() => annealedImportanceSampling(undeclared, { betas: 10, runs: 2 }))).to.match(/cannot anneal layer "visible" of undeclared-spin units: the unit type does not declare itself annealable/);
    expect(await error(() => new ParallelTempering(undeclared))).to.match(/cannot temper layer "visible" of undeclared-spin units: the unit type does not declare itself temperable/);
    expect(await error(() => components.samplers.get('glauber')(undeclared, { type: 'glauber' }))).to.match(/needs two-valued units .*declared as twoValued.*layer "visible" has undeclared-spin units/);
    expect(await error(() => new PseudoLikelihoodMetric(undeclared))).to.match(/flips binary units .*undeclared-spin units, which declare no two values/);
    undeclared.dispose();
    // The declared twin builds every one of them.
    const declared = spinModel(p);
    new ParallelTempering(declared).dispose();
    components.samplers.get('glauber')(declared, { type: 'glauber' });
    new PseudoLikelihoodMetric(declared).dispose();
    declared.dispose();
  });
});
