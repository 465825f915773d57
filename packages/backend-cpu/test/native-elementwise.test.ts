import { expect } from 'chai';
import { CounterRng, InvalidValueError, ShapeError, uniformAt } from '@boltzmann/tensor';
import { bernoulliTensor } from '../src/random.js';
import { nativeElementwise, nativeElementwiseSets, nativeElementwiseUnavailableReason, type NativeElementwise } from '../src/native-elementwise.js';

/** Unit roundoff of float32. */
const U32 = 2 ** -24;

/** Values that exercise the exp range reduction, its clamps and the special cases. */
const SPECIAL = [0, -0, 1e-8, -1e-8, 0.5, -0.5, 1, -1, 10, -10, 20, -20, 30, -30, 87, -87, 88, -88, 88.5, -88.5, 89, -89, 100, -100, 1e30, -1e30, Infinity, -Infinity, NaN];

function sigmoid64(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Every kernel set this processor runs (AVX-512, AVX2, generic); one skipped suite where none. */
const SETS: readonly (string | undefined)[] = nativeElementwiseSets().length > 0 ? nativeElementwiseSets() : [undefined];

for (const set of SETS) describe(`native element-wise kernels (${set ?? 'not built'}) against float64`, function () {
  let native: NativeElementwise;
  before(function () {
    const made = nativeElementwise({ set });
    if (made === undefined) {
      console.log(`      skipped: the native addon is unavailable here: ${nativeElementwiseUnavailableReason()}`);
      this.skip();
    }
    native = made;
  });

  /** Checks dst against sigmoid(src + bias) in float64: 4 ulp relative, 1e-37 absolute (subnormal results). */
  function expectSigmoid(src: Float32Array, dst: Float32Array, rows: number, cols: number, bias: Float32Array | undefined, what: string): void {
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const t = Math.fround(src[i * cols + j]! + (bias ? bias[j]! : 0));
        const want = sigmoid64(t);
        const got = dst[i * cols + j]!;
        if (Number.isNaN(want)) {
          if (!Number.isNaN(got)) expect.fail(`${what}: (${i}, ${j}) sigmoid(${t}) is ${got}, expected NaN`);
        } else if (!(Math.abs(got - want) <= 4 * U32 * Math.abs(want) + 1e-37)) {
          expect.fail(`${what}: (${i}, ${j}) sigmoid(${t}) is ${got}, expected ${want}`);
        }
      }
    }
  }

  it('sigmoid at special values: NaN stays NaN, the clamps of exp, infinities, subnormal results', function () {
    const src = Float32Array.from(SPECIAL);
    const dst = new Float32Array(src.length).fill(-7);
    native.sigmoid(src, dst, 1, src.length);
    expectSigmoid(src, dst, 1, src.length, undefined, 'special');
    expect(dst[SPECIAL.indexOf(0)]).to.equal(0.5);
    expect(dst[SPECIAL.indexOf(Infinity)]).to.equal(1);
    expect(dst[SPECIAL.indexOf(-Infinity)]).to.equal(0);
  });

  for (const [rows, cols] of [[1, 1], [3, 17], [2, 33], [129, 3], [7, 500]] as const) {
    it(`sigmoid ${rows}x${cols}, with and without a bias row, in place and not (row tails of 16 and 8 lanes)`, function () {
      const rng = new CounterRng(rows * 1000 + cols);
      const src = new Float32Array(rows * cols);
      rng.uniforms(src);
      for (let i = 0; i < src.length; i++) src[i] = 60 * src[i]! - 30;
      const bias = new Float32Array(cols);
      rng.uniforms(bias);
      for (let j = 0; j < cols; j++) bias[j] = 4 * bias[j]! - 2;
      for (const withBias of [false, true]) {
        const b = withBias ? bias : undefined;
        const dst = new Float32Array(rows * cols).fill(NaN);
        native.sigmoid(src, dst, rows, cols, b);
        expectSigmoid(src, dst, rows, cols, b, `out of place, bias ${withBias}`);
        const inPlace = src.slice();
        native.sigmoid(inPlace, inPlace, rows, cols, b);
        expect(Array.from(inPlace), `in place equals out of place, bias ${withBias}`).to.deep.equal(Array.from(dst));
      }
      // Elements past rows x cols are not touched.
      const longer = new Float32Array(rows * cols + 5).fill(3);
      native.sigmoid(src, longer, rows, cols);
      expect(Array.from(longer.subarray(rows * cols))).to.deep.equal([3, 3, 3, 3, 3]);
    });
  }

  it('axpby on odd lengths, in place on x and on y, NaN propagating', function () {
    const rng = new CounterRng(5);
    for (const n of [1, 7, 15, 17, 33, 1001]) {
      const x = new Float32Array(n);
      const y = new Float32Array(n);
      rng.uniforms(x);
      rng.uniforms(y);
      for (let i = 0; i < n; i++) {
        x[i] = 8 * x[i]! - 4;
        y[i] = 8 * y[i]! - 4;
      }
      x[n - 1] = NaN;
      for (const [alpha, beta] of [[0.9, 0.05], [1, -1e-4], [-2, 0]] as const) {
        const want = Array.from(x, (xi, i) => alpha * xi + beta * y[i]!);
        const check = (got: Float32Array, what: string): void => {
          for (let i = 0; i < n; i++) {
            if (Number.isNaN(want[i]!)) {
              if (!Number.isNaN(got[i]!)) expect.fail(`${what} n=${n}: element ${i} is ${got[i]}, expected NaN`);
              continue;
            }
            const bound = 2 * U32 * (Math.abs(alpha * x[i]!) + Math.abs(beta * y[i]!)) + 1e-30;
            if (!(Math.abs(got[i]! - want[i]!) <= bound)) expect.fail(`${what} n=${n} alpha=${alpha} beta=${beta}: element ${i} is ${got[i]}, expected ${want[i]}`);
          }
        };
        const out = new Float32Array(n);
        native.axpby(alpha, x, beta, y, out);
        check(out, 'out of place');
        const onX = x.slice();
        native.axpby(alpha, onX, beta, y, onX);
        check(onX, 'out = x');
        const onY = y.slice();
        native.axpby(alpha, x, beta, onY, onY);
        check(onY, 'out = y');
      }
    }
  });

  it('axpby on arrays large enough to be split between threads gives the bits of the same kernel on one thread', function () {
    const n = 3 * 2 ** 16 + 37;
    const rng = new CounterRng(11);
    const x = new Float32Array(n);
    const y = new Float32Array(n);
    rng.uniforms(x);
    rng.uniforms(y);
    for (let i = 0; i < n; i++) y[i] = 1e3 * (y[i]! - 0.5);
    // Pieces of 4096 (a multiple of every vector width) stay below the threshold: each runs on the caller alone.
    const want = new Float32Array(n);
    for (let from = 0; from < n; from += 4096) {
      const to = Math.min(n, from + 4096);
      native.axpby(0.9, x.subarray(from, to), -0.05, y.subarray(from, to), want.subarray(from, to));
    }
    const got = new Float32Array(n);
    native.axpby(0.9, x, -0.05, y, got);
    expect(got.every((v, i) => Object.is(v, want[i])), 'split between threads = one thread').to.equal(true);
    native.axpby(0.9, x, -0.05, y, y);
    expect(y.every((v, i) => Object.is(v, want[i])), 'in place on y').to.equal(true);
  });

  it('axpbyPasses gives the bits of its axpby passes one after another (an SGD step with L2 and Nesterov, block and thread edges, aliasing, NaN)', function () {
    const rng = new CounterRng(13);
    for (const n of [1, 17, 1023, 1025, 2049, 3 * 2 ** 16 + 37]) {
      const fresh = (scale: number): Float32Array => {
        const a = new Float32Array(n);
        rng.uniforms(a);
        for (let i = 0; i < n; i++) a[i] = scale * (a[i]! - 0.5);
        return a;
      };
      const w0 = fresh(2), g0 = fresh(1e-2), v0 = fresh(1e-3);
      g0[n >> 1] = NaN;
      for (const nesterov of [false, true]) {
        const [lr, m, decay] = [0.05, 0.9, 1e-4];
        const steps = (w: Float32Array, g: Float32Array, v: Float32Array) => [
          { alpha: 1, x: g, beta: decay, y: w, out: g },
          { alpha: m, x: v, beta: -lr, y: g, out: v },
          ...(nesterov ? [{ alpha: 1, x: w, beta: m, y: v, out: w }, { alpha: 1, x: w, beta: -lr, y: g, out: w }] : [{ alpha: 1, x: w, beta: 1, y: v, out: w }]),
        ];
        const [w1, g1, v1] = [w0.slice(), g0.slice(), v0.slice()];
        for (const p of steps(w1, g1, v1)) native.axpby(p.alpha, p.x, p.beta, p.y, p.out);
        const [w2, g2, v2] = [w0.slice(), g0.slice(), v0.slice()];
        native.axpbyPasses(steps(w2, g2, v2), n);
        for (const [got, want, name] of [[w2, w1, 'w'], [g2, g1, 'g'], [v2, v1, 'v']] as const) {
          const bad = got.findIndex((x, i) => !Object.is(x, want[i]));
          if (bad >= 0) expect.fail(`n=${n}${nesterov ? ' nesterov' : ''}: ${name}[${bad}] is ${got[bad]}, one pass at a time gives ${want[bad]}`);
        }
        expect(Number.isNaN(w2[n >> 1]!), 'NaN reaches w').to.equal(true);
      }
    }
    const a = new Float32Array(8);
    expect(() => native.axpbyPasses([], 8)).to.throw(InvalidValueError, /1 to 8 passes, got 0/);
    expect(() => native.axpbyPasses(Array.from({ length: 9 }, () => ({ alpha: 1, x: a, beta: 1, y: a, out: a })), 8)).to.throw(InvalidValueError, /1 to 8 passes, got 9/);
    expect(() => native.axpbyPasses([{ alpha: 1, x: a, beta: 1, y: a.subarray(1), out: a }], 8)).to.throw(ShapeError, /need 8 elements/);
  });

  it('gatherRows copies the indexed rows (repeated, out of order, odd widths, a batch split between threads); a bad index leaves out untouched', function () {
    const rng = new CounterRng(17);
    for (const [rows, cols, count] of [[5, 1, 3], [37, 13, 50], [1000, 784, 100], [300, 2001, 97]] as const) {
      const src = new Float32Array(rows * cols);
      rng.uniforms(src);
      const indices = Uint32Array.from({ length: count }, (_, i) => (i * 7919 + (i % 3 === 0 ? 0 : 1)) % rows);
      indices[count - 1] = indices[0]!;
      const out = new Float32Array(count * cols);
      native.gatherRows(src, cols, indices, out);
      indices.forEach((r, i) => {
        for (let j = 0; j < cols; j++) if (!Object.is(out[i * cols + j], src[r * cols + j])) expect.fail(`${rows}x${cols}: out row ${i} column ${j} is not src row ${r}`);
      });
      const before = out.slice();
      const bad = indices.slice();
      bad[count >> 1] = rows;
      expect(() => native.gatherRows(src, cols, bad, out)).to.throw(ShapeError, new RegExp(`index ${count >> 1} is row ${rows}, outside a source of ${rows} rows`));
      expect(out.every((v, i) => Object.is(v, before[i])), 'out untouched').to.equal(true);
    }
    expect(() => native.gatherRows(new Float32Array(6), 3, Uint32Array.from([0, 1]), new Float32Array(5))).to.throw(ShapeError, /out \(5\) needs 2x3 elements/);
  });

  it('bernoulli draws the reference stream bit for bit (p at 0, 1, NaN, just above and below its draws), in place too', function () {
    for (const n of [1, 15, 17, 1000, 5003]) {
      const rng = new CounterRng(n);
      const p = new Float32Array(n);
      rng.uniforms(p);
      for (const key of [0, 1, 0x7fffffff, -5, 0xdeadbeef | 0]) {
        const want = new Float32Array(n);
        // Probabilities at the draws themselves and one float32 step above: strict "<" decides.
        const q = p.map((x, i) => (i % 7 === 0 ? uniformAt(key, i) : i % 7 === 1 ? Math.fround(uniformAt(key, i) * (1 + 2 ** -23)) : i % 7 === 2 ? [0, 1, NaN][i % 3]! : x));
        bernoulliTensor(key, q, want);
        const got = new Float32Array(n).fill(7);
        native.bernoulli(key, q, got);
        expect(Array.from(got), `n ${n}, key ${key}`).to.deep.equal(Array.from(want));
        native.bernoulli(key, q, q);
        expect(Array.from(q), `n ${n}, key ${key}, in place`).to.deep.equal(Array.from(want));
      }
    }
  });

  it('square rounds the exact square once, in place too (odd lengths, NaN, overflow, subnormals)', function () {
    const src = Float32Array.from([...SPECIAL, 3e19, -3e19, 1e-20, 1.1, 1 + 2 ** -23, 12345.678]);
    for (const n of [1, src.length, 16, 17]) {
      const x = src.slice(0, Math.min(n, src.length));
      const want = x.map((v) => Math.fround(v * v));
      const got = new Float32Array(x.length);
      native.square(x, got);
      expect(Array.from(got)).to.deep.equal(Array.from(want));
      native.square(x, x);
      expect(Array.from(x)).to.deep.equal(Array.from(want));
    }
  });

  it('sumColumns gives the float64 row-order sums exactly (odd sizes, the 8-row blocks and their tails, cancellation, NaN, -0)', function () {
    for (const [rows, cols] of [[1, 1], [7, 3], [8, 17], [9, 33], [17, 5], [100, 784], [129, 31]] as const) {
      const rng = new CounterRng(rows * 7 + cols);
      const a = new Float32Array(rows * cols);
      const pick = new Float32Array(rows * cols);
      rng.uniforms(a);
      rng.uniforms(pick);
      // Terms of about 2^53 mixed with terms below 2: the running sums round the small ones away
      // or not depending on what came before, so adding in any other order than row by row
      // changes the float64 sums and only the exact order passes.
      for (let i = 0; i < a.length; i++) a[i] = (a[i]! - 0.5) * (pick[i]! < 0.5 ? 2 ** 54 : 3);
      if (cols > 2) {
        a[cols - 1] = NaN;
        for (let r = 0; r < rows; r++) a[r * cols + 1] = -0;
      }
      const want = new Float64Array(cols);
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let r = 0; r < rows; r++) s += a[r * cols + j]!;
        want[j] = s;
      }
      const got = new Float64Array(cols + 2).fill(123);
      native.sumColumns(a, rows, cols, got);
      expect(Array.from(got.subarray(0, cols)), `${rows}x${cols}`).to.deep.equal(Array.from(want));
      expect(Array.from(got.subarray(cols)), 'past cols untouched').to.deep.equal([123, 123]);
    }
    expect(() => native.sumColumns(new Float32Array(5), 2, 3, new Float64Array(3))).to.throw(ShapeError, /2x3/);
    expect(() => native.sumColumns(new Float32Array(6), 2, 3, new Float64Array(2))).to.throw(ShapeError, /sums/);
  });

  it('rejects sizes that do not fit and non-finite coefficients', function () {
    const a = new Float32Array(6);
    expect(() => native.sigmoid(a, new Float32Array(5), 2, 3)).to.throw(ShapeError, /need 2x3/);
    expect(() => native.sigmoid(a, a, 2, 3, new Float32Array(2))).to.throw(ShapeError, /bias has 2 elements, expected 3/);
    expect(() => native.sigmoid(a, a, 1.5, 3)).to.throw(ShapeError, /rows/);
    expect(() => native.axpby(1, a, 1, new Float32Array(5), a)).to.throw(ShapeError, /need 6/);
    expect(() => native.axpby(NaN, a, 1, a, a)).to.throw(InvalidValueError, /finite/);
    expect(() => nativeElementwise({ set: 'mmx' })).to.throw(InvalidValueError, /mmx/);
  });
});
