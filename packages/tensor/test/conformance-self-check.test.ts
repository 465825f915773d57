/**
 * The shared conformance suite must be able to fail on an asynchronous backend: its reads are
 * awaited, and a check a test forgot to await still fails that test. This runs the suite in a
 * nested mocha on ReferenceBackend made asynchronous (reads resolve a timer tick later,
 * readSync throws, like gpu.js webgpu), once as is, once with one op made slightly wrong and
 * once with a dispose that frees nothing (a leak the tensor accounting must catch).
 */
import { expect } from 'chai';
import Mocha from 'mocha';
import { InvalidValueError, Matrix, ReferenceBackend, type Tensor, type UnaryOp } from '@boltzmann/tensor';
import { describeBackendConformance } from '@boltzmann/tensor/testing';

/** What is broken on purpose in an {@link AsyncReference}. */
interface Flaws {
  /** This unary op is off by 0.1%. */
  wrongOp?: UnaryOp;
  /** `dispose` frees nothing, so the tensor stays counted (and usable). */
  leakyDispose?: boolean;
}

/** The float64 oracle with webgpu's read contract and, optionally, a flaw. */
class AsyncReference extends ReferenceBackend {
  constructor(private readonly flaws: Flaws = {}) {
    super('async-reference');
  }

  override dispose(t: Tensor): void {
    if (!this.flaws.leakyDispose) super.dispose(t);
  }

  override async read(t: Tensor): Promise<Matrix> {
    const m = super.readSync(t); // copied at call time, like a queued readback
    await new Promise((resolve) => setTimeout(resolve, 1));
    return m;
  }

  override readSync(): Matrix {
    throw new InvalidValueError('readSync: not available on this asynchronous backend; use await backend.read(tensor)');
  }

  override unary(op: UnaryOp, a: Tensor, out: Tensor): void {
    super.unary(op, a, out);
    if (op === this.flaws.wrongOp) super.affine(out, 1.001, 0, out);
  }
}

/** Runs the suites `register` declares in a fresh, silent mocha; the outer mocha's globals are restored before it runs. */
async function runNested(register: () => void): Promise<{ passed: string[]; failed: Array<{ title: string; message: string }> }> {
  const g = globalThis as unknown as Record<string, unknown>;
  const names = ['describe', 'it', 'before', 'after', 'beforeEach', 'afterEach', 'context', 'specify', 'xit', 'xdescribe', 'xcontext', 'xspecify', 'run'];
  const saved = names.map((n) => [n, g[n]] as const);
  const inner = new Mocha({ reporter: Mocha.reporters.Base, timeout: 60000 });
  inner.suite.emit(Mocha.Suite.constants.EVENT_FILE_PRE_REQUIRE, globalThis, 'nested-conformance', inner);
  try {
    register();
  } finally {
    for (const [n, v] of saved) g[n] = v;
  }
  const passed: string[] = [];
  const failed: Array<{ title: string; message: string }> = [];
  await new Promise<void>((resolve) => {
    const runner = inner.run(() => resolve());
    runner.on(Mocha.Runner.constants.EVENT_TEST_PASS, (t) => passed.push(t.title));
    runner.on(Mocha.Runner.constants.EVENT_TEST_FAIL, (t, e: Error) => failed.push({ title: t.title, message: e.message }));
  });
  return { passed, failed };
}

describe('conformance suite self-check on an asynchronous backend', function () {
  // AsyncReference is a ReferenceBackend, which tells tensors apart by backend name only.
  const options = { matmulShapes: [[3, 5, 7]] as Array<[number, number, number]>, ownership: false };

  it('passes a correct backend that only reads asynchronously', async function () {
    const { passed, failed } = await runNested(() => describeBackendConformance('async reference', () => new AsyncReference(), options));
    expect(failed).to.deep.equal([]);
    expect(passed).to.have.length.at.least(40);
  });

  it('fails exactly the test of an op that is off by 0.1%, naming the element', async function () {
    const { passed, failed } = await runNested(() => describeBackendConformance('async reference, exp wrong', () => new AsyncReference({ wrongOp: 'exp' }), options));
    expect(failed.map((f) => f.title)).to.deep.equal(['unary exp, in place too']);
    expect(failed[0]!.message).to.match(/^exp: element \d+ \(row \d+, col \d+\) is .+, expected .+/);
    expect(passed).to.have.length.at.least(40);
  });

  it('fails exactly the tensor-accounting test of a backend whose dispose frees nothing', async function () {
    const { passed, failed } = await runNested(() => describeBackendConformance('async reference, leaky dispose', () => new AsyncReference({ leakyDispose: true }), options));
    expect(failed.map((f) => f.title)).to.deep.equal(['counts live tensors and bytes: zeros and upload add one, dispose removes it, no op changes the count']);
    expect(failed[0]!.message).to.match(/after 20 zeros \+ dispose/);
    expect(passed).to.have.length.at.least(40);
  });
});
