import { expect } from 'chai';
import { CounterRng, Matrix, ReferenceBackend, createBackend, registerBackend, rngState, uniformAt, opKey, InvalidValueError, type UnaryOp } from '@boltzmann/tensor';
import { describeBackendConformance } from '@boltzmann/tensor/testing';
import { PlainOracle } from './plain-oracle.js';

// The oracle of every other backend's test, checked against an implementation written apart
// from it (nested arrays, other formulas) at float64 rounding, and against closed forms below.
describeBackendConformance('reference vs an independent float64 implementation', () => new ReferenceBackend('reference'), { oracle: () => new PlainOracle(), tolerance: 1e-12, ownership: false });

describe('ReferenceBackend hand-checked values', function () {
  const be = new ReferenceBackend();
  it('matmul of a 2x3 by 3x2', function () {
    const a = be.upload(Matrix.fromRows([[1, 2, 3], [4, 5, 6]]));
    const b = be.upload(Matrix.fromRows([[7, 8], [9, 10], [11, 12]]));
    const c = be.zeros(2, 2);
    be.matmul(a, b, c);
    expect(be.readSync(c).toArray()).to.deep.equal([[58, 64], [139, 154]]);
  });
  it('softplus is stable for large inputs', function () {
    const a = be.upload(Matrix.fromRows([[800, -800, 0]]));
    be.unary('softplus', a, a);
    const d = be.readSync(a).data;
    expect(d[0]).to.equal(800);
    expect(d[1]).to.be.closeTo(0, 1e-300);
    expect(d[2]).to.be.closeTo(Math.log(2), 1e-15);
  });
});

describe('ReferenceBackend against exact arithmetic and closed forms', function () {
  const be = new ReferenceBackend();
  /** A rows x cols matrix of integers in [-999, 999], seeded. */
  const integers = (rows: number, cols: number, seed: number): Matrix => {
    const u = new CounterRng(seed, 5).uniforms(new Float64Array(rows * cols));
    return new Matrix(rows, cols, Float64Array.from(u, (x) => Math.floor(x * 1999) - 999));
  };
  const big = (m: Matrix, r: number, c: number): bigint => BigInt(m.get(r, c));

  it('matmul of integer matrices of odd sizes, every transpose, equals the exact (BigInt) product', function () {
    for (const [m, k, n] of [[1, 1, 1], [3, 129, 5], [17, 3, 129]] as const) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const A = integers(ta ? k : m, ta ? m : k, m + k);
          const B = integers(tb ? n : k, tb ? k : n, n + 7);
          const out = be.zeros(m, n);
          be.matmul(be.upload(A), be.upload(B), out, { transposeA: ta, transposeB: tb, alpha: -2, beta: 0 });
          const got = be.readSync(out);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let exact = 0n;
              for (let p = 0; p < k; p++) exact += (ta ? big(A, p, i) : big(A, i, p)) * (tb ? big(B, j, p) : big(B, p, j));
              expect(got.get(i, j), `${m}x${k}x${n} ta=${ta} tb=${tb} (${i}, ${j})`).to.equal(Number(-2n * exact));
            }
          }
        }
      }
    }
  });

  it('sums and dyadic scalings of integers are exact', function () {
    const A = integers(129, 3, 1);
    const Y = integers(129, 3, 2);
    const a = be.upload(A);
    const cols = be.zeros(1, 3, 5);
    be.sumColumns(a, cols, 0.5, -4);
    const rows = be.zeros(129, 1);
    be.sumRows(a, rows);
    const axpby = be.zeros(129, 3);
    be.axpby(0.75, a, -1.25, be.upload(Y), axpby);
    for (let c = 0; c < 3; c++) {
      let s = 0n;
      for (let r = 0; r < 129; r++) s += big(A, r, c);
      expect(be.readSync(cols).get(0, c)).to.equal(Number(s) / 2 - 20);
    }
    for (let r = 0; r < 129; r++) {
      expect(be.readSync(rows).get(r, 0)).to.equal(Number(big(A, r, 0) + big(A, r, 1) + big(A, r, 2)));
      for (let c = 0; c < 3; c++) expect(be.readSync(axpby).get(r, c)).to.equal((3 * A.get(r, c) - 5 * Y.get(r, c)) / 4);
    }
  });

  it('the activations, softmax and log-sum-exp at points with closed forms', function () {
    const ln = Math.log;
    const unary = (op: UnaryOp, xs: number[]): number[] => {
      const t = be.upload(new Matrix(1, xs.length, Float64Array.from(xs)));
      be.unary(op, t, t);
      return Array.from(be.readSync(t).data);
    };
    const close = (got: number[], want: number[]) => got.forEach((g, i) => expect(g).to.be.closeTo(want[i]!, 1e-15 * (1 + Math.abs(want[i]!))));
    close(unary('sigmoid', [ln(3), -ln(3), 0]), [3 / 4, 1 / 4, 1 / 2]); // 1 / (1 + 1/3)
    close(unary('softplus', [ln(3), -ln(3), 0]), [ln(4), ln(4 / 3), ln(2)]); // log(1 + e^x)
    close(unary('tanh', [ln(2)]), [3 / 5]); // (4 - 1) / (4 + 1)
    const groups = be.upload(new Matrix(1, 4, Float64Array.from([0, ln(3), ln(2), ln(6)])));
    const soft = be.zeros(1, 4);
    be.softmaxGroups(groups, 2, soft);
    close(Array.from(be.readSync(soft).data), [1 / 4, 3 / 4, 1 / 4, 3 / 4]);
    const lse = be.zeros(1, 2);
    be.logSumExpGroups(groups, 2, lse);
    close(Array.from(be.readSync(lse).data), [ln(4), ln(8)]);
  });
});

