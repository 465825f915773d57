/**
 * A mocha suite that checks any Backend against the float64 ReferenceBackend (or another
 * float64 oracle, see `ConformanceOptions.oracle`), op by op, on seeded random inputs of odd
 * sizes (1, 3, 129...). Backend packages call
 * `describeBackendConformance` from their tests, once per mode that runs on the machine.
 *
 * The backend under test is only ever read with `await backend.read(t)` (never `readSync`), so
 * the suite runs unchanged on asynchronous backends (gpu.js webgpu, threaded webasm) whose ops
 * run later on a queue and which have no synchronous readback.
 */
import { expect } from 'chai';
import type { AxpbyPass, Backend, BinaryOp, MatmulOptions, ReduceOp, Tensor, UnaryOp } from '../backend.js';
import { runAxpbyPasses } from '../axpby-passes.js';
import { roundArrayToBfloat16 } from '../bfloat16.js';
import { InvalidValueError, ShapeError } from '../errors.js';
import { Matrix } from '../matrix.js';
import { ReferenceBackend } from '../reference-backend.js';
import { CounterRng, rngState } from '../rng.js';

/** Options of {@link describeBackendConformance}. */
export interface ConformanceOptions {
  /** Relative tolerance for element-wise ops (float32: ~1e-5). */
  tolerance?: number;
  /** Shapes [m, k, n] to test matmul on; defaults include 1, 3 and 129. */
  matmulShapes?: Array<[number, number, number]>;
  /**
   * The float64 backend the results are compared with (it must have `readSync`); default a
   * ReferenceBackend. The ReferenceBackend's own test passes an implementation written apart
   * from it, since comparing the reference with itself could not fail.
   */
  oracle?: () => Backend;
  /**
   * Whether to check that tensors are refused by another instance of the same name, with the
   * shared messages of `checkOpOwner` (default true). The ReferenceBackend, kept plain, tells
   * tensors apart by backend name only and opts out.
   */
  ownership?: boolean;
}

/** A float32 `rows` x `cols` matrix of uniforms in [lo, hi) drawn from `rng`. */
export function randomMatrix(rng: CounterRng, rows: number, cols: number, lo = -2, hi = 2): Matrix {
  const m = new Matrix(rows, cols, new Float32Array(rows * cols));
  rng.uniforms(m.data);
  for (let i = 0; i < m.data.length; i++) m.data[i] = lo + (hi - lo) * m.data[i]!;
  return m;
}

/**
 * Asserts |a - b| <= tol * (scale + |b|) element-wise, naming the first bad element. Takes host
 * matrices: pass `await backend.read(t)`, not the promise (a promise is refused by name, since
 * comparing one would check nothing).
 */
export function expectClose(actual: Matrix, expected: Matrix, tol: number, what: string, scale = 1): void {
  for (const [side, m] of [['actual', actual], ['expected', expected]] as const) {
    if (!(m instanceof Matrix)) {
      const promise = typeof (m as { then?: unknown } | null)?.then === 'function';
      expect.fail(`${what}: the ${side} value is ${promise ? 'a Promise (await backend.read(t) first)' : `not a Matrix (${String(m)})`}`);
    }
  }
  expect([actual.rows, actual.cols], `${what} shape`).to.deep.equal([expected.rows, expected.cols]);
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const b = expected.data[i]!;
    if (Number.isNaN(b) && Number.isNaN(a)) continue;
    if (a === b) continue; // covers matching infinities
    const ok = Math.abs(a - b) <= tol * (scale + Math.abs(b));
    if (!ok) expect.fail(`${what}: element ${i} (row ${Math.floor(i / expected.cols)}, col ${i % expected.cols}) is ${a}, expected ${b}`);
  }
}

/** Unit roundoff of float32. */
const FLOAT32_U = 2 ** -24;

/** `m` with every element rounded to bfloat16 (nearest even), as float64. */
function bfloat16Operand(m: Matrix): Matrix {
  return new Matrix(m.rows, m.cols, roundArrayToBfloat16(m.toFloat64().data));
}

/** `m` with every element replaced by its absolute value, as float64. */
function absolute(m: Matrix): Matrix {
  return new Matrix(m.rows, m.cols, m.toFloat64().data.map(Math.abs));
}

