import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, InvalidValueError, Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { LateralConnection, encodeArray, loadModel, saveModel } from '@boltzmann/core';
import { modelDocument } from './model-files.js';
import { asymmetricLateral, diagonalLateral, lateralModel, symmetricLateral } from './lateral-weights.js';

const be = new ReferenceBackend();

describe('EnergyModel.setParams runs the connections\' parameter checks (lateral: symmetric, zero diagonal)', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'core-set-params-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  /** The message loadModel gives for a file whose lateral weights are `weights`, without the file prefix. */
  async function loadMessage(kind: string, weights: Matrix): Promise<string> {
    const file = join(dir, `${kind}.json`);
    const model = lateralModel(be, kind);
    await saveModel(file, model);
    const doc = modelDocument(file);
    doc.parameters['visible-visible.weights'] = encodeArray(weights);
    writeFileSync(file, JSON.stringify(doc));
    try {
      loadModel(file, be);
    } catch (error) {
      expect(error).to.be.instanceOf(FormatError);
      const prefix = `model file "${file}": `;
      expect((error as Error).message.startsWith(prefix), (error as Error).message).to.equal(true);
      return (error as Error).message.slice(prefix.length);
    }
    throw new Error('loadModel accepted bad lateral weights');
  }

  for (const kind of ['graph', 'boltzmann-machine']) {
    it(`a "${kind}" model refuses asymmetric lateral weights or a non-zero diagonal with the message of loadModel, writing nothing`, async function () {
      const model = lateralModel(be, kind);
      const before = await model.getParams();
      for (const [bad, pattern] of [
        [asymmetricLateral, /^weight matrix of lateral connection "visible-visible" \(parameter "visible-visible\.weights"\) is not symmetric: \(2, 1\) is 2\.5 but \(1, 2\) is 2$/],
        [diagonalLateral, /^weight matrix of lateral connection "visible-visible" \(parameter "visible-visible\.weights"\) has 0\.25 on the diagonal at \(1, 1\)/],
      ] as const) {
        const message = await loadMessage(kind, bad);
        expect(message).to.match(pattern);
        // every parameter given (the valid ones first): refused before any is written
        const all = { ...before, 'visible.bias': Matrix.fromRows([[1, 2, 3]]).toFloat64(), 'visible-visible.weights': bad };
        expect(() => model.setParams(all)).to.throw(InvalidValueError).with.property('message', message);
        expect(() => model.setParams({ 'visible-visible.weights': bad }, { partial: true })).to.throw(InvalidValueError).with.property('message', message);
        const now = await model.getParams();
        for (const name of Object.keys(before)) expect(Array.from(now[name]!.data), name).to.deep.equal(Array.from(before[name]!.data));
      }
      model.setParams({ 'visible-visible.weights': symmetricLateral }, { partial: true });
      expect(Array.from((await model.getParams())['visible-visible.weights']!.data)).to.deep.equal(Array.from(symmetricLateral.data));
    });

    it(`loading a "${kind}" file checks its lateral weights once`, async function () {
      const file = join(dir, `once-${kind}.json`);
      await saveModel(file, lateralModel(be, kind));
      const original = LateralConnection.prototype.checkParameters;
      let calls = 0;
      LateralConnection.prototype.checkParameters = function (this: LateralConnection, values) {
        calls += 1;
        original.call(this, values);
      };
      try {
        loadModel(file, be);
      } finally {
        LateralConnection.prototype.checkParameters = original;
      }
      expect(calls).to.equal(1);
    });
  }
});
