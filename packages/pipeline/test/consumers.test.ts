import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { connectable, lastValueFrom, share, Subject, tap, toArray, type Subscription } from 'rxjs';
import { loadModel } from '@boltzmann/core';
import { JsonlLogger, MetricsCollector, ProgressBar, formatDuration, readJsonl, train, type TrainingEvent } from '@boltzmann/pipeline';
import { makeSession, plantedRows, runAll, settle, tempDir } from './helpers.js';

/** A sink that records what a progress bar writes. */
function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 200, write: (s: string) => chunks.push(s) } };
}

describe('consumers', function () {
  const data = plantedRows(37, 9, 1);
  const validation = plantedRows(11, 9, 3);
  let tmp: ReturnType<typeof tempDir>;
  before(function () {
    tmp = tempDir('pipeline-consumers-');
  });
  after(function () {
    tmp.remove();
  });

  it('one shared run (share()) feeds a progress bar, a JSONL logger and a metrics collector; it trains once', async function () {
    const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
    const run$ = train({ model, trainer, data, validation, epochs: 3 }).pipe(share());
    const bar = sink(false);
    const log = join(tmp.dir, 'shared.jsonl');
    const collector = new MetricsCollector();
    run$.subscribe(new ProgressBar({ stream: bar.stream }));
    run$.subscribe(new JsonlLogger(log));
    run$.subscribe(collector);
    const all = await lastValueFrom(run$.pipe(toArray()));
    await collector.done;
    expect(trainer.step).to.equal(12);
    // The run starts a tick after the first subscription, so all four consumers see every event.
    expect(all.map((e) => e.type)).to.deep.equal(['started', ...Array(3).fill([...Array(4).fill('batch-end'), 'epoch-end']).flat(), 'finished']);
    expect(collector.reports.map((r) => r.epoch)).to.deep.equal([1, 2, 3]);
    expect(collector.steps.map((s) => s.step)).to.deep.equal(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(collector.series('freeEnergy.validation').y).to.deep.equal(collector.reports.map((r) => r.freeEnergy!.validation));
    expect(collector.series('pseudoLogLikelihood.train').x).to.deep.equal([1, 2, 3]);
    expect(collector.summary).to.include({ reason: 'completed', epochs: 3 });
    const lines = readJsonl(log);
    expect(lines.map((l) => l.type)).to.deep.equal(['started', 'epoch-end', 'epoch-end', 'epoch-end', 'finished']);
    expect((lines[1]!.report as { epoch: number }).epoch).to.equal(1);
    expect(lines[1]!.time).to.be.a('string');
    const text = bar.chunks.join('');
    expect(text).to.not.include('\r');
    expect(text.split('\n').filter((l) => l.startsWith('epoch '))).to.have.length(3);
    expect(text).to.match(/epoch 2\/3  recon [0-9.]+  F -?[0-9.]+\/-?[0-9.]+  PLL -[0-9.]+\/-[0-9.]+  hidden/);
    expect(text).to.match(/done: completed, 3 epochs, 12 steps/);
  });

  it('the shared run with a progress bar subscribed: its signal stops it (a final checkpoint, "cancelled"); one consumer leaving does not, the last one does (a final checkpoint too)', async function () {
    const checkpointStep = (path: string) => (existsSync(path) ? loadModel(path, new CpuBackend()).trainer!.step : -1);
    // The signal: whatever is subscribed, the run stops after the step in progress and says so.
    const path = join(tmp.dir, 'shared-signal.json');
    const first = makeSession(new CpuBackend(), 9, 5);
    const controller = new AbortController();
    const run$ = train({ ...first, data, epochs: 50 }, { checkpoint: { path, everyEpochs: 50 }, signal: controller.signal }).pipe(share());
    const bar = sink(false);
    run$.subscribe(new ProgressBar({ stream: bar.stream }));
    const events = await lastValueFrom(run$.pipe(tap((e) => e.type === 'batch-end' && e.step === 6 && controller.abort()), toArray()));
    expect(events.slice(-2).map((e) => e.type)).to.deep.equal(['checkpoint-written', 'finished']);
    expect(first.trainer.step).to.equal(6);
    expect(checkpointStep(path)).to.equal(6);
    expect(bar.chunks.join('')).to.match(/done: cancelled/);

    // Unsubscribing: RxJS's share() counts subscribers, so the run goes on while the bar is
    // subscribed, and stops (writing its final checkpoint) when the last consumer leaves.
    const path2 = join(tmp.dir, 'shared-leave.json');
    const second = makeSession(new CpuBackend(), 9, 5);
    const shared$ = train({ ...second, data, epochs: 50 }, { checkpoint: { path: path2, everyEpochs: 50 } }).pipe(share());
    const barSubscription = shared$.subscribe(new ProgressBar({ stream: sink(false).stream }));
    await new Promise<void>((resolve) => {
      let own: Subscription | undefined = undefined;
      own = shared$.subscribe((e) => {
        if (e.type === 'batch-end' && e.step === 5) {
          own?.unsubscribe();
          resolve();
        }
      });
    });
    for (let turn = 0; turn < 2000 && second.trainer.step < 12; turn++) await settle(1);
    expect(second.trainer.step).to.be.at.least(12);
    barSubscription.unsubscribe();
    for (let turn = 0; turn < 2000 && checkpointStep(path2) !== second.trainer.step; turn++) await settle(1);
    const stopped = second.trainer.step;
    await settle(20);
    expect(second.trainer.step).to.equal(stopped);
    expect(stopped).to.be.below(200);
    expect(checkpointStep(path2)).to.equal(stopped);
  });

  it('connectable(): every consumer subscribes before the run starts', async function () {
    const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
    const run = connectable(train({ model, trainer, data, epochs: 2 }), { connector: () => new Subject<TrainingEvent>(), resetOnDisconnect: false });
    const a = lastValueFrom(run.pipe(toArray()));
    const b = new MetricsCollector();
    run.subscribe(b);
    run.connect();
    const events = await a;
    await b.done;
    expect(events.filter((e) => e.type === 'batch-end').length).to.equal(8);
    expect(b.steps.length).to.equal(8);
    expect(trainer.step).to.equal(8);
  });

  it('JSONL logger: append mode continues a resumed run\'s log; errors are logged as a line; atomic mode rewrites', async function () {
    const path = join(tmp.dir, 'append.jsonl');
    const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
    await runAll(train({ model, trainer, data, epochs: 1 }));
    const first = new JsonlLogger(path, { include: ['epoch-end', 'batch-end'], timestamps: false });
    const r1 = train({ model, trainer, data, epochs: 2 }).pipe(share());
    r1.subscribe(first);
    await runAll(r1);
    expect(first.lines).to.equal(5);
    const second = new JsonlLogger(path, { include: ['epoch-end'], timestamps: false });
    second.error(new RangeError('boom'));
    expect(readJsonl(path).map((l) => l.type)).to.deep.equal(['batch-end', 'batch-end', 'batch-end', 'batch-end', 'epoch-end', 'error']);
    expect(readJsonl(path).at(-1)).to.deep.equal({ type: 'error', name: 'RangeError', message: 'boom' });

    const atomic = join(tmp.dir, 'atomic.jsonl');
    const logger = new JsonlLogger(atomic, { mode: 'atomic', timestamps: false });
    logger.next({ type: 'started', epoch: 0, step: 0, epochs: 1 });
    logger.next({ type: 'started', epoch: 1, step: 4, epochs: 2 });
    logger.complete();
    expect(readFileSync(atomic, 'utf8')).to.equal('{"type":"started","epoch":0,"step":0,"epochs":1}\n{"type":"started","epoch":1,"step":4,"epochs":2}\n');
  });

  it('progress bar on a terminal: a live line with the bar, steps/s and ETA, redrawn in place', function () {
    const tty = sink(true);
    let now = 0;
    const bar = new ProgressBar({ stream: tty.stream, now: () => now, width: 10 });
    bar.next({ type: 'started', epoch: 0, step: 0, epochs: 4, stepsPerEpoch: 5 });
    now = 1000;
    const line = bar.render({ type: 'batch-end', epoch: 1, step: 2, batch: 2, rows: 10, learningRate: 0.1, momentum: 0.5, window: { steps: 2, reconstructionError: 0.25, freeEnergy: -3.5 } });
    // 2 steps in 1 s; 18 steps left -> 9 s.
    expect(line).to.equal('epoch 1/4 [####......] 2/5  2.00 steps/s  ETA 0:09  window recon 0.25 F -3.5');
    bar.next({ type: 'batch-end', epoch: 1, step: 2, batch: 2, rows: 10, learningRate: 0.1, momentum: 0.5 });
    now = 1050;
    bar.next({ type: 'batch-end', epoch: 1, step: 3, batch: 3, rows: 10, learningRate: 0.1, momentum: 0.5 });
    expect(tty.chunks).to.have.length(1);
    expect(tty.chunks[0]).to.match(/^\r\x1b\[2Kepoch 1\/4 \[####\.\.\.\.\.\.\] 2\/5/);
    bar.complete();
    expect(tty.chunks.at(-1)).to.equal('\r\x1b[2K');
    expect(formatDuration(3725)).to.equal('1:02:05');
  });
});
