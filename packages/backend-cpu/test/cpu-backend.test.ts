import { expect } from 'chai';
import {
  CounterRng,
  InvalidValueError,
  Matrix,
  ReferenceBackend,
  ShapeError,
  createBackend,
  listBackends,
  normalAt,
  opKey,
  rngState,
  uniformAt,
  type UnaryOp,
} from '@boltzmann/tensor';
import { describeBackendConformance, expectClose } from '@boltzmann/tensor/testing';
import { CpuBackend, TsGemm, nativeElementwise, nativeElementwiseSets, nativeElementwiseUnavailableReason, selectGemm, type Gemm } from '../src/index.js';

describeBackendConformance('CpuBackend float32, TypeScript element-wise', () => new CpuBackend({ precision: 'float32', elementwise: 'typescript' }));
// Once per native element-wise kernel set this processor runs (the default is the first);
// skipped, with the reason, where the addon is not built.
for (const set of nativeElementwiseSets().length > 0 ? nativeElementwiseSets() : ['(not built)']) {
  describe(`CpuBackend float32 on the native element-wise kernels, set ${set}`, function () {
    before(function () {
      if (nativeElementwise() === undefined) {
        console.log(`      skipped: the native addon is unavailable here: ${nativeElementwiseUnavailableReason()}`);
        this.skip();
      }
    });
    describeBackendConformance(`CpuBackend float32, native element-wise ${set}`, () => {
      const elementwise = nativeElementwise({ set });
      if (elementwise === undefined) throw new Error(`native element-wise set ${set} vanished: ${nativeElementwiseUnavailableReason()}`);
      const be = new CpuBackend({ precision: 'float32', elementwise });
      expect(be.elementwise).to.equal(`native-${set}`);
      return be;
    });
  });
}
// float64 must agree with the float64 oracle far more tightly than the default float32 tolerance.
describeBackendConformance('CpuBackend float64', () => new CpuBackend({ precision: 'float64' }), { tolerance: 1e-11 });

function randomMatrix(rng: CounterRng, rows: number, cols: number, lo = -2, hi = 2): Matrix {
  const m = new Matrix(rows, cols, new Float64Array(rows * cols));
  rng.uniforms(m.data);
  for (let i = 0; i < m.data.length; i++) m.data[i] = lo + (hi - lo) * m.data[i]!;
  return m;
}

