import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FormatError } from '@boltzmann/tensor';
import { readCsv, readIdx } from '@boltzmann/data';

describe('bounded input: decompression and devices stop at a limit', function () {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'data-bounded-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('an IDX .gz whose data expands past the size its header declares stops at that size (a gzip bomb)', function () {
    const header = Uint8Array.from([0, 0, 0x08, 2, 0, 0, 0, 10, 0, 0, 0, 10]); // 10 x 10 uint8: 112 bytes in all
    const bomb = gzipSync(Buffer.concat([header, Buffer.alloc(64 * 1024 * 1024)]), { level: 9 });
    expect(bomb.length).to.be.below(200 * 1024);
    const file = join(dir, 'bomb-images-idx3-ubyte.gz');
    writeFileSync(file, bomb);
    // zlib stops at the declared size + 1 (maxOutputLength): the 64 MB are never produced (the child-process corpus in test/ measures memory).
    expect(() => readIdx(file)).to.throw(FormatError, /bomb-images-idx3-ubyte\.gz: decompresses to more than the 112 bytes its header declares/);
    // The same file with its true size declared reads.
    writeFileSync(file, gzipSync(Buffer.concat([header, Buffer.alloc(100)])));
    expect(readIdx(file).dims).to.deep.equal([10, 10]);
  });

  it('a header declaring more than the limit is refused before decompressing', function () {
    const header = Uint8Array.from([0, 0, 0x08, 2, 0, 0x10, 0, 0, 0, 0x10, 0, 0]); // 2^20 x 2^20 bytes
    const file = join(dir, 'huge.gz');
    writeFileSync(file, gzipSync(Buffer.concat([header, Buffer.alloc(10)])));
    expect(() => readIdx(file)).to.throw(FormatError, /huge\.gz: its header declares \d+ bytes of data, over the limit/);
  });

  it('a device without end (/dev/zero) is read only up to the limit', function () {
    expect(() => readCsv('/dev/zero', { maxBytes: 1024 * 1024 })).to.throw(FormatError, /\/dev\/zero: holds more than 1048576 bytes/);
  });
});
