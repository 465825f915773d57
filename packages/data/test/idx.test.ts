import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { CounterRng, FormatError, InvalidValueError, ShapeError } from '@boltzmann/tensor';
import { type IdxDtype, encodeIdx, readIdx, readIdxImages, readIdxLabels } from '@boltzmann/data';
import { idxHeader, tempDir, thrown } from './helpers.js';

describe('IDX reader', function () {
  it('decodes hand-written big-endian files of every type', function () {
    const u8 = Uint8Array.from([...idxHeader(0x08, [3]), 0, 128, 255]);
    expect(readIdx(u8)).to.deep.include({ dtype: 'uint8', dims: [3] });
    expect(Array.from(readIdx(u8).data)).to.deep.equal([0, 128, 255]);

    const i8 = Uint8Array.from([...idxHeader(0x09, [2]), 0xff, 0x80]);
    expect(Array.from(readIdx(i8).data)).to.deep.equal([-1, -128]);

    // int16 [2, 1]: 0x0102 = 258, 0xfffe = -2
    const i16 = Uint8Array.from([...idxHeader(0x0b, [2, 1]), 0x01, 0x02, 0xff, 0xfe]);
    const t16 = readIdx(i16);
    expect(t16.dtype).to.equal('int16');
    expect(t16.dims).to.deep.equal([2, 1]);
    expect(t16.data).to.be.instanceOf(Int16Array);
    expect(Array.from(t16.data)).to.deep.equal([258, -2]);

    const i32 = Uint8Array.from([...idxHeader(0x0c, [1]), 0x80, 0, 0, 1]);
    expect(Array.from(readIdx(i32).data)).to.deep.equal([-2147483647]);

    // float32 1.5 = 0x3fc00000; float64 -2.25 = 0xc002000000000000
    const f32 = Uint8Array.from([...idxHeader(0x0d, [1]), 0x3f, 0xc0, 0, 0]);
    expect(readIdx(f32).data).to.be.instanceOf(Float32Array);
    expect(readIdx(f32).data[0]).to.equal(1.5);
    const f64 = Uint8Array.from([...idxHeader(0x0e, [1, 1, 1]), 0xc0, 0x02, 0, 0, 0, 0, 0, 0]);
    expect(readIdx(f64).dims).to.deep.equal([1, 1, 1]);
    expect(readIdx(f64).data[0]).to.equal(-2.25);
  });

  it('round-trips encodeIdx for every type on odd sizes, raw and gzipped, from bytes and from files', function () {
    const { dir, cleanup } = tempDir();
    try {
      const rng = new CounterRng(11);
      const samples: Record<IdxDtype, (u: number) => number> = {
        uint8: (u) => Math.floor(u * 256),
        int8: (u) => Math.floor(u * 256) - 128,
        int16: (u) => Math.floor(u * 65536) - 32768,
        int32: (u) => Math.floor(u * 2 ** 24) * 256 - 2 ** 31,
        float32: (u) => Math.fround(u * 200 - 100),
        float64: (u) => (u - 0.5) * 1e300,
      };
      for (const dtype of Object.keys(samples) as IdxDtype[]) {
        for (const dims of [[1], [3, 1], [129, 3], [3, 1, 129]]) {
          const n = dims.reduce((a, b) => a * b, 1);
          const values = Array.from(rng.uniforms(new Float64Array(n)), samples[dtype]);
          for (const gzip of [false, true]) {
            const bytes = encodeIdx({ dtype, dims, data: values }, { gzip });
            expect(bytes[0] === 0x1f).to.equal(gzip);
            const path = join(dir, `${dtype}-${dims.join('x')}-${gzip}`);
            writeFileSync(path, bytes);
            for (const t of [readIdx(bytes), readIdx(path)]) {
              expect(t.dtype).to.equal(dtype);
              expect(t.dims).to.deep.equal(dims);
              expect(Array.from(t.data)).to.deep.equal(values);
            }
          }
        }
      }
    } finally {
      cleanup();
    }
  });

  it('encodeIdx refuses values that do not fit and shapes that do not match', function () {
    thrown(() => encodeIdx({ dtype: 'uint8', dims: [2], data: [1, 256] }), InvalidValueError);
    thrown(() => encodeIdx({ dtype: 'int16', dims: [1], data: [0.5] }), InvalidValueError);
    thrown(() => encodeIdx({ dtype: 'uint8', dims: [3], data: [1, 2] }), ShapeError);
  });

  describe('corrupt input names the file and the byte offset', function () {
    const valid = Uint8Array.from([...idxHeader(0x08, [2, 5]), ...Array.from({ length: 10 }, (_, i) => i)]);

    it('a missing file', function () {
      const e = thrown(() => readIdx('/nonexistent/train-images-idx3-ubyte'), FormatError);
      expect(e.message).to.contain('/nonexistent/train-images-idx3-ubyte').and.contain('cannot read');
    });
    it('fewer than 4 bytes', function () {
      expect(thrown(() => readIdx(new Uint8Array(0), { name: 'empty.idx' }), FormatError).message).to.match(/^empty\.idx: .*offset 0/);
      expect(thrown(() => readIdx(Uint8Array.of(0, 0, 8)), FormatError).message).to.contain('offset 3');
    });
    it('bad magic at offset 0', function () {
      const bad = valid.slice();
      bad[1] = 7;
      const e = thrown(() => readIdx(bad, { name: 'x.idx' }), FormatError);
      expect(e.message).to.contain('x.idx').and.contain('bad IDX magic number 00 07 08 02').and.contain('offset 0');
    });
    it('an unknown type code at offset 2', function () {
      const bad = valid.slice();
      bad[2] = 0x0a;
      expect(thrown(() => readIdx(bad), FormatError).message).to.contain('type code 0x0a').and.contain('offset 2');
    });
    it('a dimension count that does not fit in the file, at offset 3', function () {
      const bad = valid.slice(0, 12);
      bad[3] = 3;
      expect(thrown(() => readIdx(bad), FormatError).message).to.contain('3 dimensions').and.contain('offset 3');
      const zero = valid.slice();
      zero[3] = 0;
      expect(thrown(() => readIdx(zero), FormatError).message).to.contain('offset 3');
    });
    it('data shorter than the header says, at the offset where the file ends', function () {
      const e = thrown(() => readIdx(valid.slice(0, 19)), FormatError);
      expect(e.message).to.contain('data shorter than the header says').and.contain('need 10 bytes from offset 12, but only 7 follow').and.contain('offset 19');
    });
    it('a header whose dimensions overflow', function () {
      const huge = Uint8Array.from([...idxHeader(0x0e, [0xffffffff, 0xffffffff, 0xffffffff]), 1, 2, 3]);
      expect(thrown(() => readIdx(huge), FormatError).message).to.contain('data shorter');
    });
    it('trailing bytes after the data', function () {
      const long = Uint8Array.from([...valid, 9, 9]);
      expect(thrown(() => readIdx(long), FormatError).message).to.contain('2 unexpected bytes').and.contain('offset 22');
    });
    it('offsets in a gzipped file count in the decompressed data', function () {
      const e = thrown(() => readIdx(gzipSync(valid.slice(0, 19))), FormatError);
      expect(e.message).to.contain('offset 19 of the decompressed data');
    });
    it('a truncated gzip stream', function () {
      const gz = gzipSync(valid);
      const e = thrown(() => readIdx(gz.subarray(0, gz.length - 5), { name: 'labels.gz' }), FormatError);
      expect(e.message).to.contain('labels.gz').and.contain('truncated').and.contain(`offset ${gz.length - 5}`);
    });
    it('a corrupt gzip stream, with the compressed offset where zlib rejects it', function () {
      const gz = Uint8Array.from(gzipSync(valid));
      gz[2] = 7; // compression method must be 8 (deflate)
      const method = thrown(() => readIdx(gz), FormatError).message;
      expect(method).to.contain('corrupt gzip stream').and.contain('unknown compression method');
      // zlib reads the method and flags bytes together, so it notices at byte 2 or 3.
      expect(Number(/offset (\d+)/.exec(method)![1])).to.be.within(2, 3);
      const crc = Uint8Array.from(gzipSync(valid));
      crc[crc.length - 6] ^= 0x40; // inside the CRC-32 of the trailer
      const e = thrown(() => readIdx(crc), FormatError);
      expect(e.message).to.contain('corrupt gzip stream').and.contain('incorrect data check');
      const offset = Number(/offset (\d+)/.exec(e.message)![1]);
      expect(offset).to.be.within(crc.length - 8, crc.length - 5);
    });
  });

  it('readIdxImages scales bytes to [0, 1] with one image a row', function () {
    const bytes = Uint8Array.from([...idxHeader(0x08, [3, 2, 3]), ...Array.from({ length: 18 }, (_, i) => i * 15)]);
    const m = readIdxImages(bytes);
    expect([m.rows, m.cols]).to.deep.equal([3, 6]);
    for (let i = 0; i < 18; i++) expect(m.data[i]).to.equal(Math.fround((i * 15) / 255));
    expect(m.data[17]).to.equal(1);
    expect(thrown(() => readIdxImages(encodeIdx({ dtype: 'float32', dims: [1, 2, 2], data: [0, 0, 0, 0] })), FormatError).message).to.contain('unsigned bytes');
    expect(thrown(() => readIdxImages(encodeIdx({ dtype: 'uint8', dims: [0, 2, 2], data: [] })), FormatError).message).to.contain('no images');
    expect(thrown(() => readIdxImages(encodeIdx({ dtype: 'uint8', dims: [4], data: [1, 2, 3, 4] })), FormatError).message).to.contain('2 dimensions');
  });

  it('readIdxLabels gives Uint8Array for bytes and Int32Array for wider integers', function () {
    const u8 = readIdxLabels(encodeIdx({ dtype: 'uint8', dims: [3], data: [9, 0, 7] }));
    expect(u8).to.be.instanceOf(Uint8Array);
    expect(Array.from(u8)).to.deep.equal([9, 0, 7]);
    const i16 = readIdxLabels(encodeIdx({ dtype: 'int16', dims: [2], data: [-3, 1000] }));
    expect(i16).to.be.instanceOf(Int32Array);
    expect(Array.from(i16)).to.deep.equal([-3, 1000]);
    thrown(() => readIdxLabels(encodeIdx({ dtype: 'float64', dims: [1], data: [1] })), FormatError);
    thrown(() => readIdxLabels(encodeIdx({ dtype: 'uint8', dims: [1, 1], data: [1] })), FormatError);
  });

  it('fuzz: random bytes, truncations and mutations only ever throw FormatError', function () {
    const rng = new CounterRng(2024, 7);
    const int = (n: number) => Math.floor(rng.uniform() * n);
    const images = encodeIdx({ dtype: 'uint8', dims: [3, 5, 7], data: Array.from({ length: 105 }, (_, i) => (i * 37) % 256) });
    const floats = encodeIdx({ dtype: 'float64', dims: [3, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
    const bases = [images, floats, Uint8Array.from(gzipSync(images)), Uint8Array.from(gzipSync(floats))];
    let accepted = 0;
    let rejected = 0;
    const attempt = (bytes: Uint8Array, what: string) => {
      try {
        const t = readIdx(bytes);
        expect(t.data.length, what).to.equal(t.dims.reduce((a, b) => a * b, 1));
        accepted++;
      } catch (error) {
        if (!(error instanceof FormatError)) throw new Error(`${what}: threw ${String(error)} instead of a FormatError`);
        rejected++;
      }
    };
    for (let i = 0; i < 400; i++) {
      // Random bytes, half of them behind a plausible IDX or gzip start.
      const random = Uint8Array.from({ length: int(48) }, () => int(256));
      if (i % 4 === 1 && random.length >= 4) random.set([0, 0, 8 + int(7), int(4)]);
      if (i % 4 === 2 && random.length >= 2) random.set([0x1f, 0x8b]);
      attempt(random, `random case ${i}`);
    }
    for (const [b, base] of bases.entries()) {
      for (let length = 0; length < base.length; length++) attempt(base.subarray(0, length), `base ${b} cut to ${length}`);
      for (let i = 0; i < 300; i++) {
        const mutated = base.slice();
        const flips = 1 + int(3);
        for (let f = 0; f < flips; f++) mutated[int(mutated.length)] = int(256);
        attempt(mutated, `base ${b} mutation ${i}`);
      }
    }
    // Both outcomes occur (mutations of pixel bytes stay valid), so the loop really exercised the reader.
    expect(accepted).to.be.greaterThan(50);
    expect(rejected).to.be.greaterThan(1000);
  });
});
