import { expect } from 'chai';
import { ConditionalRBM, RecommenderRBM, Trainer, type EnergyModel, type TrainingRows } from '@boltzmann/core';
import { CounterRng, InvalidValueError, type Matrix } from '@boltzmann/tensor';
import { train } from '@boltzmann/pipeline';
import { from } from 'rxjs';
import { cpu, expectSameParams, plantedRows, runAll } from './helpers.js';

/**
 * A stream of batches may carry what resident training rows carry: a mask of missing values (a
 * recommender's unrated items) and the values of given layers (a conditional RBM's past). The
 * same rows streamed in the resident order train to the very same bits as `Trainer.fit` on them.
 */
describe('train() on a stream of training rows', function () {
  const E = 2;
  const batchSize = 5;
  const trainer = (model: EnergyModel) => new Trainer(model, { batchSize, seed: 5, learningRate: 0.1, shuffle: false, initVisibleBiasFromData: false });

  /** The rows cut into the resident loop's unshuffled batches (the last one short). */
  function batches(rows: TrainingRows, keep: { mask: boolean; given: boolean } = { mask: true, given: true }): TrainingRows[] {
    const out: TrainingRows[] = [];
    for (let start = 0; start < rows.visible.rows; start += batchSize) {
      const picked = Uint32Array.from({ length: Math.min(batchSize, rows.visible.rows - start) }, (_, i) => start + i);
      const batch: TrainingRows = { visible: rows.visible.gatherRows(picked) };
      if (keep.mask && rows.mask) batch.mask = rows.mask.gatherRows(picked);
      if (keep.given && rows.given) batch.given = Object.fromEntries(Object.entries(rows.given).map(([name, m]) => [name, m.gatherRows(picked)]));
      out.push(batch);
    }
    return out;
  }

  /** 23 users (a short last batch), 7 items of 3 levels, each user rating about half of them. */
  function recommender(): { model: RecommenderRBM; rows: TrainingRows } {
    const model = RecommenderRBM.create(cpu(), { items: 7, levels: [1, 2, 3], hidden: 4, weightStd: 0.3, seed: 2 });
    const rng = new CounterRng(9, 1);
    const u = rng.uniforms(new Float64Array(23 * 7 * 2));
    const users: number[] = [];
    const items: number[] = [];
    const ratings: number[] = [];
    for (let user = 0; user < 23; user++) {
      for (let item = 0; item < 7; item++) {
        if (u[2 * (user * 7 + item)]! < 0.5 && item !== user % 7) continue;
        users.push(user);
        items.push(item);
        ratings.push(1 + Math.floor(u[2 * (user * 7 + item) + 1]! * 3));
      }
    }
    return { model, rows: model.trainingRows({ users, items, ratings }) };
  }

  function conditional(): { model: ConditionalRBM; rows: TrainingRows } {
    const model = ConditionalRBM.create(cpu(), { visible: 6, hidden: 4, order: 2, weightStd: 0.3, seed: 3 });
    return { model, rows: model.rowsForTraining(plantedRows(25, 6, 8)) };
  }

  it('a recommender: streamed batches with their masks train to the bits of the resident rows', async function () {
    const resident = recommender();
    expect(resident.rows.mask, 'some ratings are missing').to.not.equal(undefined);
    await trainer(resident.model).fit(resident.rows, { epochs: E });

    const streamed = recommender();
    await runAll(train({ model: streamed.model, trainer: trainer(streamed.model), data: from(batches(streamed.rows)), epochs: E }));
    await expectSameParams(resident.model, streamed.model);

    // Without its mask an unrated item reads as a rating group of zeros: refused, naming the batch.
    const unmasked = recommender();
    const error = await runAll(train({ model: unmasked.model, trainer: trainer(unmasked.model), data: from(batches(unmasked.rows, { mask: false, given: true })), epochs: E })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(InvalidValueError).and.have.property('message').match(/^batch 1 of epoch 1 .*sums to 0, not 1/);
  });

  it("a conditional RBM: streamed batches with their past train to the bits of the resident rows; a batch without it is refused", async function () {
    const resident = conditional();
    await trainer(resident.model).fit(resident.rows, { epochs: E });

    const streamed = conditional();
    await runAll(train({ model: streamed.model, trainer: trainer(streamed.model), data: from(batches(streamed.rows)), epochs: E }));
    await expectSameParams(resident.model, streamed.model);

    const pastless = conditional();
    const frames: Matrix[] = batches(pastless.rows, { mask: true, given: false }).map((b) => b.visible);
    const error = await runAll(train({ model: pastless.model, trainer: trainer(pastless.model), data: from(frames), epochs: E })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(InvalidValueError).and.have.property('message').match(/layer "history" holds given values: the training rows need them/);
  });
});
