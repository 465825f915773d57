import { expect } from 'chai';
import { CounterRng, InvalidValueError, Matrix, rngState, roundToBfloat16, type Backend, type Tensor } from '@boltzmann/tensor';
import { randomMatrix } from '@boltzmann/tensor/testing';
import { CpuBackend, CpuTensor, EMULATED_BF16_KERNEL, nativeBf16Gemm, nativeBf16Kernels, nativeElementwise, nativeElementwiseSets, nativeGemm } from '../src/index.js';
import { cpuTensorElements } from '../src/cpu-tensor.js';

/**
 * A weight rounded to bfloat16 once per step: the optimizer's axpbyPasses writes the rounded
 * copy of what it updates, and the mixed-precision products pack op(B) from that copy instead of
 * rounding the float32 elements again. The result must be the same bits either way, and the
 * copy must never be used once anything may have written the weight since.
 */

const kernels = nativeBf16Kernels();
const sets = nativeElementwiseSets();

/** The 16 bits the reference rounding gives `x` (NaN: undefined, any quiet NaN will do). */
function referenceBits(x: number): number | undefined {
  const word = new Float32Array([roundToBfloat16(x)]);
  return Number.isNaN(word[0]) ? undefined : new Uint16Array(word.buffer)[1]!;
}

/** Float32 values that reach every branch of the rounding, then random ones of many magnitudes. */
function roundingInputs(count: number): Float32Array {
  const special = [0, -0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 1 + 2 ** -9, 65535.5, 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 2 ** -126, 2 ** -130, -(2 ** -140), 1e-45];
  const nans = new Float32Array(new Uint32Array([0x7f800001, 0xff800001, 0x7fbfffff, 0xffffffff]).buffer);
  const out = new Float32Array(special.length + nans.length + count);
  out.set(special);
  out.set(nans, special.length);
  const rng = new CounterRng(41);
  const u = new Float64Array(2 * count);
  rng.uniforms(u);
  for (let i = 0; i < count; i++) out[special.length + nans.length + i] = (u[2 * i]! - 0.5) * 2 ** Math.floor(u[2 * i + 1]! * 60 - 30);
  return out;
}

function expectSameBits(got: Float32Array, want: Float32Array, what: string): void {
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  const bad = g.findIndex((x, i) => x !== w[i]);
  if (bad >= 0) expect.fail(`${what}: element ${bad} is ${got[bad]}, expected ${want[bad]} (the same bits)`);
}

describe('native rounding of a weight to bfloat16', function () {
  before(function () {
    if (sets.length === 0) this.skip();
  });

  for (const set of sets) {
    it(`${set}: roundToBfloat16 gives the reference's bits (ties to even, NaN, infinities, subnormals)`, function () {
      const xs = roundingInputs(5001);
      const bits = new Uint16Array(xs.length);
      nativeElementwise({ set })!.roundToBfloat16(xs, bits);
      xs.forEach((x, i) => {
        const want = referenceBits(x);
        if (want === undefined) expect((bits[i]! & 0x7f80) === 0x7f80 && (bits[i]! & 0x7f) !== 0, `NaN -> ${bits[i]!.toString(16)}`).to.equal(true);
        else if (bits[i] !== want) expect.fail(`${x}: bits ${bits[i]!.toString(16)}, expected ${want.toString(16)}`);
      });
    });

    it(`${set}: axpbyPasses writes the rounded copy of the final values, block by block, on every thread`, function () {
      const ew = nativeElementwise({ set })!;
      for (const n of [1, 1023, 1025, 70_001]) {
        const rng = new CounterRng(n);
        const [w, v, g] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
        rng.uniforms(w);
        rng.uniforms(v);
        rng.uniforms(g);
        const wBits = new Uint16Array(n).fill(0xffff);
        const vBits = new Uint16Array(n).fill(0xffff);
        // The weight is written by two passes: its copy must hold the value after the second.
        ew.axpbyPasses([{ alpha: 0.9, x: v, beta: -0.1, y: g, out: v }, { alpha: 1, x: w, beta: 1, y: v, out: w }, { alpha: 1, x: w, beta: 0.5, y: g, out: w }], n, [{ source: w, bits: wBits }, { source: v, bits: vBits }]);
        const want = new Uint16Array(n);
        ew.roundToBfloat16(w, want);
        expect(Array.from(wBits)).to.deep.equal(Array.from(want), `n ${n}: the weight's copy`);
        ew.roundToBfloat16(v, want);
        expect(Array.from(vBits)).to.deep.equal(Array.from(want), `n ${n}: the velocity's copy`);
      }
    });
  }
});