/**
 * The bfloat16-mixed reference of out = alpha * op(A) * op(B) + beta * C: the float64 product
 * of A and B rounded to bfloat16 (nearest even) - exact accumulation up to float64 rounding,
 * since a product of two bfloat16 values is exact - and a per-element bound on what float32
 * accumulation may add to it. The bound is the worst case of k products summed in float32
 * (Higham's gamma_k), with room for the kernel to split the depth into panels (two more
 * roundings per panel, at most k / 2 panels) and for its alpha / beta epilogue:
 * (2k + 2) u (|alpha| |A'| |B'| + |beta| |C|), u = 2^-24, plus k * 2^-126 for results that
 * bfloat16 instructions flush to zero.
 */
export function bfloat16ProductReference(A: Matrix, B: Matrix, C: Matrix | undefined, options: MatmulOptions = {}): { want: Matrix; bound: Matrix } {
  const ref = new ReferenceBackend('bfloat16-reference');
  const alpha = options.alpha ?? 1;
  const beta = C === undefined ? 0 : (options.beta ?? 0);
  const m = options.transposeA ? A.cols : A.rows;
  const n = options.transposeB ? B.rows : B.cols;
  const k = options.transposeA ? A.rows : A.cols;
  const out = ref.upload(C ?? new Matrix(m, n, new Float64Array(m * n)));
  ref.matmul(ref.upload(bfloat16Operand(A)), ref.upload(bfloat16Operand(B)), out, { ...options, alpha, beta });
  const magnitude = ref.upload(C === undefined ? new Matrix(m, n, new Float64Array(m * n)) : absolute(C));
  ref.matmul(ref.upload(absolute(bfloat16Operand(A))), ref.upload(absolute(bfloat16Operand(B))), magnitude, { ...options, alpha: Math.abs(alpha), beta: Math.abs(beta) });
  const bound = ref.readSync(magnitude);
  for (let i = 0; i < bound.data.length; i++) bound.data[i] = (2 * k + 2) * FLOAT32_U * bound.data[i]! + k * 2 ** -126;
  return { want: ref.readSync(out), bound };
}

/** Asserts |actual - want| <= bound element-wise (NaN matching NaN), naming the first bad element. */
export function expectWithin(actual: Matrix, want: Matrix, bound: Matrix, what: string): void {
  expect([actual.rows, actual.cols], `${what} shape`).to.deep.equal([want.rows, want.cols]);
  for (let i = 0; i < want.data.length; i++) {
    const a = actual.data[i]!;
    const b = want.data[i]!;
    if ((Number.isNaN(a) && Number.isNaN(b)) || a === b) continue;
    if (!(Math.abs(a - b) <= bound.data[i]!)) {
      expect.fail(`${what}: element ${i} (row ${Math.floor(i / want.cols)}, col ${i % want.cols}) is ${a}, expected ${b} within ${bound.data[i]} (the bfloat16-mixed bound)`);
    }
  }
}

/** For each unary op, an input range [lo, hi] on which it is defined and well conditioned. */
export const unaryDomains: Readonly<Record<UnaryOp, readonly [number, number]>> = {
  identity: [-5, 5],
  sigmoid: [-30, 30],
  softplus: [-40, 40],
  relu: [-3, 3],
  exp: [-10, 10],
  log: [0.01, 10],
  tanh: [-5, 5],
  neg: [-5, 5],
  square: [-5, 5],
  sqrt: [0, 10],
  abs: [-5, 5],
  sign: [-5, 5],
  reciprocal: [0.1, 5],
};

/**
 * Registers the conformance suite for backends made by `makeBackend` (one backend for the whole
 * suite, destroyed after it; `makeBackend` may be async, e.g. `GpuBackend.create`). Every check
 * reads the backend under test with `await backend.read`, so asynchronous backends run it too.
 *
 * Each test body is async and awaited, and every readback check a test starts is awaited again
 * when the test ends: a check someone forgot to await still fails its own test rather than
 * passing silently (or failing a later one).
 */
