import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { writeIdx } from '@boltzmann/data';
import { CounterRng, FormatError, InvalidValueError, Matrix, ShapeError } from '@boltzmann/tensor';
import { firstValueFrom, lastValueFrom, map, take, toArray, type Observable } from 'rxjs';
import {
  batch,
  binarize,
  collectRows,
  columnStatistics,
  fromArray,
  fromFile,
  fromIterable,
  fromMatrix,
  generatorStream,
  normalize,
  pull,
  shuffle,
  splitRows,
  splitStream,
} from '@boltzmann/pipeline';
import { settle, tempDir } from './helpers.js';

const all = <T>(o: Observable<T>) => lastValueFrom(o.pipe(toArray()));
/** A matrix whose row r is [r, r + 0.5, ...] so every row is recognisable. */
const numbered = (rows: number, cols = 2) => new Matrix(rows, cols, Float32Array.from({ length: rows * cols }, (_, i) => Math.floor(i / cols) + (i % cols) * 0.5));
const firstColumn = (ms: Matrix[]) => ms.flatMap((m) => Array.from({ length: m.rows }, (_, r) => m.get(r, 0)));

describe('sources', function () {
  it('fromMatrix: rows (or batches) in order, as copies', async function () {
    const m = numbered(5);
    const rows = await all(fromMatrix(m));
    expect(rows.map((r) => r.toArray()[0])).to.deep.equal(m.toArray());
    rows[0]!.set(0, 0, 99);
    expect(m.get(0, 0)).to.equal(0);
    expect((await all(fromMatrix(m, { batchSize: 2 }))).map((b) => b.rows)).to.deep.equal([2, 2, 1]);
  });

  it('fromArray: number rows become 1-row matrices; mismatched widths are an error', async function () {
    const rows = await all(fromArray([[1, 0, 1], [0, 1, 1]]));
    expect(rows.map((r) => [r.rows, ...Array.from(r.data)])).to.deep.equal([[1, 1, 0, 1], [1, 0, 1, 1]]);
    expect(() => fromArray([[1, 0], [1]])).to.throw(ShapeError, /item 1 has 1 columns, item 0 has 2/);
  });

  it('fromIterable: sync and async iterables', async function () {
    expect(await all(fromIterable([1, 2, 3]))).to.deep.equal([1, 2, 3]);
    async function* gen() {
      yield 'a';
      await new Promise((r) => setTimeout(r, 1));
      yield 'b';
    }
    expect(await all(fromIterable(gen()))).to.deep.equal(['a', 'b']);
  });

  it('generatorStream: value i depends only on (seed, i), so start: k gives the tail of the stream', async function () {
    const make = (i: number, rng: CounterRng) => new Matrix(1, 3, Float32Array.from(rng.uniforms(new Float32Array(3)), (u) => u + i));
    const full = await all(generatorStream(make, { seed: 5 }).pipe(take(7)));
    const tail = await all(generatorStream(make, { seed: 5, start: 4, count: 3 }));
    expect(tail.map((m) => Array.from(m.data))).to.deep.equal(full.slice(4).map((m) => Array.from(m.data)));
    const other = await firstValueFrom(generatorStream(make, { seed: 6 }));
    expect(Array.from(other.data)).to.not.deep.equal(Array.from(full[0]!.data));
    expect(() => generatorStream(make, { start: -1 })).to.throw(InvalidValueError, /start must be a non-negative integer/);
  });

  describe('fromFile', function () {
    let tmp: ReturnType<typeof tempDir>;
    before(function () {
      tmp = tempDir('pipeline-files-');
    });
    after(function () {
      tmp.remove();
    });

    it('CSV (header, label column left out) in batches', async function () {
      const path = join(tmp.dir, 'rows.csv');
      writeFileSync(path, 'a,b,label\n0,1,7\n1,1,8\n0.5,0,9\n');
      const batches = await all(fromFile(path, { batchSize: 2, csv: { labelColumn: 'label' } }));
      expect(batches.map((b) => b.toArray())).to.deep.equal([[[0, 1], [1, 1]], [[0.5, 0]]]);
    });

    it('IDX images (gzipped), scaled to [0, 1]', async function () {
      const path = join(tmp.dir, 'images-idx3-ubyte.gz');
      writeIdx(path, { dtype: 'uint8', dims: [3, 1, 2], data: [0, 255, 51, 102, 255, 0] }, { gzip: true });
      const rows = await collectRows(fromFile(path));
      expect(Array.from(rows.data)).to.deep.equal([0, 1, 0.2, 0.4, 1, 0].map(Math.fround));
    });

    it('a missing file is a FormatError on the stream', async function () {
      let error: unknown;
      try {
        await all(fromFile(join(tmp.dir, 'nope.csv')));
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(FormatError);
      expect((error as Error).message).to.match(/nope\.csv/);
    });
  });
});

describe('operators', function () {
  it('shuffle (exact): a seeded uniform permutation of a finite stream, the same for the same seed and stream', async function () {
    const m = numbered(129);
    const a = firstColumn(await all(fromMatrix(m).pipe(shuffle({ seed: 3 }))));
    const b = firstColumn(await all(fromMatrix(m).pipe(shuffle({ seed: 3 }))));
    const c = firstColumn(await all(fromMatrix(m).pipe(shuffle({ seed: 3, stream: 1 }))));
    expect(a).to.deep.equal(b);
    expect(a).to.not.deep.equal(c);
    expect([...a].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 129 }, (_, i) => i));
    expect(a).to.deep.equal(Array.from(new CounterRng(3, 0).permutation(129)));
  });

  it('shuffle (exact) is uniform: each of 3 items lands in each place about 1/3 of the time', async function () {
    const counts = [0, 0, 0];
    for (let seed = 0; seed < 600; seed++) {
      const order = await all(fromIterable([0, 1, 2]).pipe(shuffle({ seed })));
      counts[order[0]!]! += 1;
    }
    // Binomial(600, 1/3): sd 11.5; 5 sd either side.
    for (const c of counts) expect(c).to.be.within(200 - 58, 200 + 58);
  });

  it('shuffle (buffered): every value once, locally mixed, on an unbounded stream with bounded memory', async function () {
    const out = await all(fromIterable(Array.from({ length: 200 }, (_, i) => i)).pipe(shuffle({ seed: 1, bufferSize: 10 })));
    expect([...out].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 200 }, (_, i) => i));
    expect(out).to.not.deep.equal(Array.from({ length: 200 }, (_, i) => i));
    // Output i leaves when input i + 10 arrives, so it is one of the inputs 0..i+10.
    out.forEach((v, i) => expect(v).to.be.at.most(i + 10));
    const endless = generatorStream((i) => new Matrix(1, 1, Float32Array.of(i)));
    expect((await all(endless.pipe(shuffle({ seed: 2, bufferSize: 8 }), take(50)))).length).to.equal(50);
    expect(() => shuffle({ bufferSize: 0 })).to.throw(InvalidValueError, /bufferSize/);
  });

  it('shuffle (exact) refuses to hold more than maxItems', async function () {
    let error: unknown;
    try {
      await all(fromIterable(Array.from({ length: 20 }, (_, i) => i)).pipe(shuffle({ maxItems: 10 })));
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.match(/passed 10 values; an exact shuffle holds the whole stream, so give bufferSize/);
  });

  it('batch: regroups rows and batches of any size into exact batches, in order', async function () {
    const m = numbered(11, 3);
    const mixed = fromArray([m.sliceRows(0, 1), m.sliceRows(1, 6), m.sliceRows(6, 7), m.sliceRows(7, 11)]);
    const out = await all(mixed.pipe(batch(4)));
    expect(out.map((b) => b.rows)).to.deep.equal([4, 4, 3]);
    expect(Array.from(out.flatMap((b) => Array.from(b.data)))).to.deep.equal(Array.from(m.data));
    expect((await all(fromMatrix(m).pipe(batch(4, { dropRemainder: true })))).map((b) => b.rows)).to.deep.equal([4, 4]);
    const one = await all(fromMatrix(m).pipe(batch(1)));
    expect(one).to.have.length(11);
    let error: unknown;
    try {
      await all(fromArray([new Matrix(1, 3), new Matrix(1, 2)]).pipe(batch(2)));
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ShapeError);
  });

  it('binarize: by threshold, or by seeded sampling with the right frequencies', async function () {
    const m = new Matrix(1, 4, Float32Array.of(0, 0.5, 0.51, 1));
    expect(Array.from((await firstValueFrom(of1(m).pipe(binarize()))).data)).to.deep.equal([0, 0, 1, 1]);
    const p = new Matrix(1, 3, Float32Array.of(0.1, 0.5, 0.9));
    const sums = [0, 0, 0];
    const n = 2000;
    const samples = await all(fromIterable(Array.from({ length: n }, () => p)).pipe(binarize({ sample: { seed: 7 } })));
    for (const s of samples) s.data.forEach((v, j) => (sums[j]! += v));
    // Binomial(2000, p): sd <= 22.4; 5 sd.
    [0.1, 0.5, 0.9].forEach((q, j) => expect(sums[j]).to.be.within(n * q - 112, n * q + 112));
    const again = await all(fromIterable(Array.from({ length: 5 }, () => p)).pipe(binarize({ sample: { seed: 7 } })));
    expect(again.map((s) => Array.from(s.data))).to.deep.equal(samples.slice(0, 5).map((s) => Array.from(s.data)));
    let error: unknown;
    try {
      await all(of1(new Matrix(1, 2, Float32Array.of(0.5, 1.5))).pipe(binarize({ sample: { seed: 1 } })));
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.match(/probabilities in \[0, 1\], got 1\.5 at row 0, col 1/);
  });

  it('normalize: range onto [0, 1] (outside is an error, not clamped) and standardize per column', async function () {
    const bytes = new Matrix(1, 3, Float32Array.of(0, 51, 255));
    expect(Array.from((await firstValueFrom(of1(bytes).pipe(normalize({ range: { min: 0, max: 255 } })))).data)).to.deep.equal([0, 0.2, 1].map(Math.fround));
    let error: unknown;
    try {
      await all(of1(new Matrix(1, 2, Float32Array.of(3, 256))).pipe(normalize({ range: { min: 0, max: 255 } })));
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.match(/256 at row 0, col 1 is outside the range \[0, 255\]/);
    const m = new Matrix(3, 2, Float64Array.of(1, 10, 2, 20, 3, 60));
    const stats = columnStatistics(m);
    expect(Array.from(stats.mean)).to.deep.equal([2, 30]);
    expect(stats.std[0]).to.be.closeTo(Math.sqrt(2 / 3), 1e-15);
    const z = await firstValueFrom(of1(m).pipe(normalize({ standardize: stats })));
    expect(z.get(2, 1)).to.be.closeTo((60 - 30) / Math.sqrt(((10 - 30) ** 2 + (20 - 30) ** 2 + 30 ** 2) / 3), 1e-12);
  });

  it('splitStream: disjoint, covering, deterministic, about the asked fraction', async function () {
    const source = fromIterable(Array.from({ length: 1000 }, (_, i) => i));
    const { train, validation } = splitStream(source, { validationFraction: 0.2, seed: 1 });
    const t = await all(train);
    const v = await all(validation);
    expect([...t, ...v].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i));
    expect(v.length).to.be.within(200 - 63, 200 + 63);
    expect(await all(splitStream(source, { validationFraction: 0.2, seed: 1 }).validation)).to.deep.equal(v);
    expect(() => splitStream(source, { validationFraction: 1 })).to.throw(InvalidValueError, /validationFraction must lie in \(0, 1\)/);
  });

  it('splitRows: an exact split of a matrix, rows kept in order', function () {
    const m = numbered(10);
    const { train, validation } = splitRows(m, { validationFraction: 0.3, seed: 2 });
    expect(validation.rows).to.equal(3);
    const t = firstColumn([train]);
    const v = firstColumn([validation]);
    expect([...t, ...v].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 10 }, (_, i) => i));
    expect(t).to.deep.equal([...t].sort((a, b) => a - b));
  });

  it('collectRows gathers a stream; an empty one is an error', async function () {
    const m = numbered(7);
    expect(Array.from((await collectRows(fromMatrix(m, { batchSize: 3 }))).data)).to.deep.equal(Array.from(m.data));
    let error: unknown;
    try {
      await collectRows(fromArray([]));
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.match(/the stream is empty/);
  });

  it('operators compose with plain RxJS operators and keep demand (map between source and batch)', async function () {
    const m = numbered(9);
    const out = await all(fromMatrix(m).pipe(map((r) => r), batch(3)));
    expect(out.map((b) => b.rows)).to.deep.equal([3, 3, 3]);
    let produced = 0;
    const rows = generatorStream((i) => {
      produced += 1;
      return new Matrix(1, 1, Float32Array.of(i));
    });
    const queue = pull(rows.pipe(map((r) => r), shuffle({ seed: 1, bufferSize: 4 }), batch(3)));
    await queue.next();
    await queue.next();
    await settle();
    expect(produced).to.equal(4 + 6);
    queue.close();
  });
});

function of1(m: Matrix): Observable<Matrix> {
  return fromArray([m]);
}