/** Shapes around both kernels' tiles (12 x 32, 4 x 16), odd depths, several depth panels, each way C is split. */
const SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [3, 17, 1],
  [13, 3, 45],
  [17, 129, 33],
  [100, 784, 65],
  [100, 501, 97],
  [333, 100, 40],
  [37, 1031, 45],
  [130, 3001, 130],
];

describe('mixed-precision products from a pre-rounded op(B)', function () {
  this.timeout(120_000);
  before(function () {
    if (kernels.length === 0 || sets.length === 0) this.skip();
  });

  for (const kernel of kernels) {
    it(`${kernel}: the bits of rounding while packing, for B and B^T, one thread and all, with the sigmoid epilogue`, function () {
      const rng = new CounterRng(43);
      const ew = nativeElementwise()!;
      for (const [m, k, n] of kernel === EMULATED_BF16_KERNEL && kernels.length > 1 ? SHAPES.slice(0, -1) : SHAPES) {
        for (const transposeB of [false, true]) {
          const a = randomMatrix(rng, m, k).data as Float32Array;
          const b = randomMatrix(rng, transposeB ? n : k, transposeB ? k : n).data as Float32Array;
          const bias = randomMatrix(rng, 1, n).data as Float32Array;
          const bBits = new Uint16Array(b.length);
          ew.roundToBfloat16(b, bBits);
          const threads = (m + k + n) % 2;
          const gemm = nativeBf16Gemm({ kernel, threads })!;
          for (const sigmoid of [undefined, { elementwiseSet: ew.name, bias }]) {
            const base = { m, n, k, a, transposeA: false, b, transposeB, alpha: 0.75, beta: sigmoid ? 0 : 1, sigmoid };
            const start = randomMatrix(rng, m, n).data as Float32Array;
            const want = start.slice();
            gemm.run({ ...base, c: want });
            const got = start.slice();
            gemm.run({ ...base, c: got, bBits });
            expectSameBits(got, want, `${kernel} ${m}x${k}x${n}${transposeB ? ' B^T' : ''}${sigmoid ? ' sigmoid' : ''}`);
          }
          // The copy is what the product reads: the bits of 2b give exactly twice the product.
          const doubled = b.map((x) => 2 * x);
          const doubledBits = new Uint16Array(b.length);
          ew.roundToBfloat16(doubled, doubledBits);
          const once = new Float32Array(m * n);
          gemm.run({ m, n, k, a, transposeA: false, b, transposeB, c: once, alpha: 1, beta: 0 });
          const twice = new Float32Array(m * n);
          gemm.run({ m, n, k, a, transposeA: false, b, transposeB, c: twice, alpha: 1, beta: 0, bBits: doubledBits });
          expectSameBits(twice, once.map((x) => 2 * x), `${kernel} ${m}x${k}x${n}${transposeB ? ' B^T' : ''} from the bits of 2b`);
        }
      }
    });
  }

  it('only the mixed-precision kernels take bBits, and only of b\'s length', function () {
    const f32 = nativeGemm()!;
    const args = { m: 2, n: 2, k: 2, a: new Float32Array(4), transposeA: false, b: new Float32Array(4), transposeB: false, c: new Float32Array(4), alpha: 1, beta: 0 };
    expect(() => f32.run({ ...args, bBits: new Uint16Array(4) })).to.throw(InvalidValueError, /bBits is for the mixed-precision kernels/);
    expect(() => nativeBf16Gemm()!.run({ ...args, bBits: new Uint16Array(3) })).to.throw(InvalidValueError, /bBits has 3 elements, b has 4/);
  });
});

/** One CD-like step on the backend: the three products that read W, a gradient product into G, and SGD with momentum on W. */
function step(be: Backend, t: { W: Tensor; V: Tensor; G: Tensor; x: Tensor; h: Tensor; v: Tensor; c: Tensor; b: Tensor }): void {
  be.linear(t.x, t.W, t.c, t.h, { activation: 'sigmoid' });
  be.linear(t.h, t.W, t.b, t.v, { activation: 'sigmoid', transposeW: true });
  be.linear(t.v, t.W, t.c, t.h, { activation: 'sigmoid' });
  be.matmul(t.v, t.h, t.G, { transposeA: true, alpha: 1 / 7 });
  be.axpbyPasses!([{ alpha: 0.5, x: t.V, beta: -0.25, y: t.G, out: t.V }, { alpha: 1, x: t.W, beta: 1, y: t.V, out: t.W }]);
}

