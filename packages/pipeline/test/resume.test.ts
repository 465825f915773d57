import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import { tap } from 'rxjs';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { loadModel, Trainer, type EnergyModel } from '@boltzmann/core';
import { CounterRng, Matrix, ReferenceBackend, type Backend } from '@boltzmann/tensor';
import { batch, fromMatrix, generatorStream, resumeSession, shuffle, train, type TrainingSession } from '@boltzmann/pipeline';
import { expectSameParams, makeSession, paramsDiffer, plantedRows, runAll, runUntil, settle, tempDir } from './helpers.js';

const data = plantedRows(37, 9, 1);
const E = 5;

/** E epochs in one go: the reference every interrupted-and-resumed run must equal bit for bit. */
async function uninterrupted(be: Backend, estimator = { type: 'cd', k: 1 }): Promise<EnergyModel> {
  const { model, trainer } = makeSession(be, 9, 5, { estimator });
  await runAll(train({ model, trainer, data, epochs: E }));
  return model;
}

describe('resume: an interrupted run ends bit-identical to an uninterrupted one', function () {
  let tmp: ReturnType<typeof tempDir>;
  before(function () {
    tmp = tempDir('pipeline-resume-');
  });
  after(function () {
    tmp.remove();
  });

  it('train() on a matrix takes the same steps as Trainer.fit (same final bits)', async function () {
    const be = new CpuBackend();
    const viaPipeline = await uninterrupted(be);
    const { model, trainer } = makeSession(be, 9, 5);
    await trainer.fit(data, { epochs: E });
    await expectSameParams(viaPipeline, model);
  });

  for (const k of [1, 3]) {
    it(`process-style: interrupted after epoch ${k} of ${E}, every object thrown away, resumed from the file`, async function () {
      const reference = await uninterrupted(new CpuBackend());
      const path = join(tmp.dir, `process-${k}.json`);
      {
        const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
        const events = await runUntil(train({ model, trainer, data, epochs: E }, { checkpoint: { path } }), (e) => e.type === 'checkpoint-written' && e.epoch === k);
        expect(events.at(-1)).to.include({ type: 'checkpoint-written', path, epoch: k, step: 4 * k, trigger: 'epoch' });
        expect(trainer.epoch).to.equal(k);
        // Showing the comparison can fail: the interrupted model is not the finished one.
        expect(await paramsDiffer(model, reference)).to.equal(true);
      }
      const session = resumeSession(path, new CpuBackend(), { data, epochs: E });
      expect(session.trainer.epoch).to.equal(k);
      const events = await runAll(train(session));
      expect(events[0]).to.deep.include({ type: 'started', epoch: k, step: 4 * k, epochs: E });
      expect(events.filter((e) => e.type === 'epoch-end').map((e) => e.type === 'epoch-end' && e.report.epoch)).to.deep.equal([k + 1, k + 2, k + 3, k + 4].slice(0, E - k));
      await expectSameParams(session.model, reference);
    });
  }

  it('unsubscribe-style: cancelled after epoch 2, the same objects trained on by a new subscription', async function () {
    const be = new CpuBackend();
    const reference = await uninterrupted(be);
    const { model, trainer } = makeSession(be, 9, 5);
    const session: TrainingSession = { model, trainer, data, epochs: E };
    await runUntil(train(session), (e) => e.type === 'epoch-end' && e.report.epoch === 2);
    // The new run waits for the cancelled one to let go of the trainer, then continues it.
    await runAll(train(session));
    expect(trainer.epoch).to.equal(E);
    await expectSameParams(model, reference);
  });

  it('mid-epoch step checkpoints resume inside the epoch (the row order is drawn again)', async function () {
    const reference = await uninterrupted(new CpuBackend());
    const path = join(tmp.dir, 'steps.json');
    {
      const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
      await runUntil(train({ model, trainer, data, epochs: E }, { checkpoint: { path, everySteps: 3 } }), (e) => e.type === 'checkpoint-written' && e.step === 9);
      expect(trainer.step % 4).to.not.equal(0); // inside epoch 3
    }
    const session = resumeSession(path, new CpuBackend(), { data, epochs: E });
    expect([session.trainer.epoch, session.trainer.step]).to.deep.equal([2, 9]);
    await runAll(train(session));
    await expectSameParams(session.model, reference);
  });

  it('a step checkpoint due at the last step of an epoch is written after the epoch end (and resumes right)', async function () {
    const reference = await uninterrupted(new CpuBackend());
    const path = join(tmp.dir, 'epoch-edge.json');
    {
      const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
      const events = await runUntil(train({ model, trainer, data, epochs: E }, { checkpoint: { path, everySteps: 4, everyEpochs: 3 } }), (e) => e.type === 'checkpoint-written' && e.step === 8);
      const types = events.slice(-3).map((e) => (e.type === 'checkpoint-written' ? `${e.type}:${e.trigger}` : e.type));
      expect(types).to.deep.equal(['batch-end', 'epoch-end', 'checkpoint-written:step']);
    }
    const session = resumeSession(path, new CpuBackend(), { data, epochs: E });
    expect([session.trainer.epoch, session.trainer.step]).to.deep.equal([2, 8]);
    await runAll(train(session));
    await expectSameParams(session.model, reference);
  });

  it('unsubscribed between checkpoints: a checkpoint of the cancelled position is written whole, and resuming it ends identical', async function () {
    const reference = await uninterrupted(new CpuBackend());
    const path = join(tmp.dir, 'cancel.json');
    const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
    await runUntil(train({ model, trainer, data, epochs: E }, { checkpoint: { path, everySteps: 5 } }), (e) => e.type === 'batch-end' && e.step === 13);
    // The run writes its last checkpoint after the consumer left: wait for it.
    for (let turn = 0; turn < 500 && loadModel(path, new CpuBackend()).trainer!.step !== 13; turn++) await settle(1);
    expect(trainer.step).to.equal(13);
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);
    expect(loadModel(path, new CpuBackend()).trainer!.step).to.equal(13);
    const session = resumeSession(path, new CpuBackend(), { data, epochs: E });
    await runAll(train(session));
    await expectSameParams(session.model, reference);
  });

  it('cancelled by an AbortSignal: the events end with a "cancelled" checkpoint and summary, and resuming ends identical', async function () {
    const reference = await uninterrupted(new CpuBackend());
    const path = join(tmp.dir, 'abort.json');
    const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
    const controller = new AbortController();
    const events = await runAll(
      train({ model, trainer, data, epochs: E }, { checkpoint: { path, everyEpochs: 2, final: false }, signal: controller.signal }).pipe(
        tap((e) => {
          if (e.type === 'batch-end' && e.step === 7) controller.abort();
        }),
      ),
    );
    const tail = events.slice(-3).map((e) => (e.type === 'checkpoint-written' ? `${e.type}:${e.trigger}:${e.step}` : e.type === 'finished' ? `finished:${e.summary.reason}` : `${e.type}:${(e as { step?: number }).step}`));
    expect(tail).to.deep.equal(['batch-end:7', 'checkpoint-written:cancelled:7', 'finished:cancelled']);
    expect(trainer.step).to.equal(7);
    const session = resumeSession(path, new CpuBackend(), { data, epochs: E });
    await runAll(train(session));
    await expectSameParams(session.model, reference);
  });

  it('PCD (persistent chains in the checkpoint), on the float64 reference backend', async function () {
    const pcd = { type: 'pcd', k: 2 };
    const reference = await uninterrupted(new ReferenceBackend(), pcd);
    const path = join(tmp.dir, 'pcd.json');
    const { model, trainer } = makeSession(new ReferenceBackend(), 9, 5, { estimator: pcd });
    await runUntil(train({ model, trainer, data, epochs: E }, { checkpoint: { path, everyEpochs: 2 } }), (e) => e.type === 'checkpoint-written' && e.epoch === 2);
    const session = resumeSession(path, new ReferenceBackend(), { data, epochs: E });
    await runAll(train(session));
    await expectSameParams(session.model, reference);
  });

  it('stream data: an unbounded seeded generator resumed at the checkpoint step (stepsPerEpoch)', async function () {
    const rows = (start: number) => generatorStream((_, rng) => plantedRowFrom(rng), { seed: 9, start });
    const open = ({ step }: { step: number }) => rows(step * 3).pipe(batch(3));
    const streamSession = (m: { model: EnergyModel; trainer: Trainer }): TrainingSession => ({ ...m, data: open, epochs: 4, stepsPerEpoch: 5 });
    const ref = makeSession(new CpuBackend(), 9, 5);
    await runAll(train(streamSession(ref)));
    expect(ref.trainer.step).to.equal(20);
    const path = join(tmp.dir, 'stream.json');
    const first = makeSession(new CpuBackend(), 9, 5);
    await runUntil(train(streamSession(first), { checkpoint: { path, everySteps: 7 } }), (e) => e.type === 'checkpoint-written' && e.step === 7);
    const resumed = resumeSession(path, new CpuBackend(), { data: open, epochs: 4, stepsPerEpoch: 5 });
    await runAll(train(resumed));
    expect(resumed.trainer.step).to.equal(20);
    await expectSameParams(resumed.model, ref.model);
  });

  it('stream data: an exact shuffle reseeded per epoch from the position', async function () {
    const open = ({ epoch }: { epoch: number }) => fromMatrix(data).pipe(shuffle({ seed: 4, stream: epoch }), batch(10));
    const ref = makeSession(new CpuBackend(), 9, 5);
    await runAll(train({ ...ref, data: open, epochs: E }));
    const path = join(tmp.dir, 'shuffled.json');
    const first = makeSession(new CpuBackend(), 9, 5);
    await runUntil(train({ ...first, data: open, epochs: E }, { checkpoint: { path } }), (e) => e.type === 'checkpoint-written' && e.epoch === 2);
    const resumed = resumeSession(path, new CpuBackend(), { data: open, epochs: E });
    await runAll(train(resumed));
    await expectSameParams(resumed.model, ref.model);
  });
});

/** One noisy binary row from a generator's per-index random source. */
function plantedRowFrom(rng: CounterRng): Matrix {
  const u = rng.uniforms(new Float64Array(10));
  const pattern = u[0]! < 0.5 ? [1, 1, 1, 0, 0, 0, 1, 0, 1] : [0, 0, 0, 1, 1, 1, 0, 1, 0];
  return new Matrix(1, 9, Float32Array.from(pattern, (p, i) => (u[i + 1]! < 0.1 ? 1 - p : p)));
}
