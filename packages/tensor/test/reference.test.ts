import { expect } from 'chai';
import { CounterRng, Matrix, ReferenceBackend, createBackend, registerBackend, rngState, uniformAt, opKey, InvalidValueError } from '@boltzmann/tensor';
import { describeBackendConformance } from '@boltzmann/tensor/testing';

// The oracle must agree with itself (sanity of the suite) and with hand-computed values.
describeBackendConformance('reference vs itself', () => new ReferenceBackend('reference'));

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
