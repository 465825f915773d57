import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FormatError } from '@boltzmann/tensor';
import { MAX_STREAM_LINE_BYTES, readCsv, readIdx } from '@boltzmann/data';

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

  it('a device without line breaks stops at the longest line a stream may have, whatever maxBytes', function () {
    expect(() => readCsv('/dev/zero', { maxStreamRows: 10 })).to.throw(FormatError, new RegExp(`/dev/zero: line 1 runs past ${MAX_STREAM_LINE_BYTES} bytes without a line break`));
  });

  it('an endless pipe is read up to the rows asked for (maxStreamRows), each row knowing its line', async function () {
    const fifo = join(dir, 'rows.fifo');
    execFileSync('mkfifo', [fifo]);
    // A writer that never ends: a header, an empty line, then "1,0,1" forever.
    const writer = spawn('sh', ['-c', `{ echo a,b,c; echo; yes 1,0,1; } > '${fifo}'`], { stdio: 'ignore' });
    try {
      const table = readCsv(fifo, { maxStreamRows: 5 });
      expect([table.data.rows, table.data.cols]).to.deep.equal([5, 3]);
      expect(table.columns).to.deep.equal(['a', 'b', 'c']);
      expect(Array.from(table.lines)).to.deep.equal([3, 4, 5, 6, 7]);
      expect(Array.from(table.data.data)).to.deep.equal([1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1]);
    } finally {
      writer.kill();
    }
  });
});
