import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CounterRng, InvalidValueError, Matrix, createBackend, roundToBfloat16 } from '@boltzmann/tensor';
import { bfloat16ProductReference, describeBackendConformance, expectWithin, randomMatrix } from '@boltzmann/tensor/testing';
import { CpuBackend, EMULATED_BF16_KERNEL, bfloat16Hardware, nativeBf16Gemm, nativeBf16Kernels, nativeGemm, nativeGemmUnavailableReason } from '../src/index.js';

/**
 * Precision "bfloat16-mixed": every mixed-precision kernel this processor runs (AVX512-BF16
 * where it has it, and always the portable emulation) against the reference - the float64
 * product of operands rounded to bfloat16, with the float32-accumulation bound - through the
 * whole conformance suite and on shapes that reach every way the driver splits a product.
 */

const built = nativeBf16Kernels().length > 0;

for (const kernel of built ? nativeBf16Kernels() : ['(not built)']) {
  describe(`CpuBackend bfloat16-mixed on kernel ${kernel}`, function () {
    before(function () {
      if (!built) {
        console.log(`      skipped: the native addon is unavailable here: ${nativeGemmUnavailableReason()}`);
        this.skip();
      }
    });
    describeBackendConformance(`CpuBackend bfloat16-mixed, ${kernel}`, () => new CpuBackend({ precision: 'bfloat16-mixed', gemm: nativeBf16Gemm({ kernel })! }));
  });
}

type Shape = readonly [m: number, k: number, n: number];

/**
 * Odd sizes around the tiles (12 x 32, 4 x 16), shapes split by columns and by rows, many
 * depth panels (3001: odd, past the panel depth), and 130 x 3001 x 130: operands too big to
 * pack whole, so C is cut into 2-D tiles. (The RBM's own 100 x 784 products are in the
 * conformance suite above.)
 */
const SHAPES: readonly Shape[] = [
  [1, 1, 1],
  [1, 3, 1],
  [3, 1, 3],
  [3, 17, 1],
  [1, 129, 257],
  [257, 129, 1],
  [17, 3, 129],
  [129, 257, 17],
  [257, 17, 129],
  [13, 3001, 45],
  [100, 784, 65],
  [784, 100, 65],
  [20, 33, 64],
  [4, 7, 96],
];
const TILED: Shape = [130, 3001, 130];

describe('native mixed-precision kernels against the bfloat16 reference', function () {
  this.timeout(120_000);
  const rng = new CounterRng(16);
  const kernels = nativeBf16Kernels();

  before(function () {
    if (kernels.length === 0) this.skip();
  });

  for (const kernel of built ? nativeBf16Kernels() : []) {
    it(`${kernel}: every shape, transposes, alpha and beta, one thread and all`, function () {
      // The 2-D tiling case is the slowest; the hardware kernel covers the shared driver code,
      // the emulation runs it only where it is the sole kernel.
      const shapes = kernel !== EMULATED_BF16_KERNEL || kernels.length === 1 ? [...SHAPES, TILED] : SHAPES;
      for (const shape of shapes) {
        const [m, k, n] = shape;
        const transposes = [[false, false], [true, false], [false, true], [true, true]] as const;
        for (const [ta, tb] of shape === TILED ? [transposes[0], transposes[3]] : transposes) {
          const A = randomMatrix(rng, ta ? k : m, ta ? m : k);
          const B = randomMatrix(rng, tb ? n : k, tb ? k : n);
          const C = randomMatrix(rng, m, n);
          const threads = (m + n + k) % 2 === 0 ? 1 : 0;
          const gemm = nativeBf16Gemm({ kernel, threads })!;
          const c = C.data.slice() as Float32Array;
          gemm.run({ m, n, k, a: A.data, transposeA: ta, b: B.data, transposeB: tb, c, alpha: -0.5, beta: 1 });
          const { want, bound } = bfloat16ProductReference(A, B, C, { transposeA: ta, transposeB: tb, alpha: -0.5, beta: 1 });
          expectWithin(new Matrix(m, n, c), want, bound, `${kernel} ${m}x${k}x${n}${ta ? ' A^T' : ''}${tb ? ' B^T' : ''}`);
        }
      }
    });
  }

  it('the reference tells bfloat16 operands from float32 ones: the float32 kernel fails its bound', function () {
    const f32 = nativeGemm();
    if (f32 === undefined) this.skip();
    const A = randomMatrix(rng, 17, 129);
    const B = randomMatrix(rng, 129, 33);
    const c = new Float32Array(17 * 33);
    f32!.run({ m: 17, n: 33, k: 129, a: A.data, transposeA: false, b: B.data, transposeB: false, c, alpha: 1, beta: 0 });
    const { want, bound } = bfloat16ProductReference(A, B, undefined);
    expect(() => expectWithin(new Matrix(17, 33, c), want, bound, 'float32 kernel')).to.throw(/bfloat16-mixed bound/);
  });

  it('rounds to nearest even like the reference: ties, NaN, infinities, overflow, subnormals', function () {
    const xs = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 3.4e38, -3.4e38, Infinity, -Infinity, 2 ** -130, -(2 ** -130), 0, -0, 65535.5];
    for (const kernel of kernels) {
      const gemm = nativeBf16Gemm({ kernel })!;
      const c = new Float32Array(xs.length);
      gemm.run({ m: xs.length, n: 1, k: 1, a: Float32Array.from(xs), transposeA: false, b: Float32Array.of(1), transposeB: false, c, alpha: 1, beta: 0 });
      xs.forEach((x, i) => expect(Object.is(c[i], roundToBfloat16(x)) || c[i] === roundToBfloat16(x), `${kernel}: ${x} -> ${c[i]}, want ${roundToBfloat16(x)}`).to.equal(true));
      const nan = new Float32Array(1);
      gemm.run({ m: 1, n: 1, k: 1, a: Float32Array.of(NaN), transposeA: false, b: Float32Array.of(1), transposeB: false, c: nan, alpha: 1, beta: 0 });
      expect(nan[0], `${kernel}: NaN`).to.be.NaN;
    }
    expect(roundToBfloat16(3.4e38)).to.equal(Infinity); // rounds up past the largest bfloat16
  });
});

