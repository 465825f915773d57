import { expect } from 'chai';
import { CounterRng, InvalidValueError, Matrix, ReferenceBackend, ShapeError } from '@boltzmann/tensor';
import type { Gemm } from '../src/gemm.js';
import { nativeGemm, nativeGemmUnavailableReason, nativeKernels } from '../src/gemm-native.js';
import { selectGemm } from '../src/gemm-select.js';
import { wasmGemm, wasmGemmUnavailableReason } from '../src/gemm-wasm.js';
import { GEMM_WASM_BASE64 } from '../src/gemm-wasm-module.js';
import { assembleGemmWasm } from '../native/wasm/generate.js';
import { WatError, assembleWat } from '../native/wasm/wat.js';
import { wasmApi } from '../src/wasm-api.js';

/**
 * The fast float32 kernels against the float64 reference backend. Each one is tested where it
 * can run; where it cannot, its tests are skipped with the reason (e.g. the addon not built).
 */

const ref = new ReferenceBackend();
/** Unit roundoff of float32. */
const U32 = 2 ** -24;

type Shape = readonly [m: number, k: number, n: number];

/** Odd sizes around the tiles (12 x 32, 6 x 16, 4 x 16), the RBM's product, and shapes that reach each way of splitting C. */
const SHAPES: readonly Shape[] = [
  [1, 1, 1],
  [1, 3, 1],
  [3, 1, 3],
  [3, 17, 1],
  [1, 129, 257],
  [257, 129, 1],
  [17, 3, 129],
  [129, 257, 17],
  [257, 17, 129], // more rows than columns: split by rows
  [13, 3000, 45], // many depth panels
  [100, 784, 500],
  [20, 33, 64], // a last strip of exactly 8 rows, full-width tiles
  [4, 7, 96], // one strip of exactly 4 rows
];

interface Case {
  a: Float32Array;
  b: Float32Array;
  c0: Float32Array;
  /** op(A) * op(B) and |op(A)| * |op(B)| in float64. */
  product: Float64Array;
  absProduct: Float64Array;
}

function randomFloat32(rng: CounterRng, size: number): Float32Array {
  const data = new Float32Array(size);
  rng.uniforms(data);
  for (let i = 0; i < size; i++) data[i] = 4 * data[i]! - 2;
  return data;
}

function referenceProduct(m: number, n: number, k: number, a: Float64Array, ta: boolean, b: Float64Array, tb: boolean): Float64Array {
  const A = ref.upload(new Matrix(ta ? k : m, ta ? m : k, a));
  const B = ref.upload(new Matrix(tb ? n : k, tb ? k : n, b));
  const C = ref.zeros(m, n);
  ref.matmul(A, B, C, { transposeA: ta, transposeB: tb });
  return ref.readSync(C).data as Float64Array;
}

/** Operands and reference products, computed once per shape and transposes and shared by every kernel. */
const cases = new Map<string, Case>();
function caseFor([m, k, n]: Shape, ta: boolean, tb: boolean): Case {
  const key = `${m}x${k}x${n}:${ta}:${tb}`;
  let found = cases.get(key);
  if (found === undefined) {
    const rng = new CounterRng(m * 1_000_003 + k * 1009 + n * 7 + (ta ? 2 : 0) + (tb ? 1 : 0));
    const a = randomFloat32(rng, m * k);
    const b = randomFloat32(rng, k * n);
    const c0 = randomFloat32(rng, m * n);
    const a64 = Float64Array.from(a);
    const b64 = Float64Array.from(b);
    const product = referenceProduct(m, n, k, a64, ta, b64, tb);
    const absProduct = referenceProduct(m, n, k, a64.map(Math.abs), ta, b64.map(Math.abs), tb);
    found = { a, b, c0, product, absProduct };
    cases.set(key, found);
  }
  return found;
}

/**
 * Runs `gemm` for one shape, transposes and alpha/beta, and compares with the float64 result
 * within a float32 rounding bound: 4 u sqrt(k + 2) times the sum of absolute terms (the error
 * of a k-term float32 sum grows like sqrt(k) for random data; a missing or wrong term is ~1,
 * far above the bound).
 */
