/**
 * The Redis stream source against a real redis-server (started by the test on a loopback port):
 * rows decoded and trained in the stream's order, bad entries refused into the dead-letter
 * stream, the saved position sorting out pending entries on open, reads bounded by what the
 * trainer takes, and one-line errors for a broker that is down or a stream that is missing.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { from } from 'rxjs';
import { loadModel } from '@boltzmann/core';
import { Matrix } from '@boltzmann/tensor';
import { RedisStreamSource, encodeRow, train, type RefusedMessage, type RowEncoding, type TrainingEvent } from '@boltzmann/pipeline';
import { startRedisServer, type RedisServer } from '../../../test/support/redis-server.js';
import { freePort } from '../../../test/support/free-port.js';
import { batchesOf, cpu, expectSameParams, makeSession, openFailure, paramsDiffer, plantedRows, runAll, runWithStepHook, tempDir } from './helpers.js';

const COLS = 9;
const BATCH = 10;

/** Writes rows into `stream` with ids "<i+1>-0" (so two databases hold the same ids). */
async function produce(redis: Redis, stream: string, rows: Matrix, encoding: RowEncoding = 'float32le', first = 1): Promise<void> {
  const pipe = redis.pipeline();
  for (let r = 0; r < rows.rows; r++) pipe.xadd(stream, `${first + r}-0`, 'row', Buffer.from(encodeRow(rows.row(r), encoding)));
  await pipe.exec();
}

/** Pending entries of a group (XPENDING summary count). */
async function pendingCount(redis: Redis, stream: string, group: string): Promise<number> {
  const summary = (await redis.xpending(stream, group)) as [number, ...unknown[]];
  return Number(summary[0]);
}

