import { expect } from 'chai';
import { CounterRng, InvalidValueError, Matrix, ShapeError, rngState, roundToBfloat16, type FloatArray, type UnaryOp } from '@boltzmann/tensor';
import { unaryDomains } from '@boltzmann/tensor/testing';
import { CpuBackend, nativeElementwise, nativeElementwiseSets, nativeElementwiseUnavailableReason, type NativeElementwise } from '../src/index.js';
import * as ts from '../src/elementwise.js';
import { bernoulliTensor } from '../src/random.js';

/** Unit roundoff of float32. */
const U32 = 2 ** -24;
/** Smallest normal float32: the absolute floor of the checks (native sigmoid flushes e^-88.4 and below to 0). */
const TINY = 2 ** -126;

function sigmoid64(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Pre-activations that exercise the clamps of exp, the subnormal results and NaN. */
const SPECIAL = [0, -0, 0.5, -3, 20, -20, 87, -87, 88.5, -88.5, 89, -89, 100, -100, 1e30, -1e30, Infinity, -Infinity, NaN];

/** got within 4 float32 ulp (relative) of the float64 value want, NaN where want is NaN. */
function expectNear(got: number, want: number, what: string): void {
  if (Number.isNaN(want)) {
    if (!Number.isNaN(got)) expect.fail(`${what}: ${got}, expected NaN`);
  } else if (!(Math.abs(got - want) <= 4 * U32 * Math.abs(want) + TINY)) {
    expect.fail(`${what}: ${got}, expected ${want} (float64)`);
  }
}

/** x in {0, 1} and w, bias multiples of 1/256: the products and the pre-activations are exact in float32. */
function dyadic(rng: CounterRng, rows: number, cols: number, lo: number, hi: number, step: number): Matrix {
  const m = new Matrix(rows, cols, new Float64Array(rows * cols));
  rng.uniforms(m.data);
  for (let i = 0; i < m.data.length; i++) m.data[i] = Math.round((lo + (hi - lo) * m.data[i]!) / step) * step;
  return m;
}

/** A NativeElementwise on the TypeScript loops that counts its calls: the wiring, with or without the addon. */
function countingElementwise(): NativeElementwise & { calls: { sigmoid: number; axpby: number; bernoulli: number; square: number; sumColumns: number; axpbyPasses: number; gatherRows: number } } {
  const calls = { sigmoid: 0, axpby: 0, bernoulli: 0, square: 0, sumColumns: 0, axpbyPasses: 0, gatherRows: 0 };
  return {
    name: 'counting',
    calls,
    sigmoid(src, dst, rows, cols, bias) {
      calls.sigmoid++;
      expect(src.length).to.equal(rows * cols);
      ts.applyUnary('sigmoid', src, dst, cols, bias);
    },
    axpby(alpha, x, beta, y, out) {
      calls.axpby++;
      ts.axpby(alpha, x, beta, y, out);
    },
    gatherRows(src, cols, indices, out) {
      calls.gatherRows++;
      indices.forEach((r, i) => out.set(src.subarray(r * cols, (r + 1) * cols), i * cols));
    },
    axpbyPasses(passes, n, rounded = []) {
      calls.axpbyPasses++;
      for (const p of passes) {
        expect(p.x.length).to.equal(n);
        ts.axpby(p.alpha, p.x, p.beta, p.y, p.out);
      }
      for (const r of rounded) this.roundToBfloat16(r.source, r.bits, n);
    },
    roundToBfloat16(src, bits, n = src.length) {
      const word = new Float32Array(1);
      const word16 = new Uint16Array(word.buffer);
      for (let i = 0; i < n; i++) {
        word[0] = roundToBfloat16(src[i]!);
        bits[i] = word16[1]!;
      }
    },
    bernoulli(key, p, out) {
      calls.bernoulli++;
      bernoulliTensor(key, p, out);
    },
    square(src, dst) {
      calls.square++;
      ts.applyUnary('square', src, dst, src.length);
    },
    sumColumns(a, rows, cols, sums) {
      calls.sumColumns++;
      sums.fill(0, 0, cols);
      for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) sums[j] += a[r * cols + j]!;
    },
  };
}

