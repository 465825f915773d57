import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { CounterRng, FormatError, InvalidValueError } from '@boltzmann/tensor';
import { FASHION_MNIST_DIR, encodeIdx, loadFashionMnist, loadMnistIdx } from '@boltzmann/data';
import { tempDir, thrown } from './helpers.js';

/** Writes an MNIST-style pair of files with `count` random h x w images and labels 0..9. */
function writePair(dir: string, prefix: string, count: number, h: number, w: number, options: { gzip: boolean; dotted?: boolean; seed: number }) {
  const rng = new CounterRng(options.seed);
  const pixels = Array.from(rng.uniforms(new Float64Array(count * h * w)), (u) => Math.floor(u * 256));
  const labels = Array.from(rng.uniforms(new Float64Array(count)), (u) => Math.floor(u * 10));
  const ext = options.gzip ? '.gz' : '';
  const sep = options.dotted === true ? '.' : '-';
  writeFileSync(join(dir, `${prefix}-images${sep}idx3-ubyte${ext}`), encodeIdx({ dtype: 'uint8', dims: [count, h, w], data: pixels }, options));
  writeFileSync(join(dir, `${prefix}-labels${sep}idx1-ubyte${ext}`), encodeIdx({ dtype: 'uint8', dims: [count], data: labels }, options));
  return { pixels, labels };
}

describe('MNIST-format files', function () {
  it('loadMnistIdx reads both splits, raw, gzipped and with the dotted names', function () {
    const { dir, cleanup } = tempDir();
    try {
      const train = writePair(dir, 'train', 129, 3, 5, { gzip: true, seed: 1 });
      const test = writePair(dir, 't10k', 3, 3, 5, { gzip: false, dotted: true, seed: 2 });
      for (const [split, truth] of [['train', train], ['test', test]] as const) {
        const set = loadMnistIdx(dir, split);
        expect([set.images.rows, set.images.cols, set.height, set.width]).to.deep.equal([truth.labels.length, 15, 3, 5]);
        expect(Array.from(set.labels)).to.deep.equal(truth.labels);
        set.images.data.forEach((v, i) => expect(v).to.equal(Math.fround(truth.pixels[i]! / 255)));
      }
      expect(loadMnistIdx(dir).labels.length).to.equal(129);
    } finally {
      cleanup();
    }
  });

  it('names the missing file and the folder', function () {
    const { dir, cleanup } = tempDir();
    try {
      writePair(dir, 'train', 2, 2, 2, { gzip: false, seed: 3 });
      const e = thrown(() => loadMnistIdx(dir, 'test'), FormatError);
      expect(e.message).to.contain('t10k-images-idx3-ubyte').and.contain(dir).and.contain('t10k-images-idx3-ubyte.gz');
      thrown(() => loadMnistIdx(dir, 'validation' as 'test'), InvalidValueError);
    } finally {
      cleanup();
    }
  });

  it('rejects labels outside 0..9 and counts that disagree, naming the file', function () {
    const { dir, cleanup } = tempDir();
    try {
      writePair(dir, 'train', 4, 2, 2, { gzip: false, seed: 4 });
      const labelsPath = join(dir, 'train-labels-idx1-ubyte');
      writeFileSync(labelsPath, encodeIdx({ dtype: 'uint8', dims: [4], data: [1, 2, 10, 3] }));
      expect(thrown(() => loadMnistIdx(dir), FormatError).message).to.contain(labelsPath).and.contain('image 2').and.contain('offset 10');
      writeFileSync(labelsPath, encodeIdx({ dtype: 'uint8', dims: [3], data: [1, 2, 3] }));
      expect(thrown(() => loadMnistIdx(dir), FormatError).message).to.contain('3 labels').and.contain('4 images');
    } finally {
      cleanup();
    }
  });

  it('loadFashionMnist says which package to install or which dir to pass', function () {
    const { dir, cleanup } = tempDir();
    try {
      const e = thrown(() => loadFashionMnist({ dir, split: 'test' }), FormatError);
      expect(e.message).to.contain(dir).and.contain('t10k-images-idx3-ubyte').and.contain('dataset-fashion-mnist').and.contain('{ dir }');
    } finally {
      cleanup();
    }
    if (!existsSync(FASHION_MNIST_DIR)) {
      const e = thrown(() => loadFashionMnist({ split: 'test' }), FormatError);
      expect(e.message).to.contain('apt-get install dataset-fashion-mnist');
    }
  });

  describe('Fashion-MNIST from the Debian package', function () {
    before(function () {
      if (!existsSync(join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'))) {
        console.log(`      (skipped: ${FASHION_MNIST_DIR} is absent; apt-get install dataset-fashion-mnist to run these)`);
        this.skip();
      }
    });

    it('test split: 10,000 images of 28x28, 1,000 per class, pixels equal to the raw bytes / 255', function () {
      const set = loadFashionMnist({ split: 'test' });
      expect([set.images.rows, set.images.cols, set.height, set.width]).to.deep.equal([10000, 784, 28, 28]);
      expect(Array.from(set.labels.subarray(0, 8))).to.deep.equal([9, 2, 1, 1, 6, 1, 4, 6]);
      const perClass = new Array<number>(10).fill(0);
      for (const l of set.labels) perClass[l]!++;
      expect(perClass).to.deep.equal(new Array(10).fill(1000));
      // Independent decode: skip the 16-byte header of the decompressed file.
      const raw = gunzipSync(readFileSync(join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz')));
      for (const image of [0, 1, 9999]) {
        for (let p = 0; p < 784; p++) expect(set.images.get(image, p)).to.equal(Math.fround(raw[16 + image * 784 + p]! / 255));
      }
    });

    it('train split: 60,000 images, 6,000 per class', function () {
      const set = loadFashionMnist({ split: 'train' });
      expect([set.images.rows, set.images.cols]).to.deep.equal([60000, 784]);
      expect(Array.from(set.labels.subarray(0, 8))).to.deep.equal([9, 0, 0, 3, 0, 2, 7, 2]);
      const perClass = new Array<number>(10).fill(0);
      for (const l of set.labels) perClass[l]!++;
      expect(perClass).to.deep.equal(new Array(10).fill(6000));
    });
  });
});
