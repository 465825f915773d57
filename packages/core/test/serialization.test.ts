import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, ReferenceBackend } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { MODEL_MAGIC, RBM, Trainer, encodeArray, loadModel, loadRBM, saveModel } from '@boltzmann/core';
import { modelDocument, modelText } from './model-files.js';
import { barsAndStripes, repeatRows } from './helpers.js';
import { asymmetricLateral, diagonalLateral, lateralModel } from './lateral-weights.js';

const be = new ReferenceBackend();

describe('model files', function () {
  let dir: string;
  const data = repeatRows(barsAndStripes(3), 3);

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'core-model-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  async function trained(estimator = { type: 'cd', k: 1 }) {
    const rbm = RBM.create(be, { visible: 9, hidden: 5, seed: 3 });
    const trainer = new Trainer(rbm, { batchSize: 10, seed: 4, estimator, learningRate: 0.1 });
    await trainer.fit(data, { epochs: 3 });
    return { rbm, trainer };
  }

  it('save -> load gives identical transform and free energies; resaving is byte-identical', async function () {
    const { rbm, trainer } = await trained();
    const file = join(dir, 'a.json');
    await saveModel(file, rbm, trainer);
    const { model, trainer: resumed } = loadRBM(file, be);
    expect(model).to.be.instanceOf(RBM);
    expect(Array.from((await model.transform(data)).data)).to.deep.equal(Array.from((await rbm.transform(data)).data));
    expect(Array.from(await model.freeEnergyOf(data))).to.deep.equal(Array.from(await rbm.freeEnergyOf(data)));
    const again = join(dir, 'b.json');
    await saveModel(again, model, resumed);
    expect(readFileSync(again).equals(readFileSync(file))).to.equal(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);
    expect(Array.from(readFileSync(file).subarray(0, 8))).to.deep.equal(Array.from(MODEL_MAGIC));
    const doc = modelDocument(file);
    expect(doc.format).to.equal('boltzmann.ts/model');
    expect(doc.model.layers).to.deep.equal([{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'hidden', size: 5 }]);
    expect(doc.parameters['visible-hidden.weights'].shape).to.deep.equal([9, 5]);
    expect(Object.keys(doc.training.optimizer)).to.include('velocity:visible-hidden.weights');
  });

  for (const estimator of [{ type: 'cd', k: 1 }, { type: 'pcd', k: 2 }]) {
    it(`resuming from a file continues the same run (${estimator.type}): 3 + 2 epochs = 5 epochs`, async function () {
      const straight = RBM.create(be, { visible: 9, hidden: 5, seed: 3 });
      await new Trainer(straight, { batchSize: 10, seed: 4, estimator, learningRate: 0.1 }).fit(data, { epochs: 5 });
      const { rbm, trainer } = await trained(estimator);
      const file = join(dir, `resume-${estimator.type}.json`);
      await saveModel(file, rbm, trainer);
      const { model, trainer: resumed } = loadModel(file, be);
      expect(resumed!.epoch).to.equal(3);
      await resumed!.fit(data, { epochs: 2 });
      const a = await straight.getParams();
      const b = await model.getParams();
      for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).to.deep.equal(Array.from(a[name]!.data));
    });
  }

  it('a model saved without a trainer loads without one', async function () {
    const rbm = RBM.create(be, { visible: 3, hidden: 2, seed: 1 });
    const file = join(dir, 'plain.json');
    await saveModel(file, rbm);
    const loaded = loadModel(file, be);
    expect(loaded.trainer).to.equal(undefined);
    expect(Array.from((await loaded.model.getParams())['visible-hidden.weights']!.data)).to.deep.equal(Array.from((await rbm.getParams())['visible-hidden.weights']!.data));
  });

  describe('bad files give a FormatError naming the problem', function () {
    let good: string;
    before(async function () {
      const { rbm, trainer } = await trained();
      const file = join(dir, 'good.json');
      await saveModel(file, rbm, trainer);
      good = modelText(file); // edited as a version 1 (JSON) file, which loads through the same checks
    });

    function expectBad(text: string, pattern: RegExp): void {
      const file = join(dir, 'bad.json');
      writeFileSync(file, text);
      expect(() => loadModel(file, be)).to.throw(FormatError, pattern);
    }

    it('missing', function () {
      expect(() => loadModel(join(dir, 'nope.json'), be)).to.throw(FormatError, /nope\.json" does not exist/);
    });
    it('truncated', function () {
      expectBad(good.slice(0, Math.floor(good.length / 2)), /bad\.json" is not valid JSON \(truncated or corrupt/);
    });
    it('not a model file', function () {
      expectBad('{"hello": 1}', /not a boltzmann\.ts model file/);
    });
    it('another format version', function () {
      expectBad(good.replace('"version": 1', '"version": 3'), /format version 3 in a JSON file; .* reads JSON files of version 1 and binary ones of version 2/);
    });
    it('a corrupted byte inside an array', function () {
      const doc = JSON.parse(good);
      const d: string = doc.parameters['visible-hidden.weights'].data;
      doc.parameters['visible-hidden.weights'].data = (d[0] === 'A' ? 'B' : 'A') + d.slice(1);
      expectBad(JSON.stringify(doc), /parameter "visible-hidden\.weights" .* fails its checksum/);
    });
    it('an array with too few bytes', function () {
      const doc = JSON.parse(good);
      doc.parameters['hidden.bias'].data = doc.parameters['hidden.bias'].data.slice(0, 8);
      expectBad(JSON.stringify(doc), /parameter "hidden\.bias" .* holds 6 bytes; shape 1x5 of float64 needs 40/);
    });
    it('parameters that do not fit the layer sizes', function () {
      const doc = JSON.parse(good);
      doc.model.layers[1].size = 4;
      expectBad(JSON.stringify(doc), /parameter "hidden\.bias" .* is 1x5, but its layers need 1x4/);
    });
    it('an unknown unit type, a missing parameter, a zero layer size', function () {
      const doc = JSON.parse(good);
      doc.model.layers[0].type = 'gaussian-ish';
      expectBad(JSON.stringify(doc), /unknown unit type "gaussian-ish"; registered: bernoulli, gaussian/);
      const doc2 = JSON.parse(good);
      delete doc2.parameters['visible.bias'];
      expectBad(JSON.stringify(doc2), /lacks parameter "visible\.bias"/);
      const doc3 = JSON.parse(good);
      doc3.model.layers[1].size = 0;
      expectBad(JSON.stringify(doc3), /size of layer "hidden" must be a positive integer, got 0/);
    });

    it('an unknown option key (or a wrongly typed value) in any spec the file holds, naming it', function () {
      const cases: [(doc: any) => void, RegExp][] = [
        [(d) => (d.model.layers[0].groupSize = 2), /describes a model that cannot be built: layer "visible" \(bernoulli units\) has an unknown option "groupSize"; it takes no options/],
        [(d) => (d.model.connections[0].weightStd = 0.1), /connection "visible-hidden" \(dense\) has an unknown option "weightStd"; it takes no options/],
        [(d) => (d.training.config.estimator.kk = 2), /estimator "cd" has an unknown option "kk"; its options are "k", "chains", "meanLayers", "statistics" \(did you mean "k"\?\)/],
        [(d) => (d.training.config.learningRate.vaule = 1), /schedule "constant" has an unknown option "vaule"; its options are "value" \(did you mean "value"\?\)/],
        [(d) => (d.training.config.optimizer.nesterov = 'yes'), /SGD "nesterov" must be true or false, got "yes"/],
        [(d) => (d.training.config.optimizer.momentum = 0.9), /optimizer "sgd" has an unknown option "momentum"; its options are "nesterov"/],
        [(d) => (d.training.config.regularizers[0].coeficient = 1), /regularizer "l2" has an unknown option "coeficient"; .* \(did you mean "coefficient"\?\)/],
      ];
      expect(JSON.parse(good).training.config.regularizers[0].type).to.equal('l2');
      for (const [edit, pattern] of cases) {
        const doc = JSON.parse(good);
        edit(doc);
        expectBad(JSON.stringify(doc), pattern);
      }
    });
  });

  describe('lateral weights are checked on load for every model kind (symmetric, zero diagonal)', function () {
    for (const kind of ['graph', 'boltzmann-machine']) {
      it(`a "${kind}" file with asymmetric lateral weights or a non-zero diagonal is refused, naming the connection, (i, j) and values`, async function () {
        const model = lateralModel(be, kind);
        const file = join(dir, `lateral-${kind}.json`);
        await saveModel(file, model);
        const good = modelText(file);
        const loaded = loadModel(file, be).model;
        expect(loaded.kind).to.equal(kind);
        expect(Array.from((await loaded.getParams())['visible-visible.weights']!.data)).to.deep.equal(Array.from((await model.getParams())['visible-visible.weights']!.data));

        const doc = JSON.parse(good);
        doc.parameters['visible-visible.weights'] = encodeArray(asymmetricLateral);
        writeFileSync(file, JSON.stringify(doc));
        expect(() => loadModel(file, be)).to.throw(FormatError, /lateral-[a-z-]+\.json".*lateral connection "visible-visible".* is not symmetric: \(2, 1\) is 2\.5 but \(1, 2\) is 2/);
        doc.parameters['visible-visible.weights'] = encodeArray(diagonalLateral);
        writeFileSync(file, JSON.stringify(doc));
        expect(() => loadModel(file, be)).to.throw(FormatError, /lateral connection "visible-visible".* has 0\.25 on the diagonal at \(1, 1\)/);
      });
    }
  });

  it('a float32 model (CpuBackend) round-trips bit for bit and resaves byte-identically', async function () {
    const cpu = new CpuBackend({ precision: 'float32' });
    const rbm = RBM.create(cpu, { visible: 9, hidden: 5, seed: 3 });
    const trainer = new Trainer(rbm, { batchSize: 10, seed: 4 });
    await trainer.fit(data.toFloat32(), { epochs: 2 });
    const file = join(dir, 'f32.json');
    await saveModel(file, rbm, trainer);
    const doc = modelDocument(file);
    expect(doc.parameters['visible-hidden.weights'].dtype).to.equal('float32');
    const { model, trainer: resumed } = loadModel(file, cpu);
    const a = await rbm.getParams();
    const b = await model.getParams();
    for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).to.deep.equal(Array.from(a[name]!.data));
    await saveModel(join(dir, 'f32-again.json'), model, resumed);
    expect(readFileSync(join(dir, 'f32-again.json')).equals(readFileSync(file))).to.equal(true);
  });
});