/** The TypeScript loops, then every native set this processor runs (or one skipped entry where none). */
const MODES: readonly string[] = ['typescript', ...(nativeElementwiseSets().length > 0 ? nativeElementwiseSets() : ['native (not built)'])];

for (const mode of MODES) describe(`CpuBackend float32 element-wise (${mode}) against float64`, function () {
  let be: CpuBackend;
  before(function () {
    if (mode === 'typescript') {
      be = new CpuBackend({ precision: 'float32', elementwise: 'typescript' });
      return;
    }
    const elementwise = nativeElementwiseSets().includes(mode) ? nativeElementwise({ set: mode }) : undefined;
    if (elementwise === undefined) {
      console.log(`      skipped: the native addon is unavailable here: ${nativeElementwiseUnavailableReason()}`);
      this.skip();
    }
    be = new CpuBackend({ precision: 'float32', elementwise });
  });

  it('reports which kernels it uses', function () {
    expect(be.elementwise).to.equal(mode === 'typescript' ? 'typescript' : `native-${mode}`);
  });

  it('binary add and sub: each element the float32 rounding of the exact sum or difference (NaN, infinities, large exponent gaps), in place too', function () {
    const normals = new CounterRng(17).normals(new Float64Array(2 * 129), 0, 1);
    const special = [0, -0, 1, -1, NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, 2 ** -30, 2 ** 30, 1 + 2 ** -23];
    const n = 129;
    const a = Matrix.zeros(1, n, 'float32');
    const b = Matrix.zeros(1, n, 'float32');
    for (let i = 0; i < n; i++) {
      a.data[i] = i < special.length ? special[i]! : normals[i]! * 2 ** ((i % 60) - 30);
      b.data[i] = i < special.length ? special[(i * 5) % special.length]! : normals[129 + i]! * 2 ** (((i * 7) % 60) - 30);
    }
    for (const op of ['add', 'sub'] as const) {
      const expected = Array.from(a.data, (x, i) => Math.fround(op === 'add' ? x + b.data[i]! : x - b.data[i]!));
      const A = be.upload(a);
      const out = be.zeros(1, n);
      be.binary(op, A, be.upload(b), out);
      expect(Array.from(be.readSync(out).data), op).to.deep.equal(expected);
      be.binary(op, A, be.upload(b), A); // out === a
      expect(Array.from(be.readSync(A).data), `${op} in place`).to.deep.equal(expected);
    }
  });

  for (const n of [1, 3, 129]) {
    for (const transposeW of [false, true]) {
      it(`linear sigmoid, ${n} output column${n > 1 ? 's' : ''}${transposeW ? ', W transposed' : ''}: bias with large |x| and NaN, a NaN row`, function () {
        const rng = new CounterRng(n * 10 + (transposeW ? 1 : 0));
        const rows = 3;
        const k = 5;
        const X = dyadic(rng, rows, k, 0, 1, 1);
        X.data[2 * k + 1] = NaN; // row 2 is NaN throughout
        const W = dyadic(rng, transposeW ? n : k, transposeW ? k : n, -1, 1, 1 / 256);
        const bias = dyadic(rng, 1, n, -4, 4, 1 / 256);
        // Every other bias a special value (for 3 columns: -Infinity and NaN; for 1: a subnormal sigmoid).
        const first = n === 3 ? SPECIAL.indexOf(-Infinity) : 0;
        for (let j = 0; j < n; j += 2) bias.data[j] = SPECIAL[(first + j / 2) % SPECIAL.length]!;
        if (n === 1) bias.data[0] = -88.5;
        const out = be.zeros(rows, n, 7);
        be.linear(be.upload(X), be.upload(W), be.upload(bias), out, { transposeW, activation: 'sigmoid' });
        const got = be.readSync(out).data;
        // The float64 reference from the same float32 inputs.
        const x = X.toFloat32().data;
        const w = W.toFloat32().data;
        const b = bias.toFloat32().data;
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < n; j++) {
            let t = b[j]!;
            for (let q = 0; q < k; q++) t += x[i * k + q]! * w[transposeW ? j * k + q : q * n + j]!;
            expectNear(got[i * n + j]!, sigmoid64(t), `linear (${i}, ${j}) at ${t}`);
          }
        }
        for (let j = 0; j < n; j++) expect(got[2 * n + j], `NaN row, column ${j}`).to.be.NaN;
      });
    }
  }

  for (const [rows, cols] of [[1, 1], [3, 3], [2, 129]] as const) {
    it(`unary sigmoid ${rows}x${cols} at special values, out of place and in place`, function () {
      const rng = new CounterRng(rows * 1000 + cols);
      const A = dyadic(rng, rows, cols, -30, 30, 1 / 64);
      for (let i = 0; i < A.data.length; i += 2) A.data[i] = SPECIAL[(A.size + i / 2) % SPECIAL.length]!;
      if (A.data.length === 1) A.data[0] = NaN;
      const a32 = A.toFloat32().data;
      const a = be.upload(A);
      const out = be.zeros(rows, cols, 7);
      be.unary('sigmoid', a, out);
      const got = be.readSync(out).data;
      for (let i = 0; i < got.length; i++) expectNear(got[i]!, sigmoid64(a32[i]!), `sigmoid(${a32[i]})`);
      be.unary('sigmoid', a, a);
      expect(Array.from(be.readSync(a).data), 'in place equals out of place').to.deep.equal(Array.from(got));
    });
  }

  it('axpby with out = x, out = y, x = y = out, NaN propagating, odd lengths', function () {
    const rng = new CounterRng(77);
    for (const [rows, cols] of [[1, 1], [3, 3], [2, 129]] as const) {
      const X = dyadic(rng, rows, cols, -4, 4, 1 / 1024);
      const Y = dyadic(rng, rows, cols, -4, 4, 1 / 1024);
      X.data[X.data.length - 1] = NaN;
      if (Y.data.length > 1) Y.data[0] = NaN;
      const x32 = X.toFloat32().data;
      const y32 = Y.toFloat32().data;
      for (const [alpha, beta] of [[0.9, -0.05], [1, 1e-4], [-2, 0], [0, 1]] as const) {
        /** t against alpha x + beta y in float64, y the float32 values of the second operand. */
        const check = (t: Matrix, y: FloatArray, what: string): void => {
          for (let i = 0; i < t.data.length; i++) {
            const want = alpha * x32[i]! + beta * y[i]!;
            if (Number.isNaN(want)) {
              expect(t.data[i], `${what} ${i}`).to.be.NaN;
              continue;
            }
            const bound = 2 * U32 * (Math.abs(alpha * x32[i]!) + Math.abs(beta * y[i]!)) + TINY;
            if (!(Math.abs(t.data[i]! - want) <= bound)) expect.fail(`${what} ${rows}x${cols} alpha=${alpha} beta=${beta}: element ${i} is ${t.data[i]}, expected ${want}`);
          }
        };
        const out = be.zeros(rows, cols);
        be.axpby(alpha, be.upload(X), beta, be.upload(Y), out);
        check(be.readSync(out), y32, 'out of place');
        const onX = be.upload(X);
        be.axpby(alpha, onX, beta, be.upload(Y), onX);
        check(be.readSync(onX), y32, 'out = x');
        const onY = be.upload(Y);
        be.axpby(alpha, be.upload(X), beta, onY, onY);
        check(be.readSync(onY), y32, 'out = y');
        const all = be.upload(X);
        be.axpby(alpha, all, beta, all, all);
        check(be.readSync(all), x32, 'x = y = out');
      }
    }
  });

  it('axpby with coefficients float32 cannot hold computes as the TypeScript loop does', function () {
    const X = Matrix.fromRows([[1e-30, 0, -2, 3e38]]);
    const Y = Matrix.fromRows([[1, 1, 1, 1e-30]]);
    const x = be.upload(X);
    const y = be.upload(Y);
    const out = be.zeros(1, 4);
    // 1e39 is infinite in float32 (1e39 * 0 would be NaN); 1e-40 is subnormal there (it would lose digits).
    be.axpby(1e39, x, 1e-40, y, out);
    const want = Array.from(X.toFloat32().data, (xi, i) => Math.fround(1e39 * xi + 1e-40 * Y.toFloat32().data[i]!));
    expect(want[1]).to.equal(Math.fround(1e-40));
    expect(Array.from(be.readSync(out).data)).to.deep.equal(want);
    be.axpby(Infinity, x, 0, y, out);
    expect(Array.from(be.readSync(out).data)).to.deep.equal([Infinity, NaN, -Infinity, Infinity]);
  });
});