describe('counter-based RNG', function () {
  it('is a pure function of (seed, stream, counter, index)', function () {
    const a = new CounterRng(42, 1).uniforms(new Float64Array(1000));
    const b = new CounterRng(42, 1).uniforms(new Float64Array(1000));
    expect(Array.from(a)).to.deep.equal(Array.from(b));
    const c = new CounterRng(42, 2).uniforms(new Float64Array(1000));
    expect(Array.from(a)).to.not.deep.equal(Array.from(c));
    expect(uniformAt(opKey(42, 1, 0), 17)).to.equal(a[17]);
  });
  it('has uniform moments and no lag-1 correlation', function () {
    const n = 200000;
    const u = new CounterRng(7).uniforms(new Float64Array(n));
    let s = 0, s2 = 0, lag = 0;
    for (let i = 0; i < n; i++) { s += u[i]!; s2 += u[i]! * u[i]!; if (i) lag += (u[i]! - 0.5) * (u[i - 1]! - 0.5); }
    expect(s / n).to.be.closeTo(0.5, 0.005);
    expect(s2 / n - (s / n) ** 2).to.be.closeTo(1 / 12, 0.002);
    expect(lag / n / (1 / 12)).to.be.closeTo(0, 0.01);
    expect(u.every((x) => x >= 0 && x < 1)).to.equal(true);
  });
  it('counters past 2^32 still give fresh keys', function () {
    expect(opKey(1, 0, 2 ** 32)).to.not.equal(opKey(1, 0, 0));
  });
  it('permutation is a permutation', function () {
    const p = new CounterRng(3).permutation(129);
    expect(Array.from(p).sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 129 }, (_, i) => i));
  });
  it('rejects bad states', function () {
    expect(() => rngState(-1)).to.throw(/seed/);
    expect(() => rngState(1, 0, 1.5)).to.throw(/counter/);
  });
});

describe('backend registry', function () {
  it('creates by name, picks the best in auto, and names what is registered on a typo', function () {
    registerBackend({ name: 'reference', priority: -100, available: () => true, create: () => new ReferenceBackend() });
    expect(createBackend('reference').name).to.equal('reference');
    expect(() => createBackend('nope')).to.throw(InvalidValueError, /registered: .*reference/);
  });
});

describe('writeFileAtomic', function () {
  it('replaces a file whole and leaves no temp file behind', async function () {
    const { mkdtempSync, readFileSync, readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeFileAtomic } = await import('@boltzmann/tensor');
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const file = join(dir, 'model.json');
    writeFileAtomic(file, 'first');
    writeFileAtomic(file, new Uint8Array([104, 105]));
    expect(readFileSync(file, 'utf8')).to.equal('hi');
    expect(readdirSync(dir)).to.deep.equal(['model.json']);
    expect(() => writeFileAtomic(join(dir, 'missing-dir', 'x'), 'y')).to.throw(/ENOENT/);
    expect(readdirSync(dir)).to.deep.equal(['model.json']);
  });
});
