/**
 * Checks for backends whose work runs asynchronously (webgpu, threaded webasm), run next to the
 * shared conformance suite (which reads with `await read` and so runs on these modes too): that
 * readSync refuses by name, what is specific to a promise-chained queue (op order without
 * awaiting, in-place chains, dispose while work is pending), and the op families again on other
 * sizes, with the random streams held to exact equality with the float64 ReferenceBackend.
 */
import { expect } from 'chai';
import { CounterRng, InvalidValueError, Matrix, ReferenceBackend, rngState, type Backend, type BinaryOp, type ReduceOp, type Tensor, type UnaryOp } from '@boltzmann/tensor';
import { expectClose } from '@boltzmann/tensor/testing';

function randomMatrix(rng: CounterRng, rows: number, cols: number, lo = -2, hi = 2): Matrix {
  const m = new Matrix(rows, cols, new Float32Array(rows * cols));
  rng.uniforms(m.data);
  for (let i = 0; i < m.data.length; i++) m.data[i] = lo + (hi - lo) * m.data[i]!;
  return m;
}

const unaryDomains: Record<UnaryOp, [number, number]> = {
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

/** Registers the asynchronous-mode checks for backends made by `make`. */
export function describeAsyncChecks(label: string, make: () => Backend, tol = 2e-5): void {
  describe(`Asynchronous-mode checks: ${label}`, function () {
    let be: Backend;
    const ref = new ReferenceBackend();
    const rng = new CounterRng(99);
    const both = (m: Matrix): [Tensor, Tensor] => [be.upload(m), ref.upload(m)];
    const check = async (t: Tensor, r: Tensor, what: string, tolerance = tol, scale = 1) => expectClose(await be.read(t), ref.readSync(r), tolerance, what, scale);

    before(function () {
      be = make();
    });
    after(function () {
      be.destroy();
    });

    it('has no synchronous readback and says what to use instead', function () {
      const t = be.zeros(2, 2);
      expect(() => be.readSync(t)).to.throw(InvalidValueError, /await backend\.read/);
    });

    it('round-trips upload / write / fill / read, and runs ops in call order without awaiting', async function () {
      const m = randomMatrix(rng, 3, 129);
      const t = be.upload(m);
      const first = be.read(t);
      const m2 = randomMatrix(rng, 3, 129);
      be.write(t, m2);
      const written = Float32Array.from(m2.data);
      m2.data.fill(7); // the write took its copy at call time
      const second = be.read(t);
      be.fill(t, 0.25);
      expectClose(await first, m, 0, 'read before write');
      expect(Array.from((await second).data), 'read after write, before fill').to.deep.equal(Array.from(written));
      expect(Array.from((await be.read(t)).data).every((x) => x === 0.25)).to.equal(true);
    });

    it('keeps in-place chains in order and survives dispose while work is pending', async function () {
      const A = randomMatrix(rng, 5, 7, -1, 1);
      const [a, ra] = both(A);
      for (let i = 0; i < 3; i++) {
        be.unary('tanh', a, a);
        ref.unary('tanh', ra, ra);
      }
      const tmp = be.zeros(5, 7, 1);
      be.binary('add', a, tmp, a);
      ref.binary('add', ra, ref.zeros(5, 7, 1), ra);
      be.dispose(tmp);
      await check(a, ra, 'tanh x3 then +1 in place');
    });

    // 65 x 65 outputs pass gpu.js's 4096-cell threshold, so threaded webasm splits them over workers
    for (const [m, k, n] of [[3, 5, 7], [65, 129, 65]] as const) {
      it(`matmul ${m}x${k} by ${k}x${n} in all transpose forms, alpha/beta`, async function () {
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            const [a, ra] = both(randomMatrix(rng, ta ? k : m, ta ? m : k));
            const [b, rb] = both(randomMatrix(rng, tb ? n : k, tb ? k : n));
            const [c, rc] = both(randomMatrix(rng, m, n));
            be.matmul(a, b, c, { transposeA: ta, transposeB: tb, alpha: 1.5 });
            ref.matmul(ra, rb, rc, { transposeA: ta, transposeB: tb, alpha: 1.5 });
            be.matmul(a, b, c, { transposeA: ta, transposeB: tb, alpha: -0.5, beta: 1 });
            ref.matmul(ra, rb, rc, { transposeA: ta, transposeB: tb, alpha: -0.5, beta: 1 });
            await check(c, rc, `matmul ta=${ta} tb=${tb}`, tol, Math.sqrt(k) * 4);
          }
        }
      });
    }

    it('linear with each activation, W plain and transposed', async function () {
      for (const activation of ['identity', 'sigmoid', 'relu', 'softplus', 'tanh'] as UnaryOp[]) {
        for (const tw of [false, true]) {
          const [x, rx] = both(randomMatrix(rng, 9, 129, 0, 1));
          const [w, rw] = both(randomMatrix(rng, tw ? 5 : 129, tw ? 129 : 5, -0.1, 0.1));
          const [bias, rbias] = both(randomMatrix(rng, 1, 5));
          const out = be.zeros(9, 5);
          const rout = ref.zeros(9, 5);
          be.linear(x, w, bias, out, { transposeW: tw, activation });
          ref.linear(rx, rw, rbias, rout, { transposeW: tw, activation });
          await check(out, rout, `linear ${activation} tw=${tw}`, tol, Math.sqrt(129));
        }
      }
    });

    it('every unary and binary op, axpby, affine and broadcasts', async function () {
      for (const op of Object.keys(unaryDomains) as UnaryOp[]) {
        const [lo, hi] = unaryDomains[op];
        const [a, ra] = both(randomMatrix(rng, 3, 67, lo, hi));
        be.unary(op, a, a);
        ref.unary(op, ra, ra);
        await check(a, ra, op);
      }
      for (const op of ['add', 'sub', 'mul', 'div', 'max', 'min'] as BinaryOp[]) {
        const [a, ra] = both(randomMatrix(rng, 67, 3));
        const [b, rb] = both(randomMatrix(rng, 67, 3, 0.5, 2));
        be.binary(op, a, b, b);
        ref.binary(op, ra, rb, rb);
        await check(b, rb, op);
      }
      const [x, rx] = both(randomMatrix(rng, 5, 33));
      const [y, ry] = both(randomMatrix(rng, 5, 33));
      const [row, rrow] = both(randomMatrix(rng, 1, 33));
      const [col, rcol] = both(randomMatrix(rng, 5, 1));
      be.axpby(0.9, x, -0.05, y, y);
      ref.axpby(0.9, rx, -0.05, ry, ry);
      be.affine(y, -3, 0.5, y);
      ref.affine(ry, -3, 0.5, ry);
      be.addRowVector(y, row, y);
      ref.addRowVector(ry, rrow, ry);
      be.mulRowVector(y, row, y);
      ref.mulRowVector(ry, rrow, ry);
      be.mulColVector(y, col, y);
      ref.mulColVector(ry, rcol, ry);
      await check(y, ry, 'axpby, affine, broadcasts');
    });

    it('softmax and log-sum-exp over groups, column and row sums, gatherRows', async function () {
      for (const group of [1, 3, 33]) {
        const [a, ra] = both(randomMatrix(rng, 4, 99, -20, 20));
        const lse = be.zeros(4, 99 / group);
        const rlse = ref.zeros(4, 99 / group);
        be.logSumExpGroups(a, group, lse);
        ref.logSumExpGroups(ra, group, rlse);
        be.softmaxGroups(a, group, a);
        ref.softmaxGroups(ra, group, ra);
        await check(a, ra, `softmax ${group}`, tol, 1e-3);
        await check(lse, rlse, `logSumExp ${group}`);
      }
      const [a, ra] = both(randomMatrix(rng, 129, 3));
      const cs = be.zeros(1, 3, 1);
      const rcs = ref.zeros(1, 3, 1);
      be.sumColumns(a, cs, 0.5, 2);
      ref.sumColumns(ra, rcs, 0.5, 2);
      await check(cs, rcs, 'sumColumns', tol, Math.sqrt(129));
      const rs = be.zeros(129, 1);
      const rrs = ref.zeros(129, 1);
      be.sumRows(a, rs);
      ref.sumRows(ra, rrs);
      await check(rs, rrs, 'sumRows', tol, 2);
      const idx = new Uint32Array([128, 0, 64, 64]);
      const g = be.zeros(4, 3);
      const rg = ref.zeros(4, 3);
      be.gatherRows(a, idx, g);
      ref.gatherRows(ra, idx, rg);
      await check(g, rg, 'gatherRows', 0);
    });

    it('reductions, NaN propagation included', async function () {
      const A = randomMatrix(rng, 129, 65);
      const [a, ra] = both(A);
      for (const op of ['sum', 'sumSquares', 'sumAbs', 'max', 'min'] as ReduceOp[]) {
        const got = await be.reduce(op, a);
        const want = await ref.reduce(op, ra);
        expect(Math.abs(got - want), op).to.be.at.most(1e-4 * (Math.sqrt(A.size) + Math.abs(want)));
      }
      A.data[70] = NaN;
      const withNaN = be.upload(A);
      for (const op of ['sum', 'sumSquares', 'max', 'min'] as ReduceOp[]) expect(await be.reduce(op, withNaN), op).to.be.NaN;
    });

    it('random ops follow the reference streams exactly and advance the state by one', async function () {
      const P = randomMatrix(rng, 129, 33, 0, 1);
      const [p, rp] = both(P);
      const out = be.zeros(129, 33);
      const rout = ref.zeros(129, 33);
      const s = rngState(7, 3, 41);
      be.sampleBernoulli(p, s, out);
      ref.sampleBernoulli(rp, rngState(7, 3, 41), rout);
      expect(s.counter).to.equal(42);
      await check(out, rout, 'sampleBernoulli', 0);
      be.uniform(rngState(5, 1, 2), out);
      ref.uniform(rngState(5, 1, 2), rout);
      await check(out, rout, 'uniform', 0);
      const [m, rm] = both(randomMatrix(rng, 60, 50, -1, 1));
      const [sd, rsd] = both(randomMatrix(rng, 1, 50, 0.5, 2));
      const g = be.zeros(60, 50);
      const rg = ref.zeros(60, 50);
      be.sampleGaussian(m, sd, rngState(9), g);
      ref.sampleGaussian(rm, rsd, rngState(9), rg);
      await check(g, rg, 'sampleGaussian', 1e-4);
      const rl = ref.upload(randomMatrix(rng, 129, 15, -2, 2));
      const rprob = ref.zeros(129, 15);
      ref.softmaxGroups(rl, 5, rprob);
      const prob = be.upload(ref.readSync(rprob).toFloat32());
      const c = be.zeros(129, 15);
      const rc = ref.zeros(129, 15);
      be.sampleCategorical(prob, 5, rngState(11), c);
      ref.sampleCategorical(rprob, 5, rngState(11), rc);
      const got = await be.read(c);
      const want = ref.readSync(rc).data;
      let mismatches = 0;
      for (let i = 0; i < want.length; i++) if (got.data[i] !== want[i]) mismatches++;
      expect(mismatches).to.be.at.most(4);
    });
  });
}