describe('CpuBackend linear with a fused activation', function () {
  // float32 on the TypeScript loops and on every native set this processor runs, then float64
  const configs: Array<{ label: string; make: () => CpuBackend }> = [
    { label: 'float32, typescript', make: () => new CpuBackend({ precision: 'float32', elementwise: 'typescript' }) },
    ...nativeElementwiseSets().map((set) => ({ label: `float32, native-${set}`, make: () => new CpuBackend({ precision: 'float32', elementwise: nativeElementwise({ set })! }) })),
    { label: 'float64', make: () => new CpuBackend({ precision: 'float64' }) },
  ];
  for (const { label, make } of configs) {
    it(`${label}: gives the bits of linear, then unary, for every activation (in float32 the pre-activation rounded first)`, function () {
      const be = make();
      const rng = new CounterRng(77);
      const random = (rows: number, cols: number, scale: number): Matrix => {
        const m = new Matrix(rows, cols, new Float64Array(rows * cols));
        rng.normals(m.data, 0, scale);
        return m;
      };
      // Not dyadic: x W + b is inexact in float32, so where it is rounded matters.
      const x = be.upload(random(7, 33, 1));
      const w = be.upload(random(33, 65, 0.7));
      const bias = be.upload(random(1, 65, 3));
      for (const activation of Object.keys(unaryDomains) as UnaryOp[]) {
        const fused = be.zeros(7, 65);
        const input = be.zeros(7, 65);
        const separate = be.zeros(7, 65);
        be.linear(x, w, bias, fused, { activation });
        be.linear(x, w, bias, input);
        be.unary(activation, input, separate);
        expect(Array.from(be.readSync(fused).data), activation).to.deep.equal(Array.from(be.readSync(separate).data));
      }
    });
  }
});

