import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { MODEL_HEADER_LIMIT, RBM, Trainer, encodeArray, encodeModel, loadModel, saveModel } from '@boltzmann/core';
import { modelDocument } from './model-files.js';
import { barsAndStripes, repeatRows } from './helpers.js';

const be = new ReferenceBackend();

/** The header JSON of a version 2 file, its length and where the data starts (read by hand: prefix, header). */
function header(bytes: Buffer): { json: any; length: number; start: number } {
  const length = bytes.readUInt32LE(8);
  return { json: JSON.parse(bytes.subarray(16, 16 + length).toString('utf8')), length, start: 16 + length };
}

describe('model file format version 2 (binary: prefix, JSON header, arrays)', function () {
  let dir: string;
  let good: Buffer;
  const data = repeatRows(barsAndStripes(3), 3);

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'core-format-'));
    const rbm = RBM.create(be, { visible: 9, hidden: 5, seed: 3 });
    const trainer = new Trainer(rbm, { batchSize: 10, seed: 4, estimator: { type: 'pcd', k: 1 }, learningRate: 0.1 });
    await trainer.fit(data, { epochs: 2 });
    await saveModel(join(dir, 'good.bin'), rbm, trainer);
    good = readFileSync(join(dir, 'good.bin'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  function expectBad(bytes: Uint8Array | string, pattern: RegExp): void {
    const file = join(dir, 'bad.bin');
    writeFileSync(file, bytes);
    expect(() => loadModel(file, be)).to.throw(FormatError, pattern);
  }

  it('lays the arrays out as the header says: aligned offsets, exact sizes, CRC-32 per array and of the header', function () {
    const { json, length, start } = header(good);
    expect(json.version).to.equal(2);
    expect((16 + length) % 8).to.equal(0);
    expect(good.length).to.equal(start + json.dataBytes);
    const w = json.parameters['visible-hidden.weights'];
    expect(w.dtype).to.equal('float64');
    expect(w.shape).to.deep.equal([9, 5]);
    const values = new Float64Array(good.buffer.slice(good.byteOffset + start + w.offset, good.byteOffset + start + w.offset + 9 * 5 * 8));
    expect(Array.from(values)).to.deep.equal(Array.from(modelDocumentWeights(join(dir, 'good.bin'))));
    expect(Object.keys(json.training.estimator)).to.deep.equal(['chain.visible', 'chain.hidden']);
  });

  it('encodeModel gives the bytes saveModel writes', async function () {
    const { model, trainer } = loadModel(join(dir, 'good.bin'), be);
    expect(Buffer.from(await encodeModel(model, trainer)).equals(good)).to.equal(true);
  });

  it('refuses damaged files with one FormatError naming the file and the problem', function () {
    const { json, start } = header(good);
    const flip = (at: number) => {
      const b = Buffer.from(good);
      b[at] = b[at]! ^ 0x40;
      return b;
    };
    expectBad(good.subarray(0, good.length - 3), /bad\.bin" holds \d+ bytes; its header says \d+ \(truncated\)/);
    expectBad(good.subarray(0, 20), /declares a \d+-byte header but holds only 20 bytes \(truncated\)/);
    expectBad(Buffer.concat([good, Buffer.from([0])]), /extra bytes at the end/);
    expectBad(flip(start + json.parameters['hidden.bias'].offset + 3), /parameter "hidden\.bias" in model file ".*bad\.bin" fails its checksum/);
    expectBad(flip(start + json.training.estimator['chain.hidden'].offset), /estimator state "chain\.hidden" .* fails its checksum/);
    expectBad(flip(30), /fails its header checksum/);
    const huge = Buffer.from(good);
    huge.writeUInt32LE(MODEL_HEADER_LIMIT + 1, 8);
    expectBad(huge, /declares a \d+-byte header, over the limit/);
    expectBad(Buffer.from('\x89BZM\r\n\x1a\nrest'), /does not start with the model file signature|truncated/);
  });

  it('checks offsets and declared sizes in the header before reading or allocating anything', function () {
    const rewrite = (edit: (json: any) => void): Buffer => {
      const { json, start } = header(good);
      edit(json);
      const text = Buffer.from(JSON.stringify(json));
      const length = Math.ceil((16 + text.length) / 8) * 8 - 16;
      const prefix = Buffer.alloc(16 + length, 0x20);
      good.copy(prefix, 0, 0, 8);
      text.copy(prefix, 16);
      prefix.writeUInt32LE(length, 8);
      prefix.writeUInt32LE(crc32Of(prefix.subarray(16)), 12);
      return Buffer.concat([prefix, good.subarray(start)]);
    };
    expectBad(rewrite((j) => (j.parameters['hidden.bias'].offset = j.dataBytes)), /parameter "hidden\.bias" .* lies beyond the \d+-byte data section/);
    expectBad(rewrite((j) => (j.parameters['hidden.bias'].offset = j.parameters['visible.bias'].offset)), /overlaps/);
    expectBad(rewrite((j) => (j.parameters['hidden.bias'].shape = [1, 1e15])), /lies beyond/);
    // A layer declared far larger than anything the file holds is refused before the model is built.
    const started = performance.now();
    expectBad(rewrite((j) => (j.model.layers[1].size = 300000)), /parameter "hidden\.bias" .* is 1x5, but its layers need 1x300000/);
    expect(performance.now() - started).to.be.below(2000);
  });

  it('version 1 (JSON) files still load, and a JSON file declaring a huge layer with little data is refused before allocation', async function () {
    const doc = modelDocument(join(dir, 'good.bin'));
    writeFileSync(join(dir, 'v1.json'), JSON.stringify(doc));
    const a = await loadModel(join(dir, 'good.bin'), be).model.getParams();
    const b = await loadModel(join(dir, 'v1.json'), be).model.getParams();
    for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).to.deep.equal(Array.from(a[name]!.data));
    // A UTF-8 byte order mark (as some editors write) is accepted.
    writeFileSync(join(dir, 'bom.json'), `\ufeff${JSON.stringify(doc)}`);
    expect(loadModel(join(dir, 'bom.json'), be).model.layers[1]!.size).to.equal(5);
    const hostile = modelDocument(join(dir, 'good.bin'));
    hostile.model.layers[1].size = 300000;
    hostile.parameters['hidden.bias'].shape = [1, 300000];
    hostile.parameters['visible-hidden.weights'].shape = [9, 300000];
    expectBad(JSON.stringify(hostile), /parameter "hidden\.bias" .* holds 40 bytes; shape 1x300000 of float64 needs 2400000/);
    delete hostile.parameters['hidden.bias'];
    hostile.parameters['visible-hidden.weights'].shape = [9, 5];
    expectBad(JSON.stringify(hostile), /layer "hidden" in model file .* declares 300000 units, more than any array in the file holds/);
  });

  it('loaded training state is validated: NaN/Inf in optimizer or estimator state, a negative learning rate, a momentum above 1 are refused', function () {
    const cases: [(d: any) => void, RegExp][] = [
      [(d) => (d.training.optimizer['velocity:visible-hidden.weights'] = encodeArray(withValue(d.training.optimizer['velocity:visible-hidden.weights'].shape, NaN))), /optimizer state "velocity:visible-hidden\.weights" in model file .* has NaN at row 0, col 0/],
      [(d) => (d.training.estimator['chain.hidden'] = encodeArray(withValue(d.training.estimator['chain.hidden'].shape, Infinity))), /estimator state "chain\.hidden" .* has Infinity/],
      [(d) => (d.training.config.learningRate = { type: 'constant', value: -1 }), /learningRate schedule \("constant"\) has value -1; learningRate values must lie in \[0, Infinity\]/],
      [(d) => (d.training.config.momentum = { type: 'linear', from: 0.5, to: 2, start: 0, end: 3, unit: 'epoch' }), /momentum schedule \("linear"\) has to 2/],
      [(d) => (d.training.rng.gibbs = { seed: 0, stream: -1, counter: 0 }), /"training\.rng\.gibbs" in model file .* must be \{ "seed", "stream", "counter" \} of whole numbers/],
      [(d) => (d.training.epoch = -2), /checkpoint epoch must be an integer/],
    ];
    for (const [edit, pattern] of cases) {
      const doc = modelDocument(join(dir, 'good.bin'));
      edit(doc);
      expectBad(JSON.stringify(doc), pattern);
    }
  });

  it('saving state that holds NaN is refused and leaves the previous file as it was (and no temp file)', async function () {
    const file = join(dir, 'keep.bin');
    writeFileSync(file, good);
    const { model, trainer } = loadModel(file, be);
    const bias = Matrix.zeros(1, 5, 'float64');
    bias.data[2] = NaN;
    be.write(model.parameters.find((p) => p.name === 'hidden.bias')!.tensor, bias);
    let error: unknown;
    await saveModel(file, model, trainer).catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/refusing to save a model whose parameter "hidden\.bias" has NaN/);
    expect(readFileSync(file).equals(good)).to.equal(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);
  });

  it('a model of over 1 GB of parameters saves and loads (streamed: no whole-file string)', async function () {
    this.timeout(300000);
    // 16 x 16,777,217 float32 weights = 1,073,741,888 bytes, more than 1 GiB; a JSON file with
    // base64 arrays could not even be built as a string (V8's limit is about 512 MiB).
    const cpu = new CpuBackend({ precision: 'float32' });
    const hidden = 16 * 1024 * 1024 + 1;
    let rbm: RBM | undefined = RBM.create(cpu, { visible: 16, hidden, seed: 1, weightStd: 0 });
    const w = Matrix.zeros(16, hidden, 'float32');
    for (let i = 0; i < w.data.length; i += 4099) w.data[i] = ((i % 7) - 3) / 8;
    rbm.setParams({ 'visible-hidden.weights': w }, { partial: true });
    const file = join(dir, 'big.bin');
    await saveModel(file, rbm);
    rbm.dispose();
    rbm = undefined;
    expect(statSync(file).size).to.be.above(2 ** 30);
    const loaded = loadModel(file, cpu).model as RBM;
    const back = await cpu.read(loaded.parameters.find((p) => p.name === 'visible-hidden.weights')!.tensor);
    for (let i = 0; i < w.data.length; i += 4099) if (back.data[i] !== w.data[i]) expect.fail(`weight ${i}: ${back.data[i]} != ${w.data[i]}`);
    expect(back.data[hidden * 16 - 1]).to.equal(w.data[hidden * 16 - 1]);
    loaded.dispose();
    rmSync(file);
  });
});

function withValue(shape: [number, number], x: number): Matrix {
  const m = Matrix.zeros(shape[0], shape[1], 'float64');
  m.data[0] = x;
  return m;
}

function modelDocumentWeights(path: string): Float64Array {
  const a = modelDocument(path).parameters['visible-hidden.weights'];
  return new Float64Array(new Uint8Array(Buffer.from(a.data, 'base64')).buffer);
}

/** CRC-32 (IEEE), written out here rather than taken from the library. */
function crc32Of(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
