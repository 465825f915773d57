import { expect } from 'chai';
import { CounterRng, InvalidValueError, Matrix, ReferenceBackend, ShapeError, type FloatArray } from '@boltzmann/tensor';
import { TsGemm, selectGemm, type Gemm } from '../src/index.js';

const ref = new ReferenceBackend();

function randomArray(rng: CounterRng, size: number, float64: boolean): FloatArray {
  const data = float64 ? new Float64Array(size) : new Float32Array(size);
  rng.uniforms(data);
  for (let i = 0; i < size; i++) data[i] = 4 * data[i]! - 2;
  return data;
}

/** alpha * op(A) * op(B) + beta * C by the float64 reference backend. */
function referenceGemm(m: number, n: number, k: number, a: FloatArray, ta: boolean, b: FloatArray, tb: boolean, c: FloatArray, alpha: number, beta: number): Float64Array {
  const A = ref.upload(new Matrix(ta ? k : m, ta ? m : k, Float64Array.from(a)));
  const B = ref.upload(new Matrix(tb ? n : k, tb ? k : n, Float64Array.from(b)));
  const C = ref.upload(new Matrix(m, n, Float64Array.from(c)));
  ref.matmul(A, B, C, { transposeA: ta, transposeB: tb, alpha, beta });
  return ref.readSync(C).data as Float64Array;
}

/** |got - want| <= tol * sqrt(k) * (4 + |want|) element-wise (the inputs lie in [-2, 2]). */
function expectGemmClose(got: FloatArray, want: Float64Array, tol: number, k: number, what: string): void {
  expect(got.length, `${what}: length`).to.equal(want.length);
  for (let i = 0; i < want.length; i++) {
    const bound = tol * Math.sqrt(Math.max(k, 1)) * (4 + Math.abs(want[i]!));
    if (!(Math.abs(got[i]! - want[i]!) <= bound)) expect.fail(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

function checkAgainstReference(gemm: Gemm, m: number, k: number, n: number, float64: boolean, rng: CounterRng): void {
  const tol = float64 ? 1e-13 : 2e-6;
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      const a = randomArray(rng, m * k, float64);
      const b = randomArray(rng, k * n, float64);
      const c = randomArray(rng, m * n, float64);
      for (const [alpha, beta] of [[1, 0], [-0.5, 1], [2, -0.25]] as const) {
        const want = referenceGemm(m, n, k, a, ta, b, tb, c, alpha, beta);
        gemm.run({ m, n, k, a, transposeA: ta, b, transposeB: tb, c, alpha, beta });
        expectGemmClose(c, want, tol, k, `${float64 ? 'f64' : 'f32'} ${m}x${k}x${n} ta=${ta} tb=${tb} alpha=${alpha} beta=${beta}`);
      }
    }
  }
}

describe('TsGemm against the reference backend', function () {
  const rng = new CounterRng(99);
  // Odd sizes around the micro-tile (4), and shapes that span several depth panels (k > 512),
  // row blocks (m > 128) and column panels (n > 2048), so every edge of the blocking runs.
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [1, 3, 1],
    [3, 1, 3],
    [1, 129, 257],
    [257, 129, 1],
    [2, 257, 129],
    [129, 3, 2],
    [3, 5, 7],
    [5, 3, 9],
    [129, 257, 3],
    [257, 3, 129],
    [130, 1031, 67],
    [3, 7, 2053],
  ];
  for (const float64 of [false, true]) {
    for (const [m, k, n] of shapes) {
      it(`${float64 ? 'float64' : 'float32'} ${m}x${k} by ${k}x${n}: all transposes, alpha/beta`, function () {
        checkAgainstReference(new TsGemm(), m, k, n, float64, rng);
      });
    }
  }

  it('reuses one instance across shapes and precisions (scratch buffers grow and shrink safely)', function () {
    const gemm = new TsGemm();
    for (const [m, k, n] of [[129, 257, 65], [3, 5, 7], [130, 1031, 67], [1, 3, 1], [17, 129, 65]] as const) {
      checkAgainstReference(gemm, m, k, n, m % 2 === 0, rng);
    }
  });

  it('beta = 0 overwrites C, NaN included; beta = 1 accumulates', function () {
    const gemm = new TsGemm();
    for (const [m, k, n] of [[1, 3, 5], [5, 3, 1], [9, 7, 6]] as const) {
      const a = new Float32Array(m * k).fill(1);
      const b = new Float32Array(k * n).fill(2);
      const c = new Float32Array(m * n).fill(NaN);
      gemm.run({ m, n, k, a, transposeA: false, b, transposeB: false, c, alpha: 1, beta: 0 });
      expect(Array.from(c), `${m}x${k}x${n} overwrite`).to.deep.equal(new Array(m * n).fill(2 * k));
      gemm.run({ m, n, k, a, transposeA: false, b, transposeB: false, c, alpha: 0.5, beta: 1 });
      expect(Array.from(c), `${m}x${k}x${n} accumulate`).to.deep.equal(new Array(m * n).fill(3 * k));
    }
  });

  it('k = 0 scales C by beta (an empty sum)', function () {
    const c = new Float64Array([1, 2, 3, 4]);
    new TsGemm().run({ m: 2, n: 2, k: 0, a: new Float64Array(0), transposeA: false, b: new Float64Array(0), transposeB: false, c, alpha: 1, beta: 3 });
    expect(Array.from(c)).to.deep.equal([3, 6, 9, 12]);
  });

  it('NaN in A or B reaches C', function () {
    const a = new Float32Array(9 * 6).fill(1);
    a[7] = NaN; // row 1
    const b = new Float32Array(6 * 10).fill(1);
    const c = new Float32Array(9 * 10);
    new TsGemm().run({ m: 9, n: 10, k: 6, a, transposeA: false, b, transposeB: false, c, alpha: 1, beta: 0 });
    for (let i = 0; i < 9; i++) for (let j = 0; j < 10; j++) expect(Number.isNaN(c[i * 10 + j]!), `(${i}, ${j})`).to.equal(i === 1);
  });

  it('rejects arrays too short for the shape, bad sizes and non-finite alpha/beta', function () {
    const gemm = new TsGemm();
    const ok = { m: 2, n: 3, k: 4, a: new Float32Array(8), transposeA: false, b: new Float32Array(12), transposeB: false, c: new Float32Array(6), alpha: 1, beta: 0 };
    expect(() => gemm.run({ ...ok, a: new Float32Array(7) })).to.throw(ShapeError, /A holds 7/);
    expect(() => gemm.run({ ...ok, b: new Float32Array(11) })).to.throw(ShapeError, /B holds 11/);
    expect(() => gemm.run({ ...ok, c: new Float32Array(5) })).to.throw(ShapeError, /C holds 5/);
    expect(() => gemm.run({ ...ok, m: 1.5 })).to.throw(ShapeError, /m must be/);
    expect(() => gemm.run({ ...ok, alpha: NaN })).to.throw(InvalidValueError, /alpha/);
  });

  it('selectGemm gives a kernel for each precision that handles it', function () {
    expect(selectGemm('float32').supports(new Float32Array(1))).to.equal(true);
    expect(selectGemm('float64').supports(new Float64Array(1))).to.equal(true);
    expect(new TsGemm().name).to.equal('ts-blocked');
  });
});
