import { expect } from 'chai';
import { ReferenceBackend, type Tensor } from '@boltzmann/tensor';
import { Registry, Workspace } from '@boltzmann/core';

describe('Workspace scratch buffers', function () {
  it('reuses a buffer per key and shape, and frees the least recently used row counts beyond its cap', function () {
    const be = new ReferenceBackend();
    const ws = new Workspace(be, 2);
    const a = ws.get('x', 3, 4);
    expect(ws.get('x', 3, 4)).to.equal(a);
    expect(ws.get('y', 3, 4)).to.not.equal(a);
    const b = ws.get('x', 5, 4);
    expect(ws.get('x', 3, 4)).to.equal(a); // 3 is now the most recent, 5 the older
    ws.get('x', 7, 4); // a third row count: rows 5 go
    expect(() => be.readSync(b)).to.throw(/disposed/);
    expect(be.readSync(a).rows).to.equal(3);
    const ones: Tensor = ws.onesColumn(3);
    expect(Array.from(be.readSync(ones).data)).to.deep.equal([1, 1, 1]);
    ws.clear();
    expect(() => be.readSync(a)).to.throw(/disposed/);
  });

  it('registries name what they know when asked for something else', function () {
    const r = new Registry<number>('widget').register('b', 2).register('a', 1);
    expect(r.get('a')).to.equal(1);
    expect(r.names()).to.deep.equal(['a', 'b']);
    expect(() => r.get('c')).to.throw('unknown widget "c"; registered: a, b');
  });
});