describe('CpuBackend option elementwise', function () {
  it('defaults to the fastest native set in float32 where the addon loads, TypeScript otherwise', function () {
    const native = nativeElementwise();
    expect(new CpuBackend().elementwise).to.equal(native === undefined ? 'typescript' : `native-${native.name}`);
    expect(new CpuBackend({ precision: 'float64' }).elementwise).to.equal('typescript');
    expect(new CpuBackend({ elementwise: 'typescript' }).elementwise).to.equal('typescript');
  });

  it('refuses native kernels in float64 and anything that is not a kernel set', function () {
    expect(() => new CpuBackend({ precision: 'float64', elementwise: countingElementwise() })).to.throw(InvalidValueError, /"counting" handle float32 only, not float64/);
    expect(() => new CpuBackend({ elementwise: 'native' as 'typescript' })).to.throw(InvalidValueError, /elementwise must be "typescript" or a kernel set.*"native"/);
    expect(() => new CpuBackend({ elementwise: { name: 'half' } as NativeElementwise })).to.throw(InvalidValueError, /elementwise must be/);
  });

  it('sends the sigmoid of linear and unary, axpby, binary add and sub, square, Bernoulli sampling and column sums to the kernel set, every other op to TypeScript', function () {
    const counting = countingElementwise();
    const be = new CpuBackend({ elementwise: counting });
    expect(be.elementwise).to.equal('native-counting');
    const x = be.upload(Matrix.fromRows([[1, 2], [3, 4]]));
    const w = be.upload(Matrix.fromRows([[0.5, -1, 0], [0.25, 0, 1]]));
    const bias = be.upload(Matrix.fromRows([[0, 1, -1]]));
    const out = be.zeros(2, 3);
    be.linear(x, w, bias, out, { activation: 'sigmoid' });
    expect(counting.calls).to.deep.equal({ sigmoid: 1, axpby: 0, bernoulli: 0, square: 0, sumColumns: 0, axpbyPasses: 0, gatherRows: 0 });
    expect(Array.from(be.readSync(out).data)).to.deep.equal([1, 0, 1, 2.5, -2, 3].map((t) => Math.fround(sigmoid64(t))));
    for (const activation of ['identity', 'relu', 'tanh', 'softplus'] as const) be.linear(x, w, bias, out, { activation });
    be.linear(x, w, bias, out);
    be.unary('tanh', out, out);
    be.unary('exp', out, out);
    expect(counting.calls).to.deep.equal({ sigmoid: 1, axpby: 0, bernoulli: 0, square: 0, sumColumns: 0, axpbyPasses: 0, gatherRows: 0 });
    be.unary('sigmoid', x, x);
    expect(counting.calls).to.deep.equal({ sigmoid: 2, axpby: 0, bernoulli: 0, square: 0, sumColumns: 0, axpbyPasses: 0, gatherRows: 0 });
    be.axpby(0.5, out, -1, out, out);
    be.affine(out, 2, 1, out);
    be.binary('mul', out, out, out);
    be.binary('max', out, out, out);
    expect(counting.calls).to.deep.equal({ sigmoid: 2, axpby: 1, bernoulli: 0, square: 0, sumColumns: 0, axpbyPasses: 0, gatherRows: 0 });
    be.binary('add', out, out, out);
    be.binary('sub', out, out, out);
    expect(counting.calls).to.deep.equal({ sigmoid: 2, axpby: 3, bernoulli: 0, square: 0, sumColumns: 0, axpbyPasses: 0, gatherRows: 0 });
    be.axpby(Number.MAX_VALUE, out, 1, out, out); // beyond float32: the TypeScript loop
    expect(counting.calls).to.deep.equal({ sigmoid: 2, axpby: 3, bernoulli: 0, square: 0, sumColumns: 0, axpbyPasses: 0, gatherRows: 0 });
    be.unary('square', out, out);
    be.unary('abs', out, out);
    be.sampleBernoulli(x, rngState(1), x);
    be.sampleBernoulli(0.5, rngState(1), x); // a scalar probability: TypeScript
    expect(counting.calls).to.deep.equal({ sigmoid: 2, axpby: 3, bernoulli: 1, square: 1, sumColumns: 0, axpbyPasses: 0, gatherRows: 0 });
    const sums = be.zeros(1, 2);
    be.fill(sums, 1);
    be.sumColumns(x, sums, 0.5, 2);
    be.sumRows(x, be.zeros(2, 1));
    expect(counting.calls).to.deep.equal({ sigmoid: 2, axpby: 3, bernoulli: 1, square: 1, sumColumns: 1, axpbyPasses: 0, gatherRows: 0 });
    expect(Array.from(be.readSync(sums).data)).to.deep.equal(Array.from(be.readSync(x).data.slice(0, 2), (v, j) => 0.5 * (v + be.readSync(x).data[2 + j]!) + 2));
    const passes = be.zeros(2, 3);
    be.axpbyPasses([{ alpha: 0.5, x: out, beta: 1, y: passes, out: passes }, { alpha: 1, x: passes, beta: -1, y: out, out }]);
    expect(counting.calls).to.deep.equal({ sigmoid: 2, axpby: 3, bernoulli: 1, square: 1, sumColumns: 1, axpbyPasses: 1, gatherRows: 0 });
    be.axpbyPasses([{ alpha: Number.MAX_VALUE, x: out, beta: 1, y: passes, out: passes }]); // beyond float32: one TypeScript axpby per pass
    expect(counting.calls).to.deep.equal({ sigmoid: 2, axpby: 3, bernoulli: 1, square: 1, sumColumns: 1, axpbyPasses: 1, gatherRows: 0 });
    const rows = be.zeros(3, 3);
    be.gatherRows(out, Uint32Array.from([1, 0, 1]), rows);
    expect(counting.calls).to.deep.equal({ sigmoid: 2, axpby: 3, bernoulli: 1, square: 1, sumColumns: 1, axpbyPasses: 1, gatherRows: 1 });
    const o = be.readSync(out).data;
    expect(Array.from(be.readSync(rows).data)).to.deep.equal([...o.slice(3, 6), ...o.slice(0, 3), ...o.slice(3, 6)]);
    expect(() => be.gatherRows(out, Uint32Array.from([0, 2, 1]), rows)).to.throw(ShapeError, /index 1 is row 2, outside a source of 2 rows/);
    expect(counting.calls.gatherRows, 'refused before the kernel').to.equal(1);
  });
});