export function describeBackendConformance(label: string, makeBackend: () => Backend | Promise<Backend>, options: ConformanceOptions = {}): void {
  const tol = options.tolerance ?? 2e-5;
  const shapes = options.matmulShapes ?? [
    [1, 1, 1],
    [3, 5, 7],
    [1, 129, 3],
    [129, 3, 1],
    [17, 129, 65],
    // 65 x 65 outputs pass gpu.js's 4096-cell threshold, so threaded webasm splits them over workers
    [65, 129, 65],
    [100, 784, 33],
  ];

  describe(`Backend conformance: ${label}`, function () {
    let current: Backend | undefined;
    const ref = options.oracle?.() ?? new ReferenceBackend();
    const rng = new CounterRng(1234);
    /** The readbacks and checks the running test started; each is awaited again when it ends. */
    let pending: Promise<unknown>[] = [];
    const backend = (): Backend => {
      if (current === undefined) throw new Error(`conformance ${label}: no backend (makeBackend failed in "before all")`);
      return current;
    };
    /** `backend.read(t)`, tracked so a test cannot end before it settles. */
    const read = (t: Tensor): Promise<Matrix> => {
      const p = backend().read(t);
      pending.push(p);
      return p;
    };
    const both = (m: Matrix): [Tensor, Tensor] => [backend().upload(m), ref.upload(m)];
    /**
     * Compares the backend's `t` with the oracle's `r`. The oracle is copied now, so later ops on
     * `r` cannot change what this check expects even before it is awaited; the comparison runs
     * when the read resolves. Await it. Only the comparison's promise is tracked: it rejects when the
     * read does too, while the read's own promise would settle fine when the comparison fails.
     */
    const check = (t: Tensor, r: Tensor, what: string, tolerance = tol, scale = 1): Promise<void> => {
      const want = ref.readSync(r);
      const p = backend()
        .read(t)
        .then((got) => expectClose(got, want, tolerance, what, scale));
      pending.push(p);
      return p;
    };
    /**
     * `it` with an async body that is awaited; afterwards every read and check the body started
     * is awaited too, so one it did not await still fails this test. The body's own error wins.
     */
    const test = (title: string, body: (be: Backend) => Promise<void>): void => {
      it(title, async function () {
        pending = [];
        let failure: { error: unknown } | undefined;
        try {
          await body(backend());
        } catch (error) {
          failure = { error };
        }
        const started = pending;
        pending = [];
        const rejected = (await Promise.allSettled(started)).find((o): o is PromiseRejectedResult => o.status === 'rejected');
        if (failure !== undefined) throw failure.error;
        if (rejected !== undefined) throw rejected.reason;
      });
    };

    let destroyed = false;
    before(async function () {
      current = await makeBackend();
    });
    after(function () {
      if (!destroyed) current?.destroy();
    });

    test('round-trips upload / write / read, odd sizes included', async function (be) {
      for (const [r, c] of [[1, 1], [3, 129], [129, 3]] as const) {
        const m = randomMatrix(rng, r, c);
        const t = be.upload(m);
        expectClose(await read(t), m, 0, `read ${r}x${c}`);
        const m2 = randomMatrix(rng, r, c);
        be.write(t, m2);
        expectClose(await read(t), m2, 0, `write ${r}x${c}`);
        be.fill(t, 0.25);
        expect(Array.from((await read(t)).data).every((x) => x === 0.25)).to.equal(true);
        be.dispose(t);
      }
      const z = be.zeros(3, 4, 2);
      expect(Array.from((await read(z)).data)).to.deep.equal(new Array(12).fill(2));
    });

    test('counts live tensors and bytes: zeros and upload add one, dispose removes it, no op changes the count', async function (be) {
      const bytes = be.precision === 'float64' ? 8 : 4;
      const start = be.memory();
      const counted = (): [number, number] => {
        const now = be.memory();
        return [now.numTensors - start.numTensors, now.numBytes - start.numBytes];
      };
      const a = be.zeros(3, 5);
      expect(counted(), 'after zeros(3, 5)').to.deep.equal([1, 15 * bytes]);
      const b = be.upload(randomMatrix(rng, 5, 129));
      expect(counted(), 'after upload(5x129)').to.deep.equal([2, (15 + 645) * bytes]);
      const c = be.zeros(3, 129, 0.5);
      const row = be.zeros(1, 129);
      const col = be.zeros(3, 1);
      const groups = be.zeros(3, 43);
      const made: [number, number] = [6, (15 + 645 + 387 + 129 + 3 + 129) * bytes];
      expect(counted(), 'after six tensors').to.deep.equal(made);
      // every kind of op, readbacks included: none leaves a tensor behind (backend scratch is not counted)
      const state = rngState(3);
      be.matmul(a, b, c);
      be.linear(a, b, row, c, { activation: 'sigmoid' });
      be.unary('exp', c, c);
      be.binary('mul', c, c, c);
      be.axpby(0.5, c, 0.5, c, c);
      be.affine(c, 0.5, 0.1, c);
      be.addRowVector(c, row, c);
      be.mulRowVector(c, row, c);
      be.mulColVector(c, col, c);
      be.softmaxGroups(c, 3, c);
      be.logSumExpGroups(c, 3, groups);
      be.sumColumns(c, row);
      be.sumRows(c, col);
      be.sampleBernoulli(c, state, c);
      be.sampleGaussian(c, row, state, c);
      be.softmaxGroups(c, 3, c);
      be.sampleCategorical(c, 3, state, c);
      be.uniform(state, c);
      be.gatherRows(b, new Uint32Array([4, 0, 4]), c);
      be.copy(b, b);
      be.fill(a, 2);
      be.write(a, randomMatrix(rng, 3, 5));
      await read(c);
      await be.reduce('sumSquares', c);
      expect(counted(), 'after running every op once').to.deep.equal(made);
      for (let i = 0; i < 20; i++) be.dispose(be.zeros(7, 3));
      expect(counted(), 'after 20 zeros + dispose').to.deep.equal(made);
      for (const t of [b, c, row, col, groups]) be.dispose(t);
      expect(counted(), 'after disposing five').to.deep.equal([1, 15 * bytes]);
      be.dispose(a);
      expect(counted(), 'after disposing all six').to.deep.equal([0, 0]);
      expect(() => be.dispose(a), 'a second dispose').to.throw(/dispos/);
      expect(counted(), 'after a refused second dispose').to.deep.equal([0, 0]);
    });

    test('rejects wrong shapes and bad sizes with a ShapeError or a named error', async function (be) {
      const a = be.zeros(3, 4);
      const b = be.zeros(5, 6);
      const out = be.zeros(3, 6);
      expect(() => be.matmul(a, b, out)).to.throw(ShapeError, /inner|4|5/);
      expect(() => be.binary('add', a, b, be.zeros(3, 4))).to.throw(ShapeError);
      expect(() => be.softmaxGroups(a, 3, a)).to.throw(ShapeError, /group/);
      expect(() => be.zeros(0, 3)).to.throw(/rows/);
      expect(() => be.write(a, new Matrix(4, 3))).to.throw(ShapeError);
      const other = new ReferenceBackend('someone-else').zeros(3, 4);
      expect(() => be.copy(other, a)).to.throw(/backend/);
    });

    for (const [m, k, n] of shapes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          test(`matmul ${m}x${k} by ${k}x${n}${ta ? ', A transposed' : ''}${tb ? ', B transposed' : ''}, alpha/beta`, async function (be) {
            const A = randomMatrix(rng, ta ? k : m, ta ? m : k);
            const B = randomMatrix(rng, tb ? n : k, tb ? k : n);
            const C = randomMatrix(rng, m, n);
            if (be.precision === 'bfloat16-mixed') {
              // Each call starts from the same C, so each is checked against its own bound.
              const [a, b, c] = [be.upload(A), be.upload(B), be.upload(C)];
              for (const o of [{}, { alpha: -0.5, beta: 1 }, { alpha: 1.5 }] as MatmulOptions[]) {
                be.write(c, C);
                be.matmul(a, b, c, { ...o, transposeA: ta, transposeB: tb });
                const { want, bound } = bfloat16ProductReference(A, B, C, { ...o, transposeA: ta, transposeB: tb });
                expectWithin(await read(c), want, bound, `matmul bfloat16-mixed alpha=${o.alpha ?? 1} beta=${o.beta ?? 0}`);
              }
              return;
            }
            const [a, ra] = both(A);
            const [b, rb] = both(B);
            const [c, rc] = both(C);
            be.matmul(a, b, c, { transposeA: ta, transposeB: tb });
            ref.matmul(ra, rb, rc, { transposeA: ta, transposeB: tb });
            await check(c, rc, 'matmul', tol, Math.sqrt(k) * 4);
            be.matmul(a, b, c, { transposeA: ta, transposeB: tb, alpha: -0.5, beta: 1 });
            ref.matmul(ra, rb, rc, { transposeA: ta, transposeB: tb, alpha: -0.5, beta: 1 });
            await check(c, rc, 'matmul alpha=-0.5 beta=1', tol, Math.sqrt(k) * 4);
            be.matmul(a, b, c, { transposeA: ta, transposeB: tb, alpha: 1.5 });
            ref.matmul(ra, rb, rc, { transposeA: ta, transposeB: tb, alpha: 1.5 });
            await check(c, rc, 'matmul alpha=1.5', tol, Math.sqrt(k) * 4);
          });
        }
      }
    }

    test('bfloat16-mixed products round their operands to nearest even (skipped in other precisions)', async function (be) {
      if (be.precision !== 'bfloat16-mixed') return;
      // bfloat16 keeps 7 mantissa bits: between 1 and 2 its spacing is 2^-7.
      const cases: Array<[number, number]> = [
        [1 + 2 ** -8, 1], // a tie: to the even neighbour, 1
        [1 + 3 * 2 ** -8, 1 + 2 ** -6], // a tie: to the even neighbour above
        [1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -7], // just above a tie: up
        [-(1 + 2 ** -8), -1],
        [2 ** -130, 0], // a subnormal float32 operand counts as zero, as bfloat16 instructions read it
        [3, 3],
      ];
      const A = new Matrix(cases.length, 1, Float32Array.from(cases, ([x]) => x));
      const one = be.upload(new Matrix(1, 1, Float32Array.of(1)));
      const out = be.zeros(cases.length, 1);
      be.matmul(be.upload(A), one, out);
      const got = (await read(out)).data;
      cases.forEach(([x, rounded], i) => expect(got[i], `${x} rounded to bfloat16`).to.equal(rounded));
    });

    for (const activation of ['identity', 'sigmoid', 'relu', 'softplus', 'tanh'] as UnaryOp[]) {
      for (const tw of [false, true]) {
        test(`linear with ${activation}${tw ? ', W transposed' : ''}`, async function (be) {
          for (const [m, k, n] of [[1, 1, 1], [3, 129, 5], [100, 784, 50]] as const) {
            const X = randomMatrix(rng, m, k, 0, 1);
            const W = randomMatrix(rng, tw ? n : k, tw ? k : n, -0.1, 0.1);
            const bias = randomMatrix(rng, 1, n);
            const [x, rx] = both(X);
            const [w, rw] = both(W);
            const [bb, rbb] = both(bias);
            const out = be.zeros(m, n);
            const rout = ref.zeros(m, n);
            if (be.precision === 'bfloat16-mixed') {
              be.linear(x, w, bb, out, { transposeW: tw, activation });
              // The product's bound, plus the float32 bias addition, through a 1-Lipschitz
              // activation, plus the float32 tolerance of the activation itself.
              const product = bfloat16ProductReference(X, W, new Matrix(m, n, new Float64Array(m * n).map((_, i) => bias.data[i % n]!)), { transposeB: tw, beta: 1 });
              const act = ref.zeros(m, n);
              ref.unary(activation, ref.upload(product.want), act);
              const want = ref.readSync(act);
              const bound = new Matrix(m, n, product.bound.data.map((e, i) => e + FLOAT32_U * Math.abs(product.want.data[i]!) + tol * (1 + Math.abs(want.data[i]!))));
              expectWithin(await read(out), want, bound, `linear bfloat16-mixed ${activation} ${m}x${k}x${n}`);
              continue;
            }
            be.linear(x, w, bb, out, { transposeW: tw, activation });
            ref.linear(rx, rw, rbb, rout, { transposeW: tw, activation });
            await check(out, rout, `linear ${activation} ${m}x${k}x${n}`, tol, Math.sqrt(k));
          }
        });
      }
    }

    for (const op of Object.keys(unaryDomains) as UnaryOp[]) {
      test(`unary ${op}, in place too`, async function (be) {
        const [lo, hi] = unaryDomains[op];
        const A = randomMatrix(rng, 3, 129, lo, hi);
        if (op === 'sign') A.data[0] = 0;
        const [a, ra] = both(A);
        const out = be.zeros(3, 129);
        const rout = ref.zeros(3, 129);
        be.unary(op, a, out);
        ref.unary(op, ra, rout);
        await check(out, rout, op);
        be.unary(op, a, a);
        await check(a, rout, `${op} in place`);
      });
    }

    for (const op of ['add', 'sub', 'mul', 'div', 'max', 'min'] as BinaryOp[]) {
      test(`binary ${op}, into its second operand too`, async function (be) {
        const A = randomMatrix(rng, 129, 3);
        const B = randomMatrix(rng, 129, 3, 0.5, 2);
        const [a, ra] = both(A);
        const [b, rb] = both(B);
        const out = be.zeros(129, 3);
        const rout = ref.zeros(129, 3);
        be.binary(op, a, b, out);
        ref.binary(op, ra, rb, rout);
        await check(out, rout, op);
        be.binary(op, a, b, b);
        await check(b, rout, `${op} into b`);
      });
    }

    test('axpby, affine, row and column broadcasts, chained in place', async function (be) {
      const X = randomMatrix(rng, 5, 129);
      const Y = randomMatrix(rng, 5, 129);
      const R = randomMatrix(rng, 1, 129);
      const C = randomMatrix(rng, 5, 1);
      const [x, rx] = both(X);
      const [y, ry] = both(Y);
      const [r, rr] = both(R);
      const [c, rc] = both(C);
      const out = be.zeros(5, 129);
      const rout = ref.zeros(5, 129);
      be.axpby(0.9, x, -0.05, y, out);
      ref.axpby(0.9, rx, -0.05, ry, rout);
      await check(out, rout, 'axpby');
      be.affine(x, -3, 0.5, out);
      ref.affine(rx, -3, 0.5, rout);
      await check(out, rout, 'affine');
      be.addRowVector(x, r, out);
      ref.addRowVector(rx, rr, rout);
      await check(out, rout, 'addRowVector');
      be.mulRowVector(x, r, out);
      ref.mulRowVector(rx, rr, rout);
      await check(out, rout, 'mulRowVector');
      be.mulColVector(x, c, out);
      ref.mulColVector(rx, rc, rout);
      await check(out, rout, 'mulColVector');
      be.axpby(0.9, x, -0.05, y, y);
      ref.axpby(0.9, rx, -0.05, ry, ry);
      be.affine(y, -3, 0.5, y);
      ref.affine(ry, -3, 0.5, ry);
      be.addRowVector(y, r, y);
      ref.addRowVector(ry, rr, ry);
      be.mulRowVector(y, r, y);
      ref.mulRowVector(ry, rr, ry);
      be.mulColVector(y, c, y);
      ref.mulColVector(ry, rc, ry);
      await check(y, ry, 'axpby, affine, broadcasts in place');
      expect(() => be.addRowVector(x, c, out)).to.throw(ShapeError);
    });

    test('runAxpbyPasses (an SGD step with L2: the decay, the velocity, the weights, aliased) gives the bits of one axpby per pass', async function (be) {
      const [w0, g0, v0] = [randomMatrix(rng, 7, 131), randomMatrix(rng, 7, 131, -0.01, 0.01), randomMatrix(rng, 7, 131, -1e-3, 1e-3)];
      const step = (w: Tensor, g: Tensor, v: Tensor): AxpbyPass[] => [
        { alpha: 1, x: g, beta: 1e-4, y: w, out: g },
        { alpha: 0.9, x: v, beta: -0.05, y: g, out: v },
        { alpha: 1, x: w, beta: 1, y: v, out: w },
      ];
      const [w1, g1, v1] = [be.upload(w0), be.upload(g0), be.upload(v0)];
      for (const p of step(w1, g1, v1)) be.axpby(p.alpha, p.x, p.beta, p.y, p.out);
      const [w2, g2, v2] = [be.upload(w0), be.upload(g0), be.upload(v0)];
      runAxpbyPasses(be, step(w2, g2, v2));
      for (const [got, want, name] of [[w2, w1, 'w'], [g2, g1, 'g'], [v2, v1, 'v']] as const) {
        const [a, b] = [(await be.read(got)).data, (await be.read(want)).data];
        const bad = a.findIndex((x, i) => !Object.is(x, b[i]));
        expect(bad, `${name}[${bad}]: ${a[bad]} fused, ${b[bad]} one axpby per pass`).to.equal(-1);
      }
      const [rw, rg, rv] = [ref.upload(w0), ref.upload(g0), ref.upload(v0)];
      runAxpbyPasses(ref, step(rw, rg, rv));
      await check(w2, rw, 'runAxpbyPasses w');
      if (be.axpbyPasses !== undefined) expect(() => be.axpbyPasses!([{ alpha: 1, x: w2, beta: 1, y: be.zeros(7, 130), out: w2 }])).to.throw(ShapeError);
    });

    for (const group of [1, 3, 129]) {
      test(`softmax and log-sum-exp over groups of ${group}, softmax in place too`, async function (be) {
        const A = randomMatrix(rng, 4, 129 * (group === 129 ? 1 : 3), -20, 20);
        const [a, ra] = both(A);
        const out = be.zeros(A.rows, A.cols);
        const rout = ref.zeros(A.rows, A.cols);
        be.softmaxGroups(a, group, out);
        ref.softmaxGroups(ra, group, rout);
        await check(out, rout, 'softmaxGroups', tol, 1e-3);
        const lse = be.zeros(A.rows, A.cols / group);
        const rlse = ref.zeros(A.rows, A.cols / group);
        be.logSumExpGroups(a, group, lse);
        ref.logSumExpGroups(ra, group, rlse);
        await check(lse, rlse, 'logSumExpGroups');
        be.softmaxGroups(a, group, a);
        await check(a, rout, 'softmaxGroups in place', tol, 1e-3);
      });
    }

    test('column and row sums, gatherRows, copy', async function (be) {
      for (const [rows, cols] of [[1, 1], [129, 3], [3, 129], [100, 500]] as const) {
        const A = randomMatrix(rng, rows, cols);
        const [a, ra] = both(A);
        const cs = be.zeros(1, cols, 1);
        const rcs = ref.zeros(1, cols, 1);
        be.sumColumns(a, cs, 0.5, 2);
        ref.sumColumns(ra, rcs, 0.5, 2);
        await check(cs, rcs, 'sumColumns', tol, Math.sqrt(rows));
        const rs = be.zeros(rows, 1);
        const rrs = ref.zeros(rows, 1);
        be.sumRows(a, rs);
        ref.sumRows(ra, rrs);
        await check(rs, rrs, 'sumRows', tol, Math.sqrt(cols));
        const idx = new Uint32Array([rows - 1, 0, Math.floor(rows / 2), Math.floor(rows / 2)]);
        const g = be.zeros(4, cols);
        const rg = ref.zeros(4, cols);
        be.gatherRows(a, idx, g);
        ref.gatherRows(ra, idx, rg);
        await check(g, rg, 'gatherRows', 0);
        const cp = be.zeros(rows, cols);
        be.copy(a, cp);
        await check(cp, ra, 'copy', 0);
      }
    });

    for (const op of ['sum', 'sumSquares', 'sumAbs', 'max', 'min'] as ReduceOp[]) {
      test(`reduce ${op}`, async function (be) {
        const A = randomMatrix(rng, 129, 65);
        const [a, ra] = both(A);
        const got = await be.reduce(op, a);
        const want = await ref.reduce(op, ra);
        expect(Math.abs(got - want)).to.be.at.most(1e-4 * (Math.sqrt(A.size) + Math.abs(want)));
      });
    }

    test('reduce propagates NaN (the divergence guard relies on it)', async function (be) {
      const A = randomMatrix(rng, 3, 3);
      A.data[4] = NaN;
      const a = be.upload(A);
      expect(await be.reduce('sum', a)).to.be.NaN;
      expect(await be.reduce('sumSquares', a)).to.be.NaN;
      const B = randomMatrix(rng, 129, 65);
      B.data[70] = NaN;
      const b = be.upload(B);
      for (const op of ['sum', 'sumSquares', 'max', 'min'] as ReduceOp[]) expect(await be.reduce(op, b), `${op} 129x65`).to.be.NaN;
    });

    test('sampleBernoulli follows the reference stream and advances the state by one', async function (be) {
      const P = randomMatrix(rng, 129, 33, 0, 1);
      const [p, rp] = both(P);
      const out = be.zeros(129, 33);
      const rout = ref.zeros(129, 33);
      const s1 = rngState(7, 3, 41);
      const s2 = rngState(7, 3, 41);
      be.sampleBernoulli(p, s1, out);
      ref.sampleBernoulli(rp, s2, rout);
      expect(s1.counter).to.equal(42);
      const got = (await read(out)).data;
      const want = ref.readSync(rout).data;
      let mismatches = 0;
      for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) mismatches++;
      expect(mismatches, 'samples differing from the reference stream').to.be.at.most(Math.ceil(got.length * 1e-3));
      be.sampleBernoulli(0.3, s1, out);
      const mean = Array.from((await read(out)).data).reduce((s, x) => s + x, 0) / got.length;
      expect(mean).to.be.closeTo(0.3, 0.03);
    });

    test('sampleGaussian: reference stream, per-unit std, moments', async function (be) {
      const M = randomMatrix(rng, 200, 50, -1, 1);
      const S = randomMatrix(rng, 1, 50, 0.5, 2);
      const [m, rm] = both(M);
      const [s, rs] = both(S);
      const out = be.zeros(200, 50);
      const rout = ref.zeros(200, 50);
      be.sampleGaussian(m, s, rngState(9), out);
      ref.sampleGaussian(rm, rs, rngState(9), rout);
      await check(out, rout, 'sampleGaussian', 1e-3);
      const zero = be.zeros(200, 50);
      be.sampleGaussian(zero, 1, rngState(10), out);
      const d = Array.from((await read(out)).data);
      const mean = d.reduce((a, x) => a + x, 0) / d.length;
      const variance = d.reduce((a, x) => a + (x - mean) ** 2, 0) / d.length;
      expect(mean).to.be.closeTo(0, 0.05);
      expect(variance).to.be.closeTo(1, 0.05);
    });

    test('sampleCategorical gives one-hot groups following the reference stream', async function (be) {
      const logits = randomMatrix(rng, 129, 15, -2, 2);
      const rl = ref.upload(logits);
      const rp = ref.zeros(129, 15);
      ref.softmaxGroups(rl, 5, rp);
      const P = ref.readSync(rp).toFloat32();
      const p = be.upload(P);
      const out = be.zeros(129, 15);
      const rout = ref.zeros(129, 15);
      be.sampleCategorical(p, 5, rngState(11), out);
      ref.sampleCategorical(rp, 5, rngState(11), rout);
      const got = await read(out);
      for (let g = 0; g < 129 * 3; g++) {
        let s = 0;
        for (let j = 0; j < 5; j++) s += got.data[g * 5 + j]!;
        expect(s, `group ${g} sums to one`).to.equal(1);
      }
      const want = ref.readSync(rout).data;
      let mismatches = 0;
      for (let i = 0; i < want.length; i++) if (got.data[i] !== want[i]) mismatches++;
      expect(mismatches).to.be.at.most(4);
    });

    test('uniform matches the reference stream', async function (be) {
      const out = be.zeros(3, 129);
      const rout = ref.zeros(3, 129);
      be.uniform(rngState(5, 1, 2), out);
      ref.uniform(rngState(5, 1, 2), rout);
      await check(out, rout, 'uniform', 1e-6);
    });

    // last: it destroys the suite's backend
    if (options.ownership !== false)
      test('refuses a tensor of another instance (same name too) or another backend, and a disposed one, naming op and operand', async function (be) {
      const twin = await makeBackend();
      const a = be.zeros(2, 3);
      const foreign = twin.zeros(2, 3);
      const other = ref.zeros(2, 3);
      const gone = be.zeros(2, 3);
      try {
        expect(() => be.copy(foreign, a)).to.throw(InvalidValueError, /^copy: src is not a tensor of backend ".+" \(it belongs to another backend instance of the same name\)$/);
        expect(() => be.copy(a, other)).to.throw(InvalidValueError, new RegExp(`^copy: out is not a tensor of backend ".+" \\(it belongs to backend "${ref.name}"\\)$`));
        be.dispose(gone);
        expect(() => be.copy(gone, a)).to.throw(InvalidValueError, /^copy: src \(2x3\) was disposed$/);
      } finally {
        be.dispose(a);
        ref.dispose(other);
        twin.destroy();
      }
    });

    test('destroy leaves no live tensor', async function (be) {
      be.zeros(2, 3);
      expect(be.memory().numTensors, 'tensors the suite left alive').to.be.above(0);
      destroyed = true;
      be.destroy();
      expect(be.memory()).to.deep.equal({ numTensors: 0, numBytes: 0 });
    });
  });
}
