import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { RBM } from '@boltzmann/core';
import { DivergenceError, InvalidValueError, Matrix, ReferenceBackend, ShapeError, type Backend } from '@boltzmann/tensor';
import { EMPTY, of, tap } from 'rxjs';
import { batch, fromArray, fromMatrix, train, type BatchEndEvent, type EpochEndEvent, type TrainingEvent } from '@boltzmann/pipeline';
import { makeSession, plantedRows, runAll } from './helpers.js';

/** Host parameters of an RBM read synchronously (inside an event handler, before the loop moves on). */
function readParams(be: Backend, model: RBM): { W: Matrix; b: Matrix; c: Matrix } {
  const get = (name: string) => be.readSync(model.parameters.find((p) => p.name === name)!.tensor);
  return { W: get('visible-hidden.weights'), b: get('visible.bias'), c: get('hidden.bias') };
}

/** F(v) = -b.v - sum_j softplus(c_j + v.W_j), in float64 with plain loops. */
function freeEnergy(p: { W: Matrix; b: Matrix; c: Matrix }, v: ArrayLike<number>): number {
  const nv = p.b.cols;
  const nh = p.c.cols;
  let f = 0;
  for (let i = 0; i < nv; i++) f -= p.b.data[i]! * v[i]!;
  for (let j = 0; j < nh; j++) {
    let x = p.c.data[j]!;
    for (let i = 0; i < nv; i++) x += v[i]! * p.W.data[i * nh + j]!;
    f -= x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
  }
  return f;
}

function meanFreeEnergy(p: { W: Matrix; b: Matrix; c: Matrix }, m: Matrix): number {
  let s = 0;
  for (let r = 0; r < m.rows; r++) s += freeEnergy(p, m.row(r));
  return s / m.rows;
}