describe('CpuBackend specifics', function () {
  const rng = new CounterRng(2024);
  const ref = new ReferenceBackend();

  it('stores float32 or float64 by precision and reads back the same type', function () {
    const f32 = new CpuBackend();
    const f64 = new CpuBackend({ precision: 'float64' });
    expect(f32.precision).to.equal('float32');
    expect(f32.readSync(f32.zeros(2, 3)).data).to.be.instanceOf(Float32Array);
    expect(f64.readSync(f64.upload(new Matrix(2, 3))).data).to.be.instanceOf(Float64Array);
    const third = Matrix.fromRows([[1 / 3]]).toFloat64();
    third.data[0] = 1 / 3;
    expect(f64.readSync(f64.upload(third)).data[0]).to.equal(1 / 3);
    expect(f32.readSync(f32.upload(third)).data[0]).to.equal(Math.fround(1 / 3));
    expect(() => new CpuBackend({ precision: 'float16' as 'float32' })).to.throw(InvalidValueError, /precision/);
  });

  it('rejects tensors of another instance, even one with the same name, and disposed ones', function () {
    const be = new CpuBackend();
    const twin = new CpuBackend();
    const a = be.zeros(2, 2);
    const foreign = twin.zeros(2, 2);
    expect(() => be.copy(foreign, a)).to.throw(InvalidValueError, /another backend instance of the same name/);
    expect(() => be.copy(new ReferenceBackend('ref').zeros(2, 2), a)).to.throw(InvalidValueError, /backend "ref"/);
    const gone = be.zeros(2, 2);
    be.dispose(gone);
    expect(() => be.unary('exp', gone, a)).to.throw(InvalidValueError, /a \(2x2\) was disposed/);
    expect(() => be.readSync(gone)).to.throw(InvalidValueError, /disposed/);
    expect(() => be.dispose(gone)).to.throw(InvalidValueError, /already disposed/);
    be.destroy();
    expect(() => be.fill(a, 1)).to.throw(InvalidValueError, /destroyed/);
    expect(() => be.zeros(1, 1)).to.throw(InvalidValueError, /destroyed/);
    be.dispose(a); // cleanup after destroy is allowed
  });

  it('names the wrong shape in every kind of op', function () {
    const be = new CpuBackend();
    const a = be.zeros(3, 4);
    const w = be.zeros(5, 6);
    expect(() => be.linear(a, w, be.zeros(1, 6), be.zeros(3, 6))).to.throw(ShapeError, /x has 4 columns, w has 5 rows/);
    expect(() => be.linear(a, be.zeros(4, 6), be.zeros(1, 5), be.zeros(3, 6))).to.throw(ShapeError, /bias must be 1x6/);
    expect(() => be.matmul(a, be.zeros(4, 6), be.zeros(4, 6))).to.throw(ShapeError, /out must be 3x6/);
    expect(() => be.sumColumns(a, be.zeros(1, 3))).to.throw(ShapeError, /1x4/);
    expect(() => be.sumRows(a, be.zeros(1, 3))).to.throw(ShapeError, /3x1/);
    expect(() => be.logSumExpGroups(a, 2, be.zeros(3, 1))).to.throw(ShapeError, /3x2/);
    expect(() => be.sampleCategorical(a, 3, rngState(1), a)).to.throw(ShapeError, /group size 3/);
    expect(() => be.sampleGaussian(a, be.zeros(1, 3), rngState(1), a)).to.throw(ShapeError, /std must be 1x4/);
    expect(() => be.gatherRows(a, new Uint32Array([0, 3]), be.zeros(2, 4))).to.throw(ShapeError, /index 1 is row 3/);
    expect(() => be.mulColVector(a, be.zeros(1, 4), a)).to.throw(ShapeError, /col must be 3x1/);
    expect(() => be.binary('mul', a, be.zeros(4, 3), a)).to.throw(ShapeError, /binary mul: b must be 3x4, got 4x3/);
    expect(() => be.unary('exp', a, be.zeros(3, 3))).to.throw(ShapeError, /unary exp: out must be 3x4/);
  });

  it('rejects out aliasing an input of matmul / linear, and bad scalars', function () {
    const be = new CpuBackend();
    const sq = be.zeros(3, 3);
    expect(() => be.matmul(sq, be.zeros(3, 3), sq)).to.throw(InvalidValueError, /out must not be/);
    expect(() => be.linear(be.zeros(3, 3), sq, be.zeros(1, 3), sq)).to.throw(InvalidValueError, /out must not be/);
    expect(() => be.matmul(sq, sq, be.zeros(3, 3), { alpha: NaN })).to.throw(InvalidValueError, /alpha/);
    expect(() => be.sampleBernoulli(1.5, rngState(1), sq)).to.throw(InvalidValueError, /\[0, 1\]/);
    expect(() => be.sampleBernoulli(NaN, rngState(1), sq)).to.throw(InvalidValueError, /\[0, 1\]/);
    expect(() => be.sampleGaussian(sq, -1, rngState(1), sq)).to.throw(InvalidValueError, /std/);
    expect(() => be.unary('cube' as UnaryOp, sq, sq)).to.throw(InvalidValueError, /unknown unary op "cube"/);
    const out = be.zeros(3, 3, 7);
    expect(() => be.linear(be.zeros(3, 3), sq, be.zeros(1, 3), out, { activation: 'cube' as UnaryOp })).to.throw(InvalidValueError, /unknown activation "cube"/);
    expect(Array.from(be.readSync(out).data)).to.deep.equal(new Array(9).fill(7));
  });

  it('linear fuses every activation, the rarely used ones included, in both precisions', function () {
    const ops: UnaryOp[] = ['identity', 'sigmoid', 'softplus', 'relu', 'exp', 'tanh', 'neg', 'square', 'abs', 'sign', 'sqrt', 'log', 'reciprocal'];
    for (const precision of ['float32', 'float64'] as const) {
      const be = new CpuBackend({ precision });
      for (const activation of ops) {
        // Positive pre-activations keep log / sqrt / reciprocal defined.
        const positive = activation === 'log' || activation === 'sqrt' || activation === 'reciprocal';
        const X = randomMatrix(rng, 7, 33, 0, 1);
        const W = randomMatrix(rng, 9, 33, positive ? 0 : -0.5, 0.5); // transposed: out has 9 columns
        const bias = randomMatrix(rng, 1, 9, positive ? 0.1 : -1, 1);
        const out = be.zeros(7, 9);
        const rout = ref.zeros(7, 9);
        be.linear(be.upload(X), be.upload(W), be.upload(bias), out, { transposeW: true, activation });
        ref.linear(ref.upload(X), ref.upload(W), ref.upload(bias), rout, { transposeW: true, activation });
        expectClose(be.readSync(out), ref.readSync(rout), precision === 'float64' ? 1e-12 : 2e-6, `linear ${activation} ${precision}`, 1);
      }
    }
  });

  it('sumColumns sums each column in float64 in row order: the bits of a plain loop, whatever the rows modulo its 8-row blocks', function () {
    const local = new CounterRng(41);
    for (const precision of ['float32', 'float64'] as const) {
      const be = new CpuBackend({ precision });
      for (const rows of [1, 7, 8, 9, 16, 23, 100]) {
        for (const cols of [1, 3, 784]) {
          const A = randomMatrix(local, rows, cols, -1e3, 1e3);
          // Magnitudes that lose bits unless the order is kept: 1e16 + small - 1e16.
          if (rows >= 3) {
            A.data[0] = 1e16;
            A.data[cols] = 1.25;
            A.data[2 * cols] = -1e16;
          }
          if (cols > 1) A.data[(rows - 1) * cols + 1] = NaN;
          const a = be.upload(A);
          const x = be.readSync(a).data; // the stored (float32-rounded) values
          for (const [alpha, beta] of [[1, 0], [0.5, 2], [-1, 1]] as const) {
            const previous = randomMatrix(local, 1, cols);
            const out = be.upload(previous);
            const before = be.readSync(out).data;
            be.sumColumns(a, out, alpha, beta);
            const got = be.readSync(out).data;
            const want = new (precision === 'float32' ? Float32Array : Float64Array)(cols);
            for (let j = 0; j < cols; j++) {
              let sum = 0;
              for (let r = 0; r < rows; r++) sum += x[r * cols + j]!;
              want[j] = beta === 0 ? alpha * sum : alpha * sum + beta * before[j]!;
            }
            expect(Array.from(got), `${precision} ${rows}x${cols} alpha ${alpha} beta ${beta}`).to.deep.equal(Array.from(want));
          }
        }
      }
    }
  });

  it('gatherRows copies narrow and wide rows (element loop and set), repeated and out of order, in both precisions', function () {
    const local = new CounterRng(43);
    for (const precision of ['float32', 'float64'] as const) {
      const be = new CpuBackend({ precision });
      for (const cols of [1, 5, 31, 32, 33, 784]) {
        const src = be.upload(randomMatrix(local, 11, cols));
        const s = be.readSync(src).data;
        const indices = new Uint32Array([10, 0, 3, 3, 7, 10, 1]);
        const out = be.zeros(indices.length, cols, 9);
        be.gatherRows(src, indices, out);
        const want = indices.reduce<number[]>((acc, r) => acc.concat(Array.from(s.subarray(r * cols, (r + 1) * cols))), []);
        expect(Array.from(be.readSync(out).data), `${precision}, ${cols} columns`).to.deep.equal(want);
        expect(() => be.gatherRows(src, new Uint32Array([0, 11]), be.zeros(2, cols)), `${cols} columns`).to.throw(ShapeError, /index 1 is row 11, outside a source of 11 rows/);
      }
    }
  });

  it('keeps the sign of zero through unary ops (1 / -0 is -Infinity)', function () {
    const be = new CpuBackend({ precision: 'float64' });
    const a = be.upload(Matrix.fromRows([[-0, 0, 2]]).toFloat64());
    be.unary('reciprocal', a, a);
    expect(Array.from(be.readSync(a).data)).to.deep.equal([-Infinity, Infinity, 0.5]);
  });

  it('reduce max / min / sum propagate NaN wherever it sits', async function () {
    const be = new CpuBackend();
    for (const at of [0, 5, 11]) {
      const m = randomMatrix(rng, 3, 4);
      m.data[at] = NaN;
      const t = be.upload(m);
      for (const op of ['sum', 'sumSquares', 'sumAbs', 'max', 'min'] as const) expect(await be.reduce(op, t), `${op} NaN at ${at}`).to.be.NaN;
    }
    const t = be.upload(Matrix.fromRows([[-3, 7, Infinity, -Infinity]]));
    expect(await be.reduce('max', t)).to.equal(Infinity);
    expect(await be.reduce('min', t)).to.equal(-Infinity);
  });

  it('random ops in float64 reproduce the reference stream exactly', function () {
    const be = new CpuBackend({ precision: 'float64' });
    const state = rngState(0xdeadbeef, 7, 2 ** 33 + 5); // a counter past 2^32 and a key above 2^31
    const key = opKey(state.seed, state.stream, state.counter);
    const u = be.zeros(3, 129);
    be.uniform(state, u);
    expect(state.counter).to.equal(2 ** 33 + 6);
    const ud = be.readSync(u).data;
    for (let i = 0; i < ud.length; i++) expect(ud[i], `uniform ${i}`).to.equal(uniformAt(key, i));

    const key2 = opKey(state.seed, state.stream, state.counter);
    const mean = be.zeros(3, 129, 0.5);
    const g = be.zeros(3, 129);
    be.sampleGaussian(mean, 2, state, g);
    const gd = be.readSync(g).data;
    for (let i = 0; i < gd.length; i++) expect(gd[i], `gaussian ${i}`).to.equal(0.5 + 2 * normalAt(key2, i));

    const key3 = opKey(state.seed, state.stream, state.counter);
    const p = be.upload(randomMatrix(rng, 3, 129, 0, 1));
    const pd = be.readSync(p).data;
    const s = be.zeros(3, 129);
    be.sampleBernoulli(p, state, s);
    const sd = be.readSync(s).data;
    for (let i = 0; i < sd.length; i++) expect(sd[i], `bernoulli ${i}`).to.equal(uniformAt(key3, i) < pd[i]! ? 1 : 0);
    be.sampleBernoulli(p, state, p); // in place
    expect(Array.from(be.readSync(p).data).every((x) => x === 0 || x === 1)).to.equal(true);
  });

  it('sampleCategorical in place and with groups of one', function () {
    const be = new CpuBackend();
    const p = be.upload(Matrix.fromRows([[0.2, 0.8, 0, 1]]));
    be.sampleCategorical(p, 2, rngState(3), p);
    const d = be.readSync(p).data;
    expect(d[0]! + d[1]!).to.equal(1);
    expect(Array.from(d.subarray(2))).to.deep.equal([0, 1]);
    const ones = be.zeros(2, 3, 0.3);
    be.sampleCategorical(ones, 1, rngState(4), ones);
    expect(Array.from(be.readSync(ones).data)).to.deep.equal([1, 1, 1, 1, 1, 1]); // a group of one always picks its unit
  });

  it('delegates products to the given gemm and reports which one it uses', function () {
    let calls = 0;
    const inner = new TsGemm();
    const counting: Gemm = { name: 'counting', supports: (x) => inner.supports(x), run: (args) => { calls++; inner.run(args); } };
    const be = new CpuBackend({ gemm: counting, name: 'cpu-test' });
    expect(be.gemm.name).to.equal('counting');
    expect(be.name).to.equal('cpu-test');
    const x = be.upload(Matrix.fromRows([[1, 2]]));
    const w = be.upload(Matrix.fromRows([[3], [4]]));
    const out = be.zeros(1, 1);
    be.linear(x, w, be.zeros(1, 1, 0.5), out);
    be.matmul(x, w, out, { beta: 1 });
    expect(calls).to.equal(2);
    expect(be.readSync(out).data[0]).to.equal(22.5);
    const f32only: Gemm = { name: 'f32-only', supports: (x) => x instanceof Float32Array, run: () => {} };
    expect(() => new CpuBackend({ precision: 'float64', gemm: f32only })).to.throw(InvalidValueError, /f32-only.*float64/);
    expect(new CpuBackend().gemm.name).to.equal(selectGemm('float32').name);
  });

  it('registers itself as backend "cpu"', function () {
    expect(listBackends()).to.include('cpu');
    const be = createBackend('cpu', { precision: 'float64' });
    expect(be).to.be.instanceOf(CpuBackend);
    expect(be.precision).to.equal('float64');
    expect(be.name).to.equal('cpu');
  });
});
