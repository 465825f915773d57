import { join } from 'node:path';
import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { InvalidValueError, Matrix } from '@boltzmann/tensor';
import { map, range, tap, type Observable } from 'rxjs';
import { batch, fromIterable, generatorStream, pull, shuffle, train, type TrainOptions, type TrainingEvent } from '@boltzmann/pipeline';
import { makeSession, runAll, runUntil, settle, tempDir } from './helpers.js';

/** A row source that records how many rows it was asked for, and the most it ever ran ahead of training. */
function countingSource(cols: number) {
  const counter = { produced: 0, trainedRows: 0, maxAhead: 0 };
  const rows = generatorStream(
    (i, rng) => {
      counter.produced += 1;
      counter.maxAhead = Math.max(counter.maxAhead, counter.produced - counter.trainedRows);
      return new Matrix(1, cols, Float32Array.from(rng.uniforms(new Float32Array(cols)), (u) => (u < 0.3 + 0.4 * (i % 2) ? 1 : 0)));
    },
    { seed: 3 },
  );
  const track = tap((e: TrainingEvent) => {
    if (e.type === 'batch-end') counter.trainedRows += e.rows;
  });
  return { counter, rows, track };
}

/**
 * Trains a fresh RBM 3 x 2 on a plain RxJS source of a million 1 x 3 rows that ignores demand,
 * shaped by `through`; what the training failed with, and how many rows the source produced.
 */
async function trainOnFlood(through: (flood: Observable<Matrix>) => Observable<Matrix>, options?: TrainOptions): Promise<{ error: unknown; produced: number }> {
  let produced = 0;
  const flood = range(0, 1_000_000).pipe(
    map(() => {
      produced += 1;
      return new Matrix(1, 3, Float32Array.from([1, 0, 1]));
    }),
  );
  const { model, trainer } = makeSession(new CpuBackend(), 3, 2);
  try {
    await runAll(train({ model, trainer, data: through(flood), epochs: 1 }, options));
    return { error: undefined, produced };
  } catch (error) {
    return { error, produced };
  }
}

describe('backpressure: the trainer pulls its batches', function () {
  it('an unbounded source is never more than one batch ahead, epoch ends and checkpoints included', async function () {
    const { model, trainer } = makeSession(new CpuBackend(), 7, 3);
    const { counter, rows, track } = countingSource(7);
    const tmp = tempDir('pipeline-pull-');
    const checkpoint = { path: join(tmp.dir, 'run.json'), everySteps: 4 };
    const events = await runAll(train({ model, trainer, data: rows.pipe(batch(5)), epochs: 6, stepsPerEpoch: 9 }, { window: { size: 4 }, checkpoint }).pipe(track));
    tmp.remove();
    expect(events.filter((e) => e.type === 'epoch-end')).to.have.length(6);
    expect(events.filter((e) => e.type === 'checkpoint-written').length).to.be.at.least(13);
    expect(trainer.step).to.equal(54);
    expect(counter.maxAhead).to.be.at.most(5);
    expect(counter.produced).to.equal(54 * 5);
  });

  it('through a buffered shuffle: ahead by at most the buffer plus one batch', async function () {
    const { model, trainer } = makeSession(new CpuBackend(), 7, 3);
    const { counter, rows, track } = countingSource(7);
    await runUntil(train({ model, trainer, data: rows.pipe(shuffle({ seed: 1, bufferSize: 16 }), batch(4)), epochs: Infinity }).pipe(track), (e) => e.type === 'batch-end' && e.step === 40);
    expect(counter.maxAhead).to.be.at.most(16 + 4);
    expect(counter.maxAhead).to.be.at.least(16);
  });

  it('an async generator (fromIterable) is asked for one batch at a time', async function () {
    let asked = 0;
    let trained = 0;
    let maxAhead = 0;
    async function* batches() {
      for (let i = 0; i < 30; i++) {
        asked += 1;
        maxAhead = Math.max(maxAhead, asked - trained);
        await Promise.resolve();
        yield new Matrix(2, 3, Float32Array.from([1, 0, i % 2, 0, 1, 1]));
      }
    }
    const { model, trainer } = makeSession(new CpuBackend(), 3, 2);
    await runAll(train({ model, trainer, data: fromIterable(batches()), epochs: 1 }).pipe(tap((e) => e.type === 'batch-end' && (trained = e.step))));
    expect(trainer.step).to.equal(30);
    expect(maxAhead).to.equal(1);
  });

  it('a plain RxJS source that ignores demand fails with a clear error instead of filling memory', async function () {
    const { error, produced } = await trainOnFlood((flood) => flood, { maxBufferedBatches: 8 });
    expect(error).to.be.instanceOf(InvalidValueError);
    expect((error as Error).message).to.match(/more than 8 batches ahead .* ignores demand/);
    expect(produced).to.be.below(20);
  });

  it('a plain source through batch() is held to batch\'s maxBufferedBytes, and the error names that option', async function () {
    // Each batch of 10 rows x 3 float32 columns counts 120 bytes + 64: 10,000 bytes hold 54 of them.
    const { error, produced } = await trainOnFlood((flood) => flood.pipe(batch(10, { maxBufferedBytes: 10_000 })));
    expect(error).to.be.instanceOf(InvalidValueError);
    expect((error as Error).message).to.match(/^batch holds 55 values \(10120 bytes\) its consumer has not asked for, over its limit of 10000 bytes: .* raise batch\(size, \{ maxBufferedBytes \}\)$/);
    expect(produced).to.be.below(560);
  });

  it('a plain source through shuffle() is held to shuffle\'s maxBufferedBytes, and the error names that option', async function () {
    // Each 1 x 3 float32 row counts 12 bytes + 64: 2,000 bytes hold 26 of them.
    const { error, produced } = await trainOnFlood((flood) => flood.pipe(shuffle({ seed: 1, bufferSize: 8, maxBufferedBytes: 2000 }), batch(5)));
    expect(error).to.be.instanceOf(InvalidValueError);
    expect((error as Error).message).to.match(/^shuffle holds \d+ values \(\d+ bytes\) its consumer has not asked for, over its limit of 2000 bytes: .* raise shuffle\(\{ maxBufferedBytes \}\)$/);
    expect(produced).to.be.below(100);
  });

  it('pull() hands out values one at a time and stops the source when closed', async function () {
    let produced = 0;
    let closed = false;
    function* numbers() {
      try {
        for (let i = 0; ; i++) {
          produced += 1;
          yield i;
        }
      } finally {
        closed = true;
      }
    }
    const queue = pull(fromIterable(numbers()));
    expect((await queue.next()).value).to.equal(0);
    expect((await queue.next()).value).to.equal(1);
    await settle();
    expect(produced).to.equal(2);
    queue.close();
    expect(closed).to.equal(true);
    expect((await queue.next()).done).to.equal(true);
  });
});

