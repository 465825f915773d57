import { expect } from 'chai';
import { CounterRng, InvalidValueError } from '@boltzmann/tensor';
import { TsGemm, nativeBf16Gemm, nativeBf16Kernels, nativeElementwise, nativeElementwiseSets, nativeGemm, nativeKernels, wasmGemm, type Gemm } from '../src/index.js';

/**
 * The sigmoid epilogue of the native products (linear's bias + sigmoid, applied to each tile of
 * C as it is finished) against the product followed by the same set's sigmoid over all of C:
 * bit for bit, for every kernel and element-wise set this processor runs, on shapes that take
 * each way of splitting C (columns, rows, 2-D tiles), several depth panels, edge tiles and k = 0.
 */
const SHAPES: readonly (readonly [number, number, number, boolean])[] = [
  [1, 1, 1, false],
  [13, 0, 7, false], // k = 0: C is the bias alone
  [37, 300, 45, true], // depth over one panel
  [100, 784, 500, false], // a training step's v W: split by columns
  [100, 500, 784, true], // h W^T
  [333, 100, 40, false], // split by rows
  [700, 900, 650, true], // too big to pack whole: 2-D tiles
];

const kernels: { label: string; make: () => Gemm | undefined }[] = [
  ...nativeKernels().map((kernel) => ({ label: kernel, make: () => nativeGemm({ kernel }) })),
  ...nativeBf16Kernels().map((kernel) => ({ label: `bfloat16 ${kernel}`, make: () => nativeBf16Gemm({ kernel }) })),
];

describe('native products with the sigmoid epilogue', function () {
  before(function () {
    if (kernels.length === 0) this.skip();
  });

  for (const { label, make } of kernels) {
    for (const set of nativeElementwiseSets()) {
      it(`${label}, element-wise ${set}: the bits of the product, then sigmoid(C + bias)`, function () {
        const gemm = make()!;
        const ew = nativeElementwise({ set })!;
        expect(gemm.fusesSigmoid).to.equal(true);
        const rng = new CounterRng(21);
        for (const [m, k, n, transposeB] of SHAPES) {
          const a = new Float32Array(m * k);
          const b = new Float32Array(k * n);
          const bias = new Float32Array(n);
          rng.uniforms(a);
          rng.uniforms(b);
          rng.uniforms(bias);
          for (let i = 0; i < b.length; i++) b[i] = (b[i]! - 0.5) / 4;
          for (let j = 0; j < n; j++) bias[j] = 8 * bias[j]! - 4;
          if (n > 2) bias[1] = NaN;
          const base = { m, n, k, a, transposeA: false, b, transposeB, alpha: 1, beta: 0 };
          const want = new Float32Array(m * n).fill(7);
          gemm.run({ ...base, c: want });
          ew.sigmoid(want, want, m, n, bias);
          for (const withBias of [true, false]) {
            const expected = withBias ? want : (() => {
              const c = new Float32Array(m * n);
              gemm.run({ ...base, c });
              ew.sigmoid(c, c, m, n);
              return c;
            })();
            const got = new Float32Array(m * n).fill(7);
            gemm.run({ ...base, c: got, sigmoid: { elementwiseSet: set, bias: withBias ? bias : undefined } });
            const bad = got.findIndex((x, i) => !Object.is(x, expected[i]));
            if (bad >= 0) expect.fail(`${m}x${k}x${n}${transposeB ? ' B transposed' : ''}${withBias ? '' : ' no bias'}: C[${Math.floor(bad / n)}, ${bad % n}] is ${got[bad]}, product then sigmoid gives ${expected[bad]}`);
          }
        }
      });
    }

    it(`${label}: refuses an epilogue set it does not have and a bias of the wrong length`, function () {
      const gemm = make()!;
      const args = { m: 2, n: 3, k: 1, a: new Float32Array(2), transposeA: false, b: new Float32Array(3), transposeB: false, c: new Float32Array(6), alpha: 1, beta: 0 };
      expect(() => gemm.run({ ...args, sigmoid: { elementwiseSet: 'counting', bias: undefined } })).to.throw(InvalidValueError, /needs a native element-wise set/);
      expect(() => gemm.run({ ...args, sigmoid: { elementwiseSet: nativeElementwiseSets()[0]!, bias: new Float32Array(2) } })).to.throw(InvalidValueError, /bias has 2 elements, C has 3 columns/);
    });
  }
});

describe('products without a sigmoid epilogue', function () {
  it('TypeScript and WebAssembly kernels refuse one instead of leaving C without it', function () {
    const args = { m: 2, n: 3, k: 1, a: new Float32Array(2), transposeA: false, b: new Float32Array(3), transposeB: false, c: new Float32Array(6), alpha: 1, beta: 0 };
    for (const gemm of [new TsGemm(), wasmGemm({ threads: 1 })] as (Gemm | undefined)[]) {
      if (gemm === undefined) continue; // no WebAssembly SIMD here
      expect(gemm.fusesSigmoid, gemm.name).to.not.equal(true);
      expect(() => gemm.run({ ...args, sigmoid: { elementwiseSet: 'avx512', bias: undefined } }), gemm.name).to.throw(InvalidValueError, /has no sigmoid epilogue/);
    }
  });
});
