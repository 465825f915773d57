/**
 * Checks for backends whose work runs asynchronously (webgpu, threaded webasm), run next to the
 * shared conformance suite (which reads with `await read` and so runs the op families on these
 * modes too): that readSync refuses by name, what is specific to a promise-chained queue (op
 * order without awaiting, in-place chains, dispose while work is pending), and the random streams
 * held to exact equality with the float64 ReferenceBackend (the suite allows a few mismatches).
 */
import { expect } from 'chai';
import { CounterRng, InvalidValueError, ReferenceBackend, rngState, type Backend, type Matrix, type Tensor } from '@boltzmann/tensor';
import { expectClose, randomMatrix } from '@boltzmann/tensor/testing';

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