describe('train()', function () {
  const data = plantedRows(37, 9, 1);
  const validation = plantedRows(13, 9, 2);

  it('emits started, batch-end per step, epoch-end per epoch, finished, then completes', async function () {
    const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
    const events = await runAll(train({ model, trainer, data, epochs: 3 }));
    const types = events.map((e) => e.type);
    expect(types).to.deep.equal(['started', ...Array(3).fill(['batch-end', 'batch-end', 'batch-end', 'batch-end', 'epoch-end']).flat(), 'finished']);
    expect(events[0]).to.deep.equal({ type: 'started', epoch: 0, step: 0, epochs: 3, stepsPerEpoch: 4 });
    const batches = events.filter((e): e is BatchEndEvent => e.type === 'batch-end');
    expect(batches.map((b) => [b.epoch, b.step, b.batch, b.rows])).to.deep.equal(
      [1, 2, 3].flatMap((e) => [10, 10, 10, 7].map((rows, i) => [e, (e - 1) * 4 + i + 1, i + 1, rows])),
    );
    // The default momentum is 0.5 in the first epoch, then 0.9.
    batches.forEach((b) => expect(b.momentum).to.equal(b.epoch === 1 ? 0.5 : 0.9));
    expect(batches.every((b) => b.learningRate === 0.1)).to.equal(true);
    const finished = events.at(-1)!;
    expect(finished.type === 'finished' && finished.summary).to.include({ reason: 'completed', epochs: 3, steps: 12, epochsRun: 3, stepsRun: 12 });
  });

  it('epoch reports: free energy of the training rows and of the held-out rows match a float64 reference', async function () {
    const be = new ReferenceBackend();
    const { model, trainer } = makeSession(be, 9, 5);
    const checked: number[] = [];
    await runAll(
      train({ model, trainer, data, validation, epochs: 3 }).pipe(
        tap((e: TrainingEvent) => {
          if (e.type !== 'epoch-end') return;
          const p = readParams(be, model);
          expect(e.report.freeEnergy!.train).to.be.closeTo(meanFreeEnergy(p, data), 1e-9);
          expect(e.report.freeEnergy!.validation).to.be.closeTo(meanFreeEnergy(p, validation), 1e-9);
          expect(e.report.pseudoLogLikelihood!.validation).to.be.a('number').and.below(0);
          expect(e.report.reconstructionError).to.be.within(0, 1);
          checked.push(e.report.epoch);
        }),
      ),
    );
    expect(checked).to.deep.equal([1, 2, 3]);
  });

  it('window metrics: the free energy over the last 3 batches matches a float64 reference (learning rate 0)', async function () {
    const be = new ReferenceBackend();
    const { model, trainer } = makeSession(be, 9, 5, { learningRate: 0, momentum: 0 });
    const batches = Array.from({ length: 6 }, (_, i) => data.sliceRows(i * 5, i * 5 + 1 + (i % 3)));
    const events = await runAll(train({ model, trainer, data: fromArray(batches), epochs: 1 }, { window: { size: 3 } }));
    const p = readParams(be, model);
    const windows = events.filter((e): e is BatchEndEvent => e.type === 'batch-end').map((e) => e.window!);
    windows.forEach((w, i) => {
      const held = batches.slice(Math.max(0, i - 2), i + 1);
      const rows = held.reduce((s, m) => s + m.rows, 0);
      const expected = held.reduce((s, m) => s + meanFreeEnergy(p, m) * m.rows, 0) / rows;
      expect(w.steps).to.equal(Math.min(3, i + 1));
      expect(w.freeEnergy).to.be.closeTo(expected, 1e-9);
      expect(w.reconstructionError).to.be.within(0, 1);
    });
  });

  it('stream data: one epoch per subscription of a cold source, each emitted matrix one step', async function () {
    const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
    const events = await runAll(train({ model, trainer, data: fromMatrix(data).pipe(batch(8)), epochs: 2 }));
    const ends = events.filter((e): e is EpochEndEvent => e.type === 'epoch-end');
    expect(ends.map((e) => [e.report.epoch, e.report.step])).to.deep.equal([[1, 5], [2, 10]]);
    expect(ends[0]!.report.freeEnergy!.train).to.be.a('number');
  });

  it('a finite stream with stepsPerEpoch ends the run when it runs out (reason data-ended)', async function () {
    const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
    const events = await runAll(train({ model, trainer, data: fromMatrix(data, { batchSize: 5 }), epochs: 10, stepsPerEpoch: 3 }));
    expect(events.filter((e) => e.type === 'epoch-end')).to.have.length(2);
    expect(events.filter((e) => e.type === 'batch-end')).to.have.length(8);
    const last = events.at(-1)!;
    expect(last.type === 'finished' && last.summary).to.include({ reason: 'data-ended', epochs: 2, steps: 8 });
    const empty = makeSession(new CpuBackend(), 9, 5);
    let error: unknown;
    try {
      await runAll(train({ ...empty, data: EMPTY, epochs: 1, stepsPerEpoch: 3 }));
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.match(/completed without a batch: the data is empty/);
  });

  it('epochs counts the trainer\'s total: 0, or a trainer already past it, trains nothing', async function () {
    const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
    const before = await model.getParams();
    const events = await runAll(train({ model, trainer, data, epochs: 0 }));
    expect(events.map((e) => e.type)).to.deep.equal(['started', 'finished']);
    expect(Array.from((await model.getParams())['visible-hidden.weights']!.data)).to.deep.equal(Array.from(before['visible-hidden.weights']!.data));
    await runAll(train({ model, trainer, data, epochs: 2 }));
    const again = await runAll(train({ model, trainer, data, epochs: 2 }));
    expect(again.filter((e) => e.type === 'batch-end')).to.have.length(0);
    expect(trainer.epoch).to.equal(2);
  });

  it('a divergence is the stream\'s DivergenceError, with the last good parameters and counters restored', async function () {
    const be = new CpuBackend();
    const { model, trainer } = makeSession(be, 9, 5, { learningRate: 1e39 });
    const before = await model.getParams();
    let error: unknown;
    try {
      await runAll(train({ model, trainer, data, epochs: 2 }));
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(DivergenceError);
    expect((error as Error).message).to.match(/in epoch 1: ".*" holds NaN or Inf \(learning rate 1e\+39/);
    expect([trainer.epoch, trainer.step]).to.deep.equal([0, 0]);
    const after = await model.getParams();
    expect(Array.from(after['visible-hidden.weights']!.data)).to.deep.equal(Array.from(before['visible-hidden.weights']!.data));
  });

  describe('bad sessions give clear errors', function () {
    const be = new CpuBackend();
    const { model, trainer } = makeSession(be, 9, 5);

    it('at the call: epochs, data type and width, validation width, NaN, a trainer of another model', function () {
      expect(() => train({ model, trainer, data, epochs: -1 })).to.throw(InvalidValueError, /session\.epochs must be a non-negative integer or Infinity, got -1/);
      expect(() => train({ model, trainer, data, epochs: 1.5 })).to.throw(InvalidValueError, /got 1\.5/);
      expect(() => train({ model, trainer, data: new Matrix(4, 8), epochs: 1 })).to.throw(ShapeError, /training data has 8 columns but the visible layer has 9 units/);
      expect(() => train({ model, trainer, data, validation: new Matrix(3, 7), epochs: 1 })).to.throw(ShapeError, /validation data has 7 columns/);
      const nan = data.clone();
      nan.set(3, 4, NaN);
      expect(() => train({ model, trainer, data: nan, epochs: 1 })).to.throw(InvalidValueError, /training data has NaN at row 3, col 4/);
      expect(() => train({ model, trainer, data: 42 as unknown as Matrix, epochs: 1 })).to.throw(InvalidValueError, /session\.data must be a Matrix, training rows \{ visible, mask\?, given\? \}, an Observable/);
      const other = RBM.create(be, { visible: 9, hidden: 5 });
      expect(() => train({ model: other, trainer, data, epochs: 1 })).to.throw(InvalidValueError, /trains another model/);
      expect(() => train({ model, trainer, data, epochs: 1, stepsPerEpoch: 3 })).to.throw(InvalidValueError, /stepsPerEpoch is for stream data/);
      expect(() => train({ model, trainer, data, epochs: 1 }, { earlyStopping: {} })).to.throw(InvalidValueError, /needs held-out data: give session\.validation/);
      expect(() => train({ model, trainer, data, epochs: 1 }, { checkpoint: { path: '' } })).to.throw(InvalidValueError, /checkpoint\.path/);
      expect(() => train({ model, trainer, data, epochs: 1 }, { window: { size: 0 } })).to.throw(InvalidValueError, /window size must be a positive integer/);
    });

    async function streamError(source: Parameters<typeof train>[0]['data']): Promise<Error> {
      const fresh = makeSession(be, 9, 5);
      try {
        await runAll(train({ ...fresh, data: source, epochs: 1 }));
      } catch (e) {
        return e as Error;
      }
      throw new Error('the run did not fail');
    }

    it('in the stream: an empty stream, a batch of the wrong width, a batch with values out of range', async function () {
      expect(await streamError(EMPTY)).to.be.instanceOf(InvalidValueError).and.have.property('message').match(/completed without a batch in epoch 1: the data is empty/);
      expect(await streamError(of(data.sliceRows(0, 2), new Matrix(2, 8)))).to.be.instanceOf(ShapeError).and.have.property('message').match(/batch 2 of epoch 1 has 8 columns but the layer has 9 units/);
      const big = new Matrix(1, 9);
      big.set(0, 2, 3);
      expect(await streamError(of(big))).to.be.instanceOf(InvalidValueError).and.have.property('message').match(/batch 1 of epoch 1 .* must lie in \[0, 1\], got 3 at row 0, col 2/);
      expect(await streamError(() => 'nope' as never)).to.be.instanceOf(InvalidValueError).and.have.property('message').match(/must return an Observable/);
    });
  });
});