const VISIBLE = 45;
const HIDDEN = 37;

function setUp(be: Backend) {
  const rng = new CounterRng(47);
  return {
    W: be.upload(randomMatrix(rng, VISIBLE, HIDDEN, -0.5, 0.5)),
    V: be.zeros(VISIBLE, HIDDEN),
    G: be.zeros(VISIBLE, HIDDEN),
    x: be.upload(randomMatrix(rng, 7, VISIBLE, 0, 1)),
    h: be.zeros(7, HIDDEN),
    v: be.zeros(7, VISIBLE),
    c: be.upload(randomMatrix(rng, 1, HIDDEN)),
    b: be.upload(randomMatrix(rng, 1, VISIBLE)),
  };
}

describe('CpuBackend bfloat16-mixed: the rounded copy of a weight', function () {
  before(function () {
    if (kernels.length === 0 || sets.length === 0) this.skip();
  });

  for (const kernel of kernels) {
    it(`${kernel}: training with the copy gives the bits of training without it, and the products read it`, async function () {
      const withCopy = new CpuBackend({ precision: 'bfloat16-mixed', gemm: nativeBf16Gemm({ kernel })! });
      const without = new CpuBackend({ precision: 'bfloat16-mixed', gemm: nativeBf16Gemm({ kernel })! });
      const a = setUp(withCopy);
      const b = setUp(without);
      void (b.W as CpuTensor).data; // handing out data turns the copy off for good
      for (let s = 0; s < 5; s++) {
        step(withCopy, a);
        step(without, b);
        expect(cpuTensorElements.roundedBits(a.W as CpuTensor), `step ${s}: W's copy is current`).to.be.instanceOf(Uint16Array);
        expect(cpuTensorElements.roundedBits(b.W as CpuTensor)).to.equal(undefined);
      }
      expectSameBits((await withCopy.read(a.W)).data as Float32Array, (await without.read(b.W)).data as Float32Array, 'W after 5 steps');
      expect(cpuTensorElements.roundedBits(a.V as CpuTensor), 'no copy of what no product reads').to.equal(undefined);
      // The products read the copy: doubling the copy alone doubles the pre-activations.
      const bits = cpuTensorElements.roundedBits(a.W as CpuTensor)!;
      const wData = (await withCopy.read(a.W)).data as Float32Array;
      const doubled = new Uint16Array(bits.length);
      nativeElementwise()!.roundToBfloat16(wData.map((x) => 2 * x), doubled);
      bits.set(doubled);
      const zero = withCopy.zeros(1, HIDDEN);
      const out = withCopy.zeros(7, HIDDEN);
      withCopy.linear(a.x, a.W, zero, out);
      const plain = new CpuBackend({ precision: 'bfloat16-mixed', gemm: nativeBf16Gemm({ kernel })! });
      const want = plain.zeros(7, HIDDEN);
      plain.linear(plain.upload(await withCopy.read(a.x)), plain.upload(new Matrix(VISIBLE, HIDDEN, wData.map((x) => 2 * x))), plain.zeros(1, HIDDEN), want);
      expectSameBits((await withCopy.read(out)).data as Float32Array, (await plain.read(want)).data as Float32Array, 'x W from the doubled copy');
      for (const be of [withCopy, without, plain]) be.destroy();
    });
  }

  /** Every op that can write a tensor of W's shape, writing W. */
  const writers: Record<string, (be: Backend, W: Tensor, other: Tensor) => void> = {
    write: (be, W) => be.write(W, new Matrix(VISIBLE, HIDDEN, new Float32Array(VISIBLE * HIDDEN).fill(0.25))),
    copy: (be, W, other) => be.copy(other, W),
    fill: (be, W) => be.fill(W, -0.5),
    gatherRows: (be, W, other) => be.gatherRows(other, Uint32Array.from({ length: VISIBLE }, (_, i) => VISIBLE - 1 - i), W),
    matmul: (be, W, other) => be.matmul(other, be.zeros(HIDDEN, HIDDEN, 0.125), W),
    linear: (be, W, other) => be.linear(other, be.zeros(HIDDEN, HIDDEN, 0.125), be.zeros(1, HIDDEN, 1), W),
    unary: (be, W) => be.unary('square', W, W),
    binary: (be, W, other) => be.binary('add', W, other, W),
    axpby: (be, W, other) => be.axpby(2, W, 1, other, W),
    'axpbyPasses (TypeScript path: a coefficient float32 cannot hold)': (be, W, other) => be.axpbyPasses!([{ alpha: 1e-300, x: other, beta: 2, y: W, out: W }]),
    affine: (be, W) => be.affine(W, 3, 1, W),
    addRowVector: (be, W) => be.addRowVector(W, be.zeros(1, HIDDEN, 1), W),
    mulRowVector: (be, W) => be.mulRowVector(W, be.zeros(1, HIDDEN, 3), W),
    mulColVector: (be, W) => be.mulColVector(W, be.zeros(VISIBLE, 1, 3), W),
    softmaxGroups: (be, W) => be.softmaxGroups(W, HIDDEN, W),
    sampleBernoulli: (be, W) => be.sampleBernoulli(0.5, rngState(3, 1), W),
    sampleGaussian: (be, W) => be.sampleGaussian(W, 1, rngState(3, 2), W),
    sampleCategorical: (be, W) => be.sampleCategorical(be.zeros(VISIBLE, HIDDEN, 1 / HIDDEN), HIDDEN, rngState(3, 3), W),
    uniform: (be, W) => be.uniform(rngState(3, 4), W),
  };

  for (const [name, write] of Object.entries(writers)) {
    it(`a write by ${name} retires the copy: the next product reads the new values`, async function () {
      const be = new CpuBackend({ precision: 'bfloat16-mixed', gemm: nativeBf16Gemm()! });
      const t = setUp(be);
      step(be, t);
      expect(cpuTensorElements.roundedBits(t.W as CpuTensor)).to.be.instanceOf(Uint16Array);
      write(be, t.W, be.upload(randomMatrix(new CounterRng(5), VISIBLE, HIDDEN)));
      expect(cpuTensorElements.roundedBits(t.W as CpuTensor), 'the copy after the write').to.equal(undefined);
      const got = be.zeros(7, HIDDEN);
      be.linear(t.x, t.W, t.c, got);
      const fresh = new CpuBackend({ precision: 'bfloat16-mixed', gemm: nativeBf16Gemm()! });
      const want = fresh.zeros(7, HIDDEN);
      fresh.linear(fresh.upload(await be.read(t.x)), fresh.upload(await be.read(t.W)), fresh.upload(await be.read(t.c)), want);
      expectSameBits((await be.read(got)).data as Float32Array, (await fresh.read(want)).data as Float32Array, `x W after ${name}`);
      be.destroy();
      fresh.destroy();
    });
  }

  it('writes through data are seen: handing out data turns the copy off for good', async function () {
    const be = new CpuBackend({ precision: 'bfloat16-mixed', gemm: nativeBf16Gemm()! });
    const t = setUp(be);
    step(be, t);
    const data = (t.W as CpuTensor).data;
    step(be, t);
    expect(cpuTensorElements.roundedBits(t.W as CpuTensor), 'no copy once data was handed out').to.equal(undefined);
    data.fill(0.5); // a write the backend cannot see
    const got = be.zeros(7, HIDDEN);
    be.linear(t.x, t.W, t.c, got);
    const x = (await be.read(t.x)).data;
    let want = (await be.read(t.c)).data[0]!;
    for (let i = 0; i < VISIBLE; i++) want += roundToBfloat16(x[i]!) * 0.5;
    expect((await be.read(got)).data[0]).to.be.closeTo(want, 1e-4 * Math.abs(want));
    be.destroy();
  });

  it('the copy counts in memory() (2 bytes an element) and goes with the tensor', function () {
    const be = new CpuBackend({ precision: 'bfloat16-mixed', gemm: nativeBf16Gemm()! });
    const t = setUp(be);
    const before = be.memory().numBytes;
    step(be, t);
    expect(be.memory().numBytes - before).to.equal(2 * VISIBLE * HIDDEN);
    step(be, t);
    expect(be.memory().numBytes - before, 'allocated once').to.equal(2 * VISIBLE * HIDDEN);
    for (const x of Object.values(t)) be.dispose(x);
    expect(be.memory()).to.deep.equal({ numTensors: 0, numBytes: 0 });
    be.destroy();
  });

  it('float32 keeps no copy', function () {
    const be = new CpuBackend({ precision: 'float32' });
    const t = setUp(be);
    const before = be.memory().numBytes;
    step(be, t);
    expect(be.memory().numBytes).to.equal(before);
    expect(cpuTensorElements.roundedBits(t.W as CpuTensor)).to.equal(undefined);
    be.destroy();
  });
});