describe('redis stream source (a real redis-server)', function () {
  this.timeout(60000);
  let server: RedisServer;
  let redis: Redis;
  let tmp: ReturnType<typeof tempDir>;
  let n = 0;
  /** A fresh stream name per test. */
  const name = () => `rows-${++n}`;

  before(async function () {
    server = await startRedisServer();
    redis = new Redis(server.url);
    tmp = tempDir('pipeline-redis-');
  });
  after(async function () {
    redis?.disconnect();
    await server?.stop();
    tmp?.remove();
  });

  for (const encoding of ['float32le', 'json'] as const) {
    it(`trains the stream's rows in its order, one batch per step (${encoding}): the same bits as those batches from memory, nothing left pending`, async function () {
      const stream = name();
      const rows = plantedRows(60, COLS, 3);
      await produce(redis, stream, rows, encoding);
      const be = cpu();
      const viaRedis = makeSession(be, COLS, 5, { shuffle: false });
      const source = new RedisStreamSource({ url: server.url, stream, group: 'g', columns: COLS, encoding });
      const file = join(tmp.dir, `${stream}.json`);
      const events = await runAll(train({ ...viaRedis, data: source, stepsPerEpoch: 2, epochs: 3 }, { checkpoint: { path: file, everySteps: 2 } }));
      expect(events.filter((e) => e.type === 'batch-end')).to.have.length(6);
      const reference = makeSession(be, COLS, 5, { shuffle: false });
      await runAll(train({ ...reference, data: from(batchesOf(rows, BATCH)), stepsPerEpoch: 2, epochs: 3 }));
      await expectSameParams(viaRedis.model, reference.model);
      expect(viaRedis.trainer.sourcePosition).to.deep.equal({ type: 'redis-stream', stream, group: 'g', lastId: '60-0' });
      expect(loadModel(file, be).trainer!.sourcePosition).to.deep.equal(viaRedis.trainer.sourcePosition);
      expect(await pendingCount(redis, stream, 'g')).to.equal(0);
      // The check can fail: other rows give other bits.
      const other = makeSession(be, COLS, 5, { shuffle: false });
      await runAll(train({ ...other, data: from(batchesOf(plantedRows(60, COLS, 4), BATCH)), stepsPerEpoch: 2, epochs: 3 }));
      expect(await paramsDiffer(viaRedis.model, other.model)).to.equal(true);
    });
  }

  it('refuses entries that are not rows, with their ids and reasons, into the dead-letter stream; trains the rest', async function () {
    const stream = name();
    const good = plantedRows(30, COLS, 5);
    const goodRow = (r: number) => Buffer.from(encodeRow(good.row(r), 'float32le'));
    const bad: [string, ...(string | Buffer)[]][] = [
      ['short', 'row', Buffer.alloc(8)],
      ['nan', 'row', Buffer.from(encodeRow(new Float32Array(COLS), 'float32le')).fill(0xff, 0, 4)],
      ['range', 'row', Buffer.from(encodeRow(new Float32Array(COLS).fill(2), 'float32le'))],
      ['nofield', 'other', goodRow(0)],
    ];
    // good rows with the bad ones between them
    let id = 1;
    let g = 0;
    const ids: Record<string, string> = {};
    const total = good.rows + bad.length;
    for (let i = 0; i < total; i++) {
      const entryId = `${id++}-0`;
      if (i % 8 === 3 && bad.length > 0) {
        const [label, ...fields] = bad.shift()!;
        ids[label] = entryId;
        await redis.xadd(stream, entryId, ...fields);
      } else {
        await redis.xadd(stream, entryId, 'row', goodRow(g++));
      }
    }
    const refused: RefusedMessage[] = [];
    const be = cpu();
    const session = makeSession(be, COLS, 4, { shuffle: false });
    const source = new RedisStreamSource({ url: server.url, stream, group: 'g', columns: COLS });
    await runAll(train({ ...session, data: source, stepsPerEpoch: 3, epochs: 1 }, { checkpoint: { path: join(tmp.dir, `${stream}.json`), everyEpochs: 1 }, onRefused: (m) => refused.push(m) }));
    expect(refused.map((m) => m.id)).to.deep.equal([ids['short'], ids['nan'], ids['range'], ids['nofield']]);
    expect(refused[0]!.reason).to.match(/holds 8 bytes; 9 float32 values need 36/);
    expect(refused[1]!.reason).to.match(/value 0 is NaN/);
    expect(refused[2]!.reason).to.match(/\[0, 1\]|range|outside/i);
    expect(refused[3]!.reason).to.match(/has no field "row" \(its fields: "other"\)/);
    expect(refused.every((m) => m.deadLetter === `${stream}:dead`)).to.equal(true);
    const dead = await redis.xrange(`${stream}:dead`, '-', '+');
    expect(dead.map(([, f]) => f[f.indexOf('id') + 1])).to.deep.equal(refused.map((m) => m.id));
    expect(dead[0]![1][dead[0]![1].indexOf('reason') + 1]).to.equal(refused[0]!.reason);
    expect(await pendingCount(redis, stream, 'g')).to.equal(0);
    const reference = makeSession(be, COLS, 4, { shuffle: false });
    await runAll(train({ ...reference, data: from(batchesOf(good, BATCH)), stepsPerEpoch: 3, epochs: 1 }));
    await expectSameParams(session.model, reference.model);
  });

  it('open at a saved position: pending entries up to it are acknowledged untrained, those after it come first, then new ones', async function () {
    const stream = name();
    await produce(redis, stream, plantedRows(50, COLS, 6));
    const first = new RedisStreamSource({ url: server.url, stream, group: 'g', columns: COLS });
    await first.open();
    const b1 = (await first.next(BATCH))!;
    const b2 = (await first.next(BATCH))!;
    const b3 = (await first.next(BATCH))!;
    await first.acknowledge(b1.position);
    await first.close(); // a crash after a checkpoint at b2's position was written, before its acknowledgement
    expect(await pendingCount(redis, stream, 'g')).to.equal(20);
    const second = new RedisStreamSource({ url: server.url, stream, group: 'g', columns: COLS, consumer: 'renamed' });
    await second.open({ saved: b2.position });
    const again = (await second.next(BATCH))!;
    expect(Array.from(again.rows.data)).to.deep.equal(Array.from(b3.rows.data));
    expect(again.position).to.deep.equal(b3.position);
    expect(await pendingCount(redis, stream, 'g')).to.equal(10); // b2's entries acknowledged without being delivered
    const fresh = (await second.next(BATCH))!;
    expect(fresh.position['lastId']).to.equal('40-0');
    await second.acknowledge(fresh.position);
    expect(await pendingCount(redis, stream, 'g')).to.equal(0);
    await second.close();
    // a position of another stream is refused in words
    const third = new RedisStreamSource({ url: server.url, stream, group: 'other', columns: COLS });
    let error: Error | undefined;
    await third.open({ saved: b2.position }).catch((e: Error) => (error = e));
    await third.close();
    expect(error?.message).to.match(new RegExp(`trained from redis stream "${stream}" \\(group "g"\\), not "${stream}" \\(group "other"\\)`));
  });

  it('reads only what the trainer takes: entries read but not trained stay within one batch while a large backlog waits in the stream', async function () {
    const stream = name();
    await produce(redis, stream, plantedRows(3000, COLS, 7));
    const be = cpu();
    const session = makeSession(be, COLS, 4, { shuffle: false });
    const source = new RedisStreamSource({ url: server.url, stream, group: 'g', columns: COLS });
    /** Entries the group has handed out, less the rows trained, each time it is asked during the run. */
    const ahead: number[] = [];
    const entriesRead = async (): Promise<number> => {
      const group = ((await redis.xinfo('GROUPS', stream)) as unknown[][])[0]!;
      return Number(group[group.indexOf('entries-read') + 1]);
    };
    let next = 3001;
    // the producer keeps writing, far faster than the trainer takes (100 rows per step of 10)
    await runWithStepHook(train({ ...session, data: source, stepsPerEpoch: 10, epochs: 3 }), async (step) => {
      await produce(redis, stream, plantedRows(100, COLS, 8 + step), 'float32le', next);
      next += 100;
      ahead.push((await entriesRead()) - session.trainer.step * BATCH);
    });
    expect(ahead).to.have.length(30);
    expect(Math.max(...ahead)).to.be.at.most(BATCH); // at most the batch being read for the next step
    expect(await entriesRead()).to.equal(300); // the 30 batches trained, nothing read ahead at the end
    expect(await redis.xlen(stream)).to.equal(3000 + 3000);
  });

  it('cancelled while waiting for entries: stops at once, its last checkpoint holds the rows trained and acknowledges them; the rest is delivered again', async function () {
    const stream = name();
    await produce(redis, stream, plantedRows(25, COLS, 9));
    const be = cpu();
    const session = makeSession(be, COLS, 4, { shuffle: false });
    const source = new RedisStreamSource({ url: server.url, stream, group: 'g', columns: COLS, blockMs: 60000 });
    const controller = new AbortController();
    const file = join(tmp.dir, `${stream}.json`);
    const run$ = train({ ...session, data: source, stepsPerEpoch: 10, epochs: 1 }, { checkpoint: { path: file, everySteps: 100 }, signal: controller.signal });
    let abortedAt = 0;
    const events: TrainingEvent[] = [];
    await new Promise<void>((resolve, reject) =>
      run$.subscribe({
        next: (e) => {
          events.push(e);
          // the third batch cannot fill (25 entries): the source waits, then the run is cancelled
          if (e.type === 'batch-end' && e.step === 2) setTimeout(() => ((abortedAt = performance.now()), controller.abort()), 200);
        },
        error: reject,
        complete: resolve,
      }),
    );
    expect(performance.now() - abortedAt, 'ms from the abort to the end (a read blocks up to 60 s)').to.be.below(5000);
    const last = events[events.length - 1]!;
    expect(last.type === 'finished' && last.summary.reason).to.equal('cancelled');
    expect(events.find((e) => e.type === 'checkpoint-written')).to.include({ trigger: 'cancelled', step: 2 });
    expect(loadModel(file, be).trainer!.sourcePosition).to.deep.equal({ type: 'redis-stream', stream, group: 'g', lastId: '20-0' });
    expect(await pendingCount(redis, stream, 'g')).to.equal(5); // read while waiting, not trained: delivered again
    await produce(redis, stream, plantedRows(5, COLS, 10), 'float32le', 26);
    const again = new RedisStreamSource({ url: server.url, stream, group: 'g', columns: COLS });
    await again.open({ saved: loadModel(file, be).trainer!.sourcePosition! });
    const next = (await again.next(BATCH))!;
    expect(next.position['lastId']).to.equal('30-0');
    expect(Array.from(next.rows.data.subarray(0, 5 * COLS))).to.deep.equal(Array.from(plantedRows(25, COLS, 9).sliceRows(20, 25).data));
    await again.close();
  });

  it('a broker lost during the run is the run\'s error, one line naming the URL', async function () {
    const other = await startRedisServer();
    try {
      const client = new Redis(other.url);
      await produce(client, 'rows', plantedRows(20, COLS, 11));
      client.disconnect();
      const session = makeSession(cpu(), COLS, 4, { shuffle: false });
      const source = new RedisStreamSource({ url: other.url, stream: 'rows', group: 'g', columns: COLS, blockMs: 60000 });
      const run$ = train({ ...session, data: source, stepsPerEpoch: 5, epochs: 1 });
      const failure = new Promise<Error>((resolve) =>
        run$.subscribe({
          next: (e) => {
            if (e.type === 'batch-end' && e.step === 2) setTimeout(() => void other.stop(), 100);
          },
          error: resolve,
          complete: () => resolve(new Error('completed')),
        }),
      );
      expect((await failure).message).to.equal(`lost the connection to Redis at ${other.url} (XREADGROUP); resume the run from its last checkpoint`);
    } finally {
      await other.stop();
    }
  });

  it('a broker that is down, a missing stream and a key of another type are one-line errors naming the URL and the stream', async function () {
    const port = await freePort();
    const down = new RedisStreamSource({ url: `redis://127.0.0.1:${port}`, stream: 's', group: 'g', columns: COLS, connectTimeoutMs: 2000 });
    expect(await openFailure(down)).to.match(new RegExp(`^cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(await openFailure(new RedisStreamSource({ url: server.url, stream: 'missing', group: 'g', columns: COLS }))).to.equal(
      `redis stream "missing" (group "g") at ${server.url}: the stream does not exist (start the producer first, or set "create": true)`,
    );
    await redis.set('plain', 'x');
    expect(await openFailure(new RedisStreamSource({ url: server.url, stream: 'plain', group: 'g', columns: COLS }))).to.match(/the key "plain" holds a string, not a stream/);
    expect(() => new RedisStreamSource({ url: 'http://x', stream: 's', group: 'g', columns: COLS })).to.throw(/"url" must be redis:\/\/host:port/);
  });
});
