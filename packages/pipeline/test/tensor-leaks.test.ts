/**
 * Tensor accounting of the streaming loop: a run of train() leaves the backend holding what it
 * held before (the run's resident data, monitors and window metrics are freed when it ends),
 * however many runs follow one another, and disposing the model and trainer frees the rest.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { fromArray, train, type TrainOptions } from '@boltzmann/pipeline';
import type { Matrix } from '@boltzmann/tensor';
import { makeSession, plantedRows, runAll } from './helpers.js';

describe('train(): tensor accounting', function () {
  const data = plantedRows(37, 9, 1);
  const validation = plantedRows(13, 9, 2);
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-leaks-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const runs: Array<[string, () => Matrix | ReturnType<typeof fromArray>, TrainOptions]> = [
    ['resident data with a validation set', () => data, {}],
    ['a stream of batches of varying size with window metrics', () => fromArray(Array.from({ length: 6 }, (_, i) => data.sliceRows(i * 5, i * 5 + 1 + (i % 3)))), { window: { size: 3 } }],
    ['checkpoints every epoch and early stopping', () => data, { checkpoint: { path: join(dir, 'model.json'), everyEpochs: 1 }, earlyStopping: { patience: 1 } }],
  ];
  for (const [name, source, options] of runs) {
    it(`${name}: each run leaves the live tensors as it found them, disposing frees all`, async function () {
      const be = new CpuBackend({ precision: 'float64' });
      const { model, trainer } = makeSession(be, 9, 5);
      await runAll(train({ model, trainer, data: source(), validation, epochs: 1 }, options)); // warm-up: the model's scratch
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        await runAll(train({ model, trainer, data: source(), validation, epochs: trainer.epoch + 1 }, options));
        counts.push(be.memory().numTensors);
      }
      expect(counts, 'live tensors after each further run').to.deep.equal([counts[0], counts[0], counts[0]]);
      trainer.dispose();
      model.dispose();
      expect(be.memory()).to.deep.equal({ numTensors: 0, numBytes: 0 });
    });
  }
});