function checkOne(gemm: Gemm, shape: Shape, ta: boolean, tb: boolean, alpha: number, beta: number): void {
  const [m, k, n] = shape;
  const { a, b, c0, product, absProduct } = caseFor(shape, ta, tb);
  // beta = 0 must overwrite: garbage (NaN) in C must not reach the result.
  const c = beta === 0 ? new Float32Array(m * n).fill(NaN) : c0.slice();
  gemm.run({ m, n, k, a, transposeA: ta, b, transposeB: tb, c, alpha, beta });
  const what = `${gemm.name} ${m}x${k} by ${k}x${n} ta=${ta} tb=${tb} alpha=${alpha} beta=${beta}`;
  for (let i = 0; i < m * n; i++) {
    const want = alpha * product[i]! + (beta === 0 ? 0 : beta * c0[i]!);
    const scale = Math.abs(alpha) * absProduct[i]! + Math.abs(beta * c0[i]!);
    const bound = 4 * U32 * Math.sqrt(k + 2) * scale + 1e-30;
    if (!(Math.abs(c[i]! - want) <= bound)) expect.fail(`${what}: element ${i} (row ${Math.floor(i / n)}, col ${i % n}) is ${c[i]}, expected ${want} within ${bound}`);
  }
}

const ALPHA_BETA: ReadonlyArray<readonly [number, number]> = [
  [1, 0],
  [-0.5, 1],
  [2, -0.25],
];

/** The shared test suite of a fast float32 Gemm; `make` returns undefined where it cannot run. */
function describeFastGemm(label: string, make: () => Gemm | undefined, unavailable: () => string): void {
  describe(label, function () {
    let gemm: Gemm;
    before(function () {
      const made = make();
      if (made === undefined) {
        console.log(`      skipped: ${label} is unavailable here: ${unavailable()}`);
        this.skip();
      }
      gemm = made;
    });

    for (const shape of SHAPES) {
      it(`${shape[0]}x${shape[1]} by ${shape[1]}x${shape[2]}: all transposes, alpha/beta, NaN in C ignored when beta = 0`, function () {
        for (const ta of [false, true]) for (const tb of [false, true]) for (const [alpha, beta] of ALPHA_BETA) checkOne(gemm, shape, ta, tb, alpha, beta);
      });
    }

    it('operands too large to pack whole (2-D chunks of C), one transpose pair each way', function () {
      // 600 x 700 and 700 x 600 exceed the 384 Ki-float whole-operand budget of every kernel.
      checkOne(gemm, [600, 700, 600], false, false, 1, 0);
      checkOne(gemm, [600, 700, 600], true, true, -0.5, 1);
    });

    it('k = 0 scales C by beta (an empty sum); beta = 0 clears NaN; empty C is a no-op', function () {
      const c = new Float32Array([1, 2, NaN, 4, 5, 6]);
      gemm.run({ m: 2, n: 3, k: 0, a: new Float32Array(0), transposeA: false, b: new Float32Array(0), transposeB: false, c, alpha: 1, beta: 0 });
      expect(Array.from(c)).to.deep.equal([0, 0, 0, 0, 0, 0]);
      c.set([1, 2, 3, 4, 5, 6]);
      gemm.run({ m: 2, n: 3, k: 0, a: new Float32Array(0), transposeA: true, b: new Float32Array(0), transposeB: true, c, alpha: 1, beta: 3 });
      expect(Array.from(c)).to.deep.equal([3, 6, 9, 12, 15, 18]);
      gemm.run({ m: 0, n: 3, k: 2, a: new Float32Array(0), transposeA: false, b: new Float32Array(6), transposeB: false, c: new Float32Array(0), alpha: 1, beta: 0 });
    });

    it('NaN in A reaches exactly its row of C', function () {
      const [m, k, n] = [25, 40, 70];
      const a = new Float32Array(m * k).fill(1);
      a[7 * k + 13] = NaN;
      const b = new Float32Array(k * n).fill(0.5);
      const c = new Float32Array(m * n);
      gemm.run({ m, n, k, a, transposeA: false, b, transposeB: false, c, alpha: 1, beta: 0 });
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) expect(Number.isNaN(c[i * n + j]!), `(${i}, ${j})`).to.equal(i === 7);
    });

    it('handles float32 only, and rejects short arrays, bad sizes, non-finite alpha/beta and C overlapping an input', function () {
      expect(gemm.supports(new Float32Array(1))).to.equal(true);
      expect(gemm.supports(new Float64Array(1))).to.equal(false);
      const ok = { m: 2, n: 3, k: 4, a: new Float32Array(8), transposeA: false, b: new Float32Array(12), transposeB: false, c: new Float32Array(6), alpha: 1, beta: 0 };
      expect(() => gemm.run({ ...ok, a: new Float32Array(7) })).to.throw(ShapeError, /A holds 7/);
      expect(() => gemm.run({ ...ok, b: new Float32Array(11) })).to.throw(ShapeError, /B holds 11/);
      expect(() => gemm.run({ ...ok, c: new Float32Array(5) })).to.throw(ShapeError, /C holds 5/);
      expect(() => gemm.run({ ...ok, m: 1.5 })).to.throw(ShapeError, /m must be/);
      expect(() => gemm.run({ ...ok, k: -1 })).to.throw(ShapeError, /k must be/);
      expect(() => gemm.run({ ...ok, beta: Infinity })).to.throw(InvalidValueError, /alpha and beta/);
      expect(() => gemm.run({ ...ok, c: new Float64Array(6) })).to.throw(InvalidValueError, /Float32Array/);
      const shared = new Float32Array(20);
      expect(() => gemm.run({ ...ok, a: shared.subarray(0, 8), c: shared.subarray(6, 12) })).to.throw(InvalidValueError, /share memory/);
      // Disjoint views of one buffer are fine.
      gemm.run({ ...ok, a: shared.subarray(0, 8), c: shared.subarray(8, 14) });
    });
  });
}

