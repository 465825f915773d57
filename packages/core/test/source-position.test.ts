import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, InvalidValueError, ReferenceBackend } from '@boltzmann/tensor';
import { MAX_SOURCE_POSITION_BYTES, RBM, Trainer, checkSourcePosition, loadModel, saveModel } from '@boltzmann/core';
import { modelDocument } from './model-files.js';
import { barsAndStripes } from './helpers.js';

const be = new ReferenceBackend();

describe('source position: an opaque JSON position in a data source, saved with the training state', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'core-position-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  async function saved(position: unknown): Promise<string> {
    const rbm = RBM.create(be, { visible: 9, hidden: 4, seed: 2 });
    const trainer = new Trainer(rbm, { batchSize: 4, seed: 3 });
    await trainer.fit(barsAndStripes(3), { epochs: 1 });
    (trainer as { sourcePosition: unknown }).sourcePosition = position;
    const file = join(dir, `m${Math.random().toString(36).slice(2)}.json`);
    await saveModel(file, rbm, trainer);
    rbm.dispose();
    trainer.dispose();
    return file;
  }

  it('round-trips through a checkpoint (deep copy), and saving the loaded trainer again is byte-identical', async function () {
    const position = { type: 'redis-stream', stream: 'digits', group: 'trainers', lastId: '1700000000000-17', nested: { ids: ['1-0', '2-0'], n: 3, ok: true, none: null } };
    const file = await saved(position);
    expect(modelDocument(file).training.sourcePosition).to.deep.equal(position);
    const { model, trainer } = loadModel(file, be);
    expect(trainer!.sourcePosition).to.deep.equal(position);
    const again = join(dir, 'again.json');
    await saveModel(again, model, trainer);
    expect(readFileSync(again).equals(readFileSync(file))).to.equal(true);
  });

  it('a trainer that never saw a broker saves none and loads undefined', async function () {
    const file = await saved(undefined);
    expect(modelDocument(file).training).to.not.have.property('sourcePosition');
    expect(loadModel(file, be).trainer!.sourcePosition).to.equal(undefined);
  });

  it('a position in a file that is not one is refused on load, naming the file and the key', async function () {
    const file = await saved({ type: 'redis-stream', lastId: '1-0' });
    const doc = modelDocument(file);
    const bad: [unknown, RegExp][] = [
      [[1, 2], /must be an object/],
      ['1-0', /must be an object/],
      [{ lastId: '1-0' }, /non-empty string "type"/],
      [{ type: '' }, /non-empty string "type"/],
      [{ type: 'x', deep: JSON.parse('['.repeat(40) + ']'.repeat(40)) }, /nested more than/],
      [{ type: 'x', big: 'y'.repeat(MAX_SOURCE_POSITION_BYTES) }, /bytes of JSON/],
    ];
    for (const [position, message] of bad) {
      const edited = join(dir, 'edited.json');
      writeFileSync(edited, JSON.stringify({ ...doc, training: { ...doc.training, sourcePosition: position } }));
      expect(() => loadModel(edited, be), JSON.stringify(position).slice(0, 40)).to.throw(FormatError, message).with.property('message').that.includes('"training.sourcePosition" in');
    }
  });

  it('checkSourcePosition refuses what JSON cannot hold', function () {
    expect(() => checkSourcePosition({ type: 'x', v: NaN }, 'p')).to.throw(InvalidValueError, /NaN/);
    expect(() => checkSourcePosition({ type: 'x', v: () => 1 }, 'p')).to.throw(InvalidValueError, /function/);
    expect(() => checkSourcePosition({ type: 'x', v: new Date(0) }, 'p')).to.throw(InvalidValueError, /Date/);
    expect(() => checkSourcePosition({ type: 'x', v: undefined }, 'p')).to.throw(InvalidValueError, /nothing/);
    const cyclic: Record<string, unknown> = { type: 'x' };
    cyclic['self'] = cyclic;
    expect(() => checkSourcePosition(cyclic, 'p')).to.throw(InvalidValueError, /nested/);
    expect(checkSourcePosition({ type: 'x', a: [1, 'b'] }, 'p')).to.deep.equal({ type: 'x', a: [1, 'b'] });
  });
});
