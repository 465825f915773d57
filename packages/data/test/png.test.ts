import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { CounterRng, InvalidValueError, Matrix, ShapeError } from '@boltzmann/tensor';
import { type RasterImage, crc32, encodePng, imageGrid, loadDigits, writePng } from '@boltzmann/data';
import { tempDir, thrown } from './helpers.js';

/** A strict decoder for what encodePng writes, checking every chunk's CRC with zlib's own crc32. */
function decodePng(png: Uint8Array): RasterImage {
  expect(Array.from(png.subarray(0, 8))).to.deep.equal([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const types: string[] = [];
  const idat: Uint8Array[] = [];
  let header: Uint8Array | undefined;
  let at = 8;
  while (at < png.length) {
    const length = view.getUint32(at, false);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    expect(view.getUint32(at + 8 + length, false), `CRC of ${type}`).to.equal(zlib.crc32(png.subarray(at + 4, at + 8 + length)));
    types.push(type);
    if (type === 'IHDR') header = data;
    if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  expect(at).to.equal(png.length);
  expect(types[0]).to.equal('IHDR');
  expect(types[types.length - 1]).to.equal('IEND');
  const hv = new DataView(header!.buffer, header!.byteOffset, 13);
  const width = hv.getUint32(0, false);
  const height = hv.getUint32(4, false);
  expect(header![8], 'bit depth').to.equal(8);
  expect([0, 2]).to.include(header![9]);
  expect(Array.from(header!.subarray(10, 13)), 'compression, filter, interlace').to.deep.equal([0, 0, 0]);
  const channels = header![9] === 0 ? 1 : 3;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  expect(raw.length).to.equal((stride + 1) * height);
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (stride + 1)], `filter of scanline ${y}`).to.equal(0);
    pixels.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  }
  return { width, height, channels, pixels };
}

function randomImage(width: number, height: number, channels: 1 | 3, seed: number): RasterImage {
  const u = new CounterRng(seed).uniforms(new Float64Array(width * height * channels));
  return { width, height, channels, pixels: Uint8Array.from(u, (v) => Math.floor(v * 256)) };
}