describe('fast float32 gemm kernels against the float64 reference', function () {
  const kernels = nativeKernels();
  if (kernels.length === 0) {
    describeFastGemm('native (not built)', () => nativeGemm(), nativeGemmUnavailableReason);
  }
  // Every micro-kernel this processor runs, on one thread and on all of them (the split paths).
  for (const kernel of kernels) {
    describeFastGemm(`native ${kernel}, 1 thread`, () => nativeGemm({ kernel, threads: 1 }), nativeGemmUnavailableReason);
    describeFastGemm(`native ${kernel}, all threads`, () => nativeGemm({ kernel }), nativeGemmUnavailableReason);
  }

  describeFastGemm('wasm SIMD, 1 thread', () => wasmGemm({ threads: 1 }), wasmGemmUnavailableReason);
  describeFastGemm('wasm SIMD, all threads', () => wasmGemm(), wasmGemmUnavailableReason);

  it('selectGemm prefers native, then wasm, for float32, and keeps TypeScript for float64', function () {
    const expected = nativeKernels().length > 0 ? `native-${nativeKernels()[0]}` : wasmGemm() !== undefined ? 'wasm-simd-4x8' : 'ts-blocked';
    expect(selectGemm('float32').name).to.equal(expected);
    expect(selectGemm('float64').name).to.equal('ts-blocked');
  });

  it('nativeGemm rejects an unknown kernel name and bad thread counts', function () {
    if (kernels.length === 0) this.skip();
    expect(() => nativeGemm({ kernel: 'sse9' })).to.throw(InvalidValueError, /sse9/);
    expect(() => nativeGemm({ threads: -1 })).to.throw(InvalidValueError, /threads/);
    expect(nativeGemm()!.name).to.equal(`native-${kernels[0]}`);
  });
});

describe('the WebAssembly kernel source', function () {
  it('src/gemm-wasm-module.ts holds exactly the assembled native/wasm/gemm.wat (run native/wasm/generate.ts after editing)', function () {
    expect(GEMM_WASM_BASE64).to.equal(assembleGemmWasm());
    expect(wasmApi?.validate(Buffer.from(GEMM_WASM_BASE64, 'base64'))).to.equal(true);
  });

  it('the assembler encodes a small function that runs, and names the line of what it cannot assemble', function () {
    const bytes = assembleWat(`(module
      (func $add (export "add") (param $x i32) (param $y i32) (result i32)
        (i32.add (local.get $x) (i32.mul (local.get $y) (i32.const -3)))))`);
    if (wasmApi === undefined) this.skip();
    const add = new wasmApi.Instance(new wasmApi.Module(bytes)).exports.add as (x: number, y: number) => number;
    expect(add(10, 4)).to.equal(-2);
    expect(() => assembleWat('(module\n (func (i64.popcnt (i32.const 1))))')).to.throw(WatError, /line 2: unsupported instruction "i64.popcnt"/);
    expect(() => assembleWat('(module (func (local.get $nope)))')).to.throw(WatError, /unknown local \$nope/);
  });
});
