/**
 * Exactly once from a message broker: `boltzmann train` reads a Redis stream (a real
 * redis-server started here) while a producer keeps writing to it, with a checkpoint every
 * epoch; the trainer is killed (SIGKILL, and SIGTERM/SIGINT, which save and acknowledge) at
 * seeded moments and resumed from what it left each time. The final model must equal, byte
 * for byte, an uninterrupted run over the same messages, every produced row must have been
 * trained (entries read = rows produced = steps x batch size) and the group's pending list
 * must be empty at the end.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { interruptWhileProducing, producedRow, runInterrupted } from './support/interrupted-run.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

const COLS = 9;
const BATCH = 4;
const STEPS_PER_EPOCH = 3;
const EPOCHS = 25;
const ROWS = EPOCHS * STEPS_PER_EPOCH * BATCH;

/** Writes rows [from, to) with ids "<i+1>-0" (the same ids in every database). */
async function produce(redis: Redis, from: number, to: number): Promise<void> {
  const pipe = redis.pipeline();
  for (let i = from; i < to; i++) pipe.xadd('digits', `${i + 1}-0`, 'row', Buffer.from(producedRow(i, COLS)));
  await pipe.exec();
}

describe('broker exactly once: kill -9 / SIGTERM / SIGINT of a trainer reading a Redis stream, resumed, equals the uninterrupted run', function () {
  this.timeout(300000);
  let server: RedisServer;
  let dir: string;

  before(async function () {
    server = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), 'boltzmann-broker-'));
    const spec = (db: number, out: string) => ({
      model: { layers: [{ type: 'bernoulli', name: 'visible', size: COLS }, { type: 'bernoulli', name: 'hidden', size: 5 }] },
      data: { source: { type: 'redis-stream', url: `${server.url}/${db}`, stream: 'digits', group: 'trainers', blockMs: 200 }, validationSplit: 0 },
      training: { epochs: EPOCHS, stepsPerEpoch: STEPS_PER_EPOCH, batchSize: BATCH, checkpointEvery: 1, learningRate: 0.1, metrics: [] },
      output: { dir: out, samples: { count: 2, steps: 2, init: 'random' }, filters: 0, reconstructions: 0 },
      seed: 3,
    });
    writeFileSync(join(dir, 'ref.json'), JSON.stringify(spec(1, 'ref')));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec(0, 'faults')));
  });
  after(async function () {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ends byte-identical to the uninterrupted run, every row trained once, nothing pending', async function () {
    const ref = new Redis(`${server.url}/1`);
    const live = new Redis(`${server.url}/0`);
    try {
      // The uninterrupted run (database 1, all rows there from the start) runs beside the interrupted ones.
      await produce(ref, 0, ROWS);
      const reference = runInterrupted(dir, ['train', 'ref.json']);
      // The producer keeps writing while the trainer runs, is killed and resumes.
      await interruptWhileProducing(dir, { rows: ROWS, head: 2 * BATCH, produce: (from, to) => produce(live, from, to), signals: ['SIGKILL', 'SIGTERM', 'SIGKILL', 'SIGINT'], reference });
      const pending = (await live.xpending('digits', 'trainers')) as [number, ...unknown[]];
      expect(Number(pending[0]), 'pending entries at the end').to.equal(0);
      const group = ((await live.xinfo('GROUPS', 'digits')) as unknown[][])[0]!;
      expect(String(group[group.indexOf('last-delivered-id') + 1])).to.equal(`${ROWS}-0`);
      expect(await live.xlen('digits:dead'), 'no entry refused').to.equal(0);
    } finally {
      ref.disconnect();
      live.disconnect();
    }
  });
});