describe('CpuBackend precision choices', function () {
  const hardware = bfloat16Hardware();

  it('bfloat16-mixed picks the hardware kernel, keeps float32 tensors and says what runs', function () {
    if (!('kernel' in hardware)) {
      expect(() => new CpuBackend({ precision: 'bfloat16-mixed' })).to.throw(InvalidValueError, /bfloat16-mixed" is not available here.*best-available/);
      return;
    }
    const be = new CpuBackend({ precision: 'bfloat16-mixed' });
    expect(be.precision).to.equal('bfloat16-mixed');
    expect(be.gemm.name).to.equal(`native-${hardware.kernel}`);
    expect(be.gemm.operands).to.equal('bfloat16');
    expect(be.readSync(be.zeros(2, 3)).data).to.be.instanceOf(Float32Array);
    expect(be.kernels).to.equal(`bfloat16-mixed: products native-${hardware.kernel}, element-wise ${be.elementwise}`);
    // Only products round: element-wise ops keep float32 values that bfloat16 cannot hold.
    const x = be.upload(new Matrix(1, 1, Float32Array.of(1 + 2 ** -8)));
    be.binary('add', x, x, x);
    expect(be.readSync(x).data[0]).to.equal(2 + 2 ** -7);
  });

  it('best-available gives bfloat16-mixed where the processor has bfloat16 instructions, float32 elsewhere', function () {
    const be = new CpuBackend({ precision: 'best-available' });
    expect(be.precision).to.equal('kernel' in hardware ? 'bfloat16-mixed' : 'float32');
    expect((createBackend('cpu', { precision: 'best-available' }) as CpuBackend).precision).to.equal(be.precision);
  });

  it('refuses a kernel that does not match the precision, and unknown precisions', function () {
    if (!built) this.skip();
    const emulated = nativeBf16Gemm({ kernel: EMULATED_BF16_KERNEL })!;
    expect(new CpuBackend({ precision: 'bfloat16-mixed', gemm: emulated }).gemm.name).to.equal(`native-${EMULATED_BF16_KERNEL}`);
    expect(new CpuBackend({ precision: 'best-available', gemm: emulated }).precision).to.equal('bfloat16-mixed');
    expect(() => new CpuBackend({ precision: 'float32', gemm: emulated })).to.throw(InvalidValueError, /rounds its operands to bfloat16.*"bfloat16-mixed"/);
    expect(() => new CpuBackend({ precision: 'bfloat16-mixed', gemm: nativeGemm()! })).to.throw(InvalidValueError, /needs a mixed-precision gemm kernel/);
    expect(() => new CpuBackend({ precision: 'float64', gemm: emulated })).to.throw(InvalidValueError, /does not handle float64/);
    expect(() => new CpuBackend({ precision: 'bfloat16' as 'float32' })).to.throw(InvalidValueError, /"float32", "float64", "bfloat16-mixed" or "best-available", got "bfloat16"/);
    expect(() => nativeBf16Gemm({ kernel: 'avx512-12x32' })).to.throw(InvalidValueError, /not one of/);
  });

  it('without bfloat16 hardware (here: the addon disabled) bfloat16-mixed is a clear error and best-available is float32', function () {
    this.timeout(60_000);
    const script = `
      import { CpuBackend } from ${JSON.stringify(fileURLToPath(new URL('../src/index.ts', import.meta.url)))};
      let message = 'no error';
      try { new CpuBackend({ precision: 'bfloat16-mixed' }); } catch (e) { message = e.message; }
      console.log(JSON.stringify({ message, best: new CpuBackend({ precision: 'best-available' }).precision }));`;
    const child = spawnSync(process.execPath, ['--conditions=@boltzmann/source', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, BOLTZMANN_NATIVE: '0' } });
    expect(child.status, child.stderr).to.equal(0);
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as { message: string; best: string };
    expect(result.message).to.match(/^CpuBackend: precision "bfloat16-mixed" is not available here: the native addon is unavailable: disabled by BOLTZMANN_NATIVE=0\. Use "best-available"/);
    expect(result.best).to.equal('float32');
  });
});
