import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { RBM, Trainer, trainingLoop, type EpochReport, type LoopEvent } from '@boltzmann/core';
import { Matrix } from '@boltzmann/tensor';
import { train, type TrainingEvent } from '@boltzmann/pipeline';
import { expectSameParams, plantedRows, runAll } from './helpers.js';

/**
 * `Trainer.fit` and `train()` are two consumers of one loop (core's `trainingLoop`): the same
 * steps, the same epoch reports (every metric, computed one way), the same final bits, for a
 * fresh model (whose visible bias both set from the data) and for a hand-set one (whose bias
 * both keep, even at learning rate 0).
 */
describe('Trainer.fit and train() run the one training loop', function () {
  const data = plantedRows(43, 9, 3); // 43 rows: a short last batch
  const validation = plantedRows(17, 9, 4);
  const E = 3;

  /** A report without its wall-clock time. */
  const timeless = ({ seconds: _, ...rest }: EpochReport) => rest;
  /** A pipeline event as core's loop event it wraps (no wall-clock time). */
  const asLoopEvent = (e: TrainingEvent) => (e.type === 'epoch-end' ? { ...e, report: timeless(e.report) } : e);

  function session(handSet: boolean) {
    const model = RBM.create(new CpuBackend(), { visible: 9, hidden: 5, seed: 11 });
    if (handSet) model.setParams({ 'visible.bias': Matrix.fromRows([[0.3, -0.2, 0.1, 0, 0.5, -1, 0.25, 0.7, -0.4]]) }, { partial: true });
    const trainer = new Trainer(model, { batchSize: 10, seed: 5, learningRate: handSet ? 0 : 0.1 });
    return { model, trainer };
  }

  for (const handSet of [false, true]) {
    it(`${handSet ? 'a hand-set model at learning rate 0' : 'a fresh model'}: the same events, reports and bits`, async function () {
      const fitted = session(handSet);
      const fitReports = await fitted.trainer.fit(data, { epochs: E, validation });

      const streamed = session(handSet);
      const events = await runAll(train({ ...streamed, data, validation, epochs: E }));
      const pipelineReports = events.flatMap((e) => (e.type === 'epoch-end' ? [e.report] : []));
      expect(pipelineReports.map(timeless)).to.deep.equal(fitReports.map(timeless));
      for (const r of pipelineReports) {
        expect(r.weightNorm).to.satisfy(Number.isFinite);
        expect(r.updateNorm).to.satisfy(Number.isFinite);
        expect(r.reconstructionError).to.be.within(0, 1);
        expect(r.pseudoLogLikelihood!.validation).to.satisfy(Number.isFinite);
      }
      await expectSameParams(fitted.model, streamed.model);

      // The pipeline's events are the loop's, with nothing added or dropped (but its own end events).
      const direct = session(handSet);
      const loopEvents: LoopEvent[] = [];
      for await (const e of trainingLoop(direct.trainer, data, { untilEpoch: E, validation })) loopEvents.push(e);
      const expected = loopEvents.map((e) => (e.type === 'batch-end' ? (({ lastOfEpoch: _, ...rest }) => rest)(e) : e.type === 'epoch-end' ? { ...e, report: timeless(e.report) } : e));
      expect(events.filter((e) => e.type !== 'finished').map(asLoopEvent)).to.deep.equal(expected);
      expect(events.filter((e) => e.type === 'batch-end')).to.have.length(E * 5);
      await expectSameParams(direct.model, streamed.model);

      const bias = (await streamed.model.getParams())['visible.bias']!;
      if (handSet) {
        // Learning rate 0: nothing moves, and the hand-set bias is not overwritten from the data.
        expect(Array.from(bias.data, (x) => Math.round(x * 100) / 100)).to.deep.equal([0.3, -0.2, 0.1, 0, 0.5, -1, 0.25, 0.7, -0.4]);
        expect(await streamed.model.getParams()).to.deep.equal(await session(true).model.getParams());
      } else {
        expect(Array.from(bias.data).some((x) => x !== 0)).to.equal(true);
      }
    });
  }
});
