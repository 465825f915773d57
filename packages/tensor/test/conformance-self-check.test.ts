/**
 * The shared conformance suite must be able to fail on an asynchronous backend: its reads are
 * awaited, and a check a test forgot to await still fails that test. This runs the suite in a
 * nested mocha on ReferenceBackend made asynchronous (reads resolve a timer tick later,
 * readSync throws, like gpu.js webgpu), once as is and once with one op made slightly wrong.
 */
import { expect } from 'chai';
import Mocha from 'mocha';
import { InvalidValueError, Matrix, ReferenceBackend, type Tensor, type UnaryOp } from '@boltzmann/tensor';
import { describeBackendConformance } from '@boltzmann/tensor/testing';

/** The float64 oracle with webgpu's read contract and, optionally, one unary op off by 0.1%. */
class AsyncReference extends ReferenceBackend {
  constructor(private readonly wrongOp?: UnaryOp) {
    super('async-reference');
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
    if (op === this.wrongOp) super.affine(out, 1.001, 0, out);
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
  const options = { matmulShapes: [[3, 5, 7]] as Array<[number, number, number]> };

  it('passes a correct backend that only reads asynchronously', async function () {
    const { passed, failed } = await runNested(() => describeBackendConformance('async reference', () => new AsyncReference(), options));
    expect(failed).to.deep.equal([]);
    expect(passed).to.have.length.at.least(40);
  });

  it('fails exactly the test of an op that is off by 0.1%, naming the element', async function () {
    const { passed, failed } = await runNested(() => describeBackendConformance('async reference, exp wrong', () => new AsyncReference('exp'), options));
    expect(failed.map((f) => f.title)).to.deep.equal(['unary exp, in place too']);
    expect(failed[0]!.message).to.match(/^exp: element \d+ \(row \d+, col \d+\) is .+, expected .+/);
    expect(passed).to.have.length.at.least(40);
  });
});