describe('pulling the events', function () {
  it('read through pull(), train() takes a step only when the reader asks for the next event', async function () {
    const { model, trainer } = makeSession(new CpuBackend(), 4, 3);
    const data = new Matrix(30, 4, new Float32Array(120).map((_, i) => (i % 3 === 0 ? 1 : 0)));
    const events = pull(train({ model, trainer, data, epochs: 10 }));
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push((await events.next()).value!.type);
    await settle(20);
    expect(seen).to.deep.equal(['started', 'batch-end', 'batch-end', 'batch-end']);
    expect(trainer.step).to.be.at.most(4);
    events.close();
  });
});

describe('cancellation', function () {
  it('unsubscribing stops training between steps and closes the data source', async function () {
    let closed = false;
    function* rows() {
      try {
        for (let i = 0; ; i++) yield new Matrix(1, 4, Float32Array.from([i % 2, 1, 0, (i >> 1) % 2]));
      } finally {
        closed = true;
      }
    }
    const { model, trainer } = makeSession(new CpuBackend(), 4, 3);
    const events = await runUntil(train({ model, trainer, data: fromIterable(rows()).pipe(batch(3)), epochs: 1 }), (e) => e.type === 'batch-end' && e.step === 7);
    const before = await model.getParams();
    await settle(10);
    expect(trainer.step).to.equal(7);
    expect(closed).to.equal(true);
    expect(events.map((e) => e.type)).to.not.include('finished');
    const after = await model.getParams();
    for (const name of Object.keys(before)) expect(Array.from(after[name]!.data)).to.deep.equal(Array.from(before[name]!.data));
  });

  it('a new run of the trainer may start from the finished event of the last one', async function () {
    const { model, trainer } = makeSession(new CpuBackend(), 4, 3);
    const data = new Matrix(20, 4, new Float32Array(80).map((_, i) => (i % 3 === 0 ? 1 : 0)));
    const second = await new Promise<Promise<TrainingEvent[]>>((resolve, reject) => {
      train({ model, trainer, data, epochs: 1 }).subscribe({
        next: (e) => e.type === 'finished' && resolve(runAll(train({ model, trainer, data, epochs: 2 }))),
        error: reject,
      });
    });
    await second;
    expect(trainer.epoch).to.equal(2);
  });

  it('a second run of a trainer that is still training is an error (share one run instead)', async function () {
    const { model, trainer } = makeSession(new CpuBackend(), 4, 3);
    const data = new Matrix(20, 4, new Float32Array(80).map((_, i) => (i % 3 === 0 ? 1 : 0)));
    const first = runAll(train({ model, trainer, data, epochs: 3 }));
    let error: unknown;
    try {
      await runAll(train({ model, trainer, data, epochs: 3 }));
    } catch (e) {
      error = e;
    }
    await first;
    expect(error).to.be.instanceOf(InvalidValueError);
    expect((error as Error).message).to.match(/already training .* share\(\) or connectable\(\)/);
  });
});