describe('PNG', function () {
  it('crc32 matches the standard check value and zlib, and continues across calls', function () {
    expect(crc32(new TextEncoder().encode('123456789'))).to.equal(0xcbf43926);
    expect(crc32(new Uint8Array(0))).to.equal(0);
    const bytes = randomImage(129, 3, 1, 1).pixels;
    expect(crc32(bytes)).to.equal(zlib.crc32(bytes));
    expect(crc32(bytes.subarray(100), crc32(bytes.subarray(0, 100)))).to.equal(zlib.crc32(bytes));
  });

  it('encodes grayscale and RGB that decode back to the same pixels', function () {
    for (const [w, h, channels] of [[1, 1, 1], [3, 1, 1], [1, 3, 3], [129, 3, 1], [3, 129, 3]] as const) {
      const image = randomImage(w, h, channels, w * 1000 + h);
      const decoded = decodePng(encodePng(image));
      expect([decoded.width, decoded.height, decoded.channels]).to.deep.equal([w, h, channels]);
      expect(Buffer.from(decoded.pixels).equals(Buffer.from(image.pixels))).to.equal(true);
    }
  });

  it('rejects images whose sizes do not add up', function () {
    thrown(() => encodePng({ width: 2, height: 2, channels: 1, pixels: new Uint8Array(3) }), InvalidValueError);
    thrown(() => encodePng({ width: 0, height: 2, channels: 1, pixels: new Uint8Array(0) }), InvalidValueError);
    thrown(() => encodePng({ width: 1, height: 1, channels: 4 as 3, pixels: new Uint8Array(4) }), InvalidValueError);
  });

  describe('imageGrid', function () {
    // Three 2x2 images.
    const images = Matrix.fromRows([
      [0, 1, 0.5, 0.2],
      [2, 4, 4, 2],
      [7, 7, 7, 7],
    ]);

    it('tiles left to right, top to bottom, with padding and empty cells in the padding gray', function () {
      const grid = imageGrid(Matrix.fromRows([[0, 1, 0.5, 0.2], [1, 1, 0, 0], [0, 0, 0, 1]]), { columns: 2, padding: 1, paddingValue: 0.6 });
      const P = 153; // round(0.6 * 255)
      expect([grid.width, grid.height, grid.channels]).to.deep.equal([7, 7, 1]);
      // prettier-ignore
      expect(Array.from(grid.pixels)).to.deep.equal([
        P, P, P, P, P, P, P,
        P, 0, 255, P, 255, 255, P,
        P, 128, 51, P, 0, 0, P,
        P, P, P, P, P, P, P,
        P, 0, 0, P, P, P, P,
        P, 0, 255, P, P, P, P,
        P, P, P, P, P, P, P,
      ]);
    });

    it("normalizes per image, globally, or refuses values outside [0, 1] with 'none'", function () {
      // Row y of the 6x2 picture holds row y of each image side by side.
      const per = imageGrid(images, { columns: 3, padding: 0, normalize: 'per-image' });
      expect([per.width, per.height]).to.deep.equal([6, 2]);
      // Image 0 spans 0..1, image 1 spans 2..4, image 2 is constant (mid-gray).
      expect(Array.from(per.pixels)).to.deep.equal([0, 255, 0, 255, 128, 128, 128, 51, 255, 0, 128, 128]);
      const global = imageGrid(images, { columns: 3, padding: 0, normalize: 'global' });
      // Everything over 0..7: round(v * 255 / 7).
      expect(Array.from(global.pixels)).to.deep.equal([0, 36, 73, 146, 255, 255, 18, 7, 146, 73, 255, 255]);
      expect(thrown(() => imageGrid(images), InvalidValueError).message).to.contain("normalize: 'per-image' or 'global'");
    });

    it('checks the image size, the options and the values', function () {
      const six = new Matrix(2, 6);
      expect(imageGrid(six, { imageWidth: 3, padding: 0 })).to.deep.include({ width: 6, height: 2 });
      expect(imageGrid(six, { imageHeight: 3, imageWidth: 2, columns: 1, padding: 2 })).to.deep.include({ width: 6, height: 12 });
      thrown(() => imageGrid(six), ShapeError);
      thrown(() => imageGrid(six, { imageWidth: 4 }), InvalidValueError);
      thrown(() => imageGrid(six, { imageWidth: 2, imageHeight: 2 }), ShapeError);
      thrown(() => imageGrid(images, { padding: -1, normalize: 'global' }), InvalidValueError);
      thrown(() => imageGrid(images, { columns: 0, normalize: 'global' }), InvalidValueError);
      thrown(() => imageGrid(Matrix.fromRows([[NaN, 0, 0, 0]]), { normalize: 'global' }), InvalidValueError);
    });

    it('writes a grid of 64 bundled digits to a PNG file that decodes to the digits', function () {
      const { dir, cleanup } = tempDir();
      try {
        const digits = loadDigits({ count: 64 });
        const path = join(dir, 'samples.png');
        writePng(path, imageGrid(digits.images, { columns: 8, padding: 2, paddingValue: 0.5 }));
        expect(existsSync(path)).to.equal(true);
        const png = decodePng(readFileSync(path));
        const side = 8 * 28 + 9 * 2;
        expect([png.width, png.height, png.channels]).to.deep.equal([side, side, 1]);
        let mismatches = 0;
        for (let n = 0; n < 64; n++) {
          const left = 2 + (n % 8) * 30;
          const top = 2 + Math.floor(n / 8) * 30;
          for (let y = 0; y < 28; y++) {
            for (let x = 0; x < 28; x++) {
              if (png.pixels[(top + y) * side + left + x] !== Math.round(digits.images.get(n, y * 28 + x) * 255)) mismatches++;
            }
          }
        }
        expect(mismatches).to.equal(0);
        expect(png.pixels[0]).to.equal(128);
        expect(png.pixels[side * 31 + 30]).to.equal(128);
      } finally {
        cleanup();
      }
    });
  });
});
