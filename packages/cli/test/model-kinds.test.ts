/**
 * Every model kind of the library trains from a JSON run spec through `boltzmann train` (the
 * CLI entry, in-process, tiny data), with its own objective: a recommender's unrated items
 * masked out, a conditional RBM's past frames clamped.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { runCli } from '@boltzmann/cli';
import { loadModel, type ConditionalRBM, type EnergyModel } from '@boltzmann/core';
import { CounterRng, Matrix } from '@boltzmann/tensor';
import { memoryIO } from './helpers.js';

const bernoulli = (name: string, size: number) => ({ type: 'bernoulli', name, size });
const dense = (from: string, to: string) => ({ type: 'dense', name: `${from}-${to}`, from, to });
const training = (estimator: object) => ({ epochs: 2, batchSize: 8, learningRate: 0.1, momentum: 0.5, estimator, checkpointEvery: 0, weightDecay: 0 });
const output = (dir: string) => ({ dir, samples: { count: 4, steps: 5 }, filters: 0, reconstructions: 0 });

describe('cli: every model kind trains from a run spec', function () {
  let dir: string;
  const csv = (name: string, rows: number[][]) => writeFileSync(join(dir, name), rows.map((r) => r.join(',')).join('\n'));

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'boltzmann-kinds-'));
    const rng = new CounterRng(3, 1);
    // Binary rows for the kinds that take plain rows.
    csv('rows.csv', Array.from({ length: 40 }, () => Array.from(rng.uniforms(new Float64Array(6)), (u) => (u < 0.4 ? 1 : 0))));
    // Ratings of 4 items on levels 1..3, one-hot; item 3 rated by nobody (its groups all zero).
    csv('ratings.csv', Array.from({ length: 30 }, (_, u) => [0, 1, 2, 3].flatMap((i) => {
      const group = [0, 0, 0];
      if (i < 3 && (u + i) % 3 !== 0) group[(u * (i + 1)) % 3] = 1;
      return group;
    })));
    // One sequence of 2-unit frames that cycles through 3 states.
    csv('frames.csv', Array.from({ length: 45 }, (_, t) => [[1, 0], [0, 1], [1, 1]][t % 3]!));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  async function trainSpec(name: string, spec: object): Promise<EnergyModel> {
    writeFileSync(join(dir, `${name}.json`), JSON.stringify({ seed: 2, data: { validationSplit: 0 }, ...spec, output: output(name) }));
    const m = memoryIO(dir);
    const code = await runCli(['train', `${name}.json`, '--quiet'], m.io);
    expect(code, `boltzmann train ${name}.json: ${m.stderr()}`).to.equal(0);
    return loadModel(join(dir, name, 'model.json'), new CpuBackend({ precision: 'float64' })).model;
  }

  const rowsSource = { type: 'csv', path: 'rows.csv', header: false };
  const plain = [
    { kind: 'rbm', layers: [bernoulli('visible', 6), bernoulli('hidden', 3)], connections: [dense('visible', 'hidden')], estimator: { type: 'cd' } },
    { kind: 'graph', layers: [bernoulli('visible', 6), bernoulli('hidden', 3)], connections: [dense('visible', 'hidden')], estimator: { type: 'pcd' } },
    { kind: 'boltzmann-machine', layers: [bernoulli('visible', 6), bernoulli('hidden', 3)], connections: [dense('visible', 'hidden')], estimator: { type: 'wake-dream' } },
    { kind: 'dbm', layers: [bernoulli('visible', 6), bernoulli('hidden1', 3), bernoulli('hidden2', 2)], connections: [dense('visible', 'hidden1'), dense('hidden1', 'hidden2')], estimator: { type: 'mean-field-pcd' } },
  ];
  for (const { kind, layers, connections, estimator } of plain) {
    it(`${kind} (${estimator.type})`, async function () {
      const model = await trainSpec(kind, { model: { kind, layers, connections, weightStd: 0.1 }, training: training(estimator), data: { source: rowsSource, validationSplit: 0 } });
      expect(model.kind).to.equal(kind);
      const weights = (await model.getParams())['visible-hidden.weights'] ?? (await model.getParams())['visible-hidden1.weights'];
      expect(Array.from(weights!.data).every(Number.isFinite)).to.equal(true);
    });
  }

  it('recommender-rbm: trained on its masked objective (an item nobody rated keeps its initial weights and uniform biases)', async function () {
    const spec = {
      model: {
        kind: 'recommender-rbm',
        layers: [{ type: 'multinomial', name: 'visible', size: 12, groupSize: 3 }, bernoulli('hidden', 3)],
        connections: [dense('visible', 'hidden')],
        weightStd: 0.1,
      },
      training: training({ type: 'cd' }),
      data: { source: { type: 'csv', path: 'ratings.csv', header: false }, validationSplit: 0 },
    };
    const model = await trainSpec('recommender', spec);
    expect(model.kind).to.equal('recommender-rbm');
    const trained = await model.getParams();
    const initial = await trainSpec('recommender-0', { ...spec, training: { ...spec.training, epochs: 0 } });
    const start = await initial.getParams();
    const w = trained['visible-hidden.weights']!;
    const w0 = start['visible-hidden.weights']!;
    for (let unit = 0; unit < 12; unit++) {
      const moved = [0, 1, 2].some((j) => w.get(unit, j) !== w0.get(unit, j));
      expect(moved, `weights of visible unit ${unit} (item ${Math.floor(unit / 3)})`).to.equal(unit < 9);
    }
    const b = trained['visible.bias']!;
    for (let unit = 9; unit < 12; unit++) expect(b.get(0, unit)).to.equal(b.get(0, 9)); // item 3: no data, equal (uniform) biases
  });

  it('conditional-rbm: trained on windows of the sequence with its past clamped (it predicts the cycle)', async function () {
    const model = await trainSpec('conditional', {
      model: {
        kind: 'conditional-rbm',
        layers: [bernoulli('visible', 2), bernoulli('hidden', 6), { type: 'unsampled', name: 'history', size: 4 }],
        connections: [dense('visible', 'hidden'), dense('history', 'visible'), dense('history', 'hidden')],
        weightStd: 0.1,
      },
      training: { ...training({ type: 'cd' }), epochs: 60, learningRate: 0.3 },
      data: { source: { type: 'csv', path: 'frames.csv', header: false }, validationSplit: 0 },
    });
    expect(model.kind).to.equal('conditional-rbm');
    const crbm = model as ConditionalRBM;
    // After [1,0] then [0,1] (most recent first: [0,1, 1,0]) comes [1,1].
    const next = await crbm.predictNext(Matrix.fromRows([[0, 1, 1, 0]]).toFloat64());
    expect(next.get(0, 0)).to.be.above(0.7);
    expect(next.get(0, 1)).to.be.above(0.7);
  });
});
