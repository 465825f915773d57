import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import {
  BrokerError,
  EventPublisher,
  connectRedis,
  decodeEventMessage,
  eventSinkIssues,
  followRun,
  openEventSink,
  parseEventAddress,
  redisStreamSink,
  train,
  REDIS_EVENT_FIELD,
  type EventChannel,
  type EventMessage,
  type EpochEndEvent,
  type FollowedItem,
  type TrainingEvent,
} from '@boltzmann/pipeline';
import { startNatsServer, type NatsServer } from '../../../test/support/nats-server.js';
import { startRedisServer, type RedisServer } from '../../../test/support/redis-server.js';
import { freePort } from '../../../test/support/free-port.js';
import { makeSession, plantedRows, runAll } from './helpers.js';

/** A short real run: 3 epochs of 4 steps; its events, as train() emitted them. */
async function trainedEvents(publisher?: EventPublisher): Promise<TrainingEvent[]> {
  const { model, trainer } = makeSession(new CpuBackend(), 9, 5);
  const events: TrainingEvent[] = [];
  const run$ = train({ model, trainer, data: plantedRows(37, 9, 1), validation: plantedRows(11, 9, 3), epochs: 3 });
  for (const e of await runAll(run$)) {
    events.push(e);
    publisher?.next(e);
  }
  model.dispose();
  trainer.dispose();
  return events;
}

/** The events as JSON gives them back (what a broker carries; non-finite numbers survive). */
function roundTrip(events: TrainingEvent[]): unknown[] {
  return events.map((e) => JSON.parse(JSON.stringify(e, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `#${String(v)}` : v))));
}

/** Every message of a Redis stream, decoded. */
async function redisMessages(url: string, stream: string): Promise<EventMessage[]> {
  const client = await connectRedis(url);
  try {
    const entries = await client.xrange(stream, '-', '+');
    return entries.map(([id, fields]) => decodeEventMessage(fields[fields.indexOf(REDIS_EVENT_FIELD) + 1]!, `${stream} ${id}`));
  } finally {
    client.disconnect();
  }
}

/** followRun to its end (or `limit` items); fails after 10 s. */
async function follow(channel: EventChannel, options: { from?: 'latest' | 'new'; limit?: number } = {}): Promise<FollowedItem[]> {
  const out: FollowedItem[] = [];
  const signal = AbortSignal.timeout(10_000);
  for await (const item of followRun(channel, { ...(options.from ? { from: options.from } : {}), signal })) {
    out.push(item);
    if (out.length === options.limit) break;
  }
  if (signal.aborted) throw new Error(`followRun did not end in 10 s; it gave ${out.length} items`);
  return out;
}

function messagesOf(items: FollowedItem[]): EventMessage[] {
  return items.flatMap((i) => (i.kind === 'event' ? [i.message] : []));
}

describe('event sinks: training events on a real broker', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let nats: NatsServer;
  before(async function () {
    [redis, nats] = await Promise.all([startRedisServer(), startNatsServer()]);
  });
  after(async function () {
    await Promise.all([redis?.stop(), nats?.stop()]);
  });

  it('a run published to a Redis stream: every event in order, as emitted, numbered 1, 2, 3... (NaN and Infinity kept)', async function () {
    const publisher = await openEventSink({ type: 'redis-stream', url: redis.url, stream: 'run-a', run: 'a' });
    const events = await trainedEvents(publisher);
    // A non-finite number travels as text and comes back a number.
    const epochEnd = events.find((e): e is EpochEndEvent => e.type === 'epoch-end')!;
    publisher.next({ ...epochEnd, epochs: Infinity, report: { ...epochEnd.report, reconstructionError: Number.NaN } });
    const report = await publisher.close();
    expect(report).to.deep.equal({ published: events.length + 1, dropped: 0 });
    const messages = await redisMessages(redis.url, 'run-a');
    expect(messages.map((m) => m.seq)).to.deep.equal(Array.from({ length: events.length + 1 }, (_, i) => i + 1));
    expect(messages.every((m) => m.run === 'a' && m.dropped === 0 && !Number.isNaN(Date.parse(m.time)))).to.equal(true);
    expect(roundTrip(messages.slice(0, -1).map((m) => m.event as TrainingEvent))).to.deep.equal(roundTrip(events));
    expect(messages.map((m) => m.event.type).slice(0, 6)).to.deep.equal(['started', 'batch-end', 'batch-end', 'batch-end', 'batch-end', 'epoch-end']);
    const last = messages.at(-1)!.event as { epochs: number; report: { reconstructionError: number } };
    expect(last.epochs).to.equal(Infinity);
    expect(last.report.reconstructionError).to.be.NaN;
  });

  it('the Redis stream stays bounded: MAXLEN ~ keeps about maxLen entries however many are published', async function () {
    const transport = await redisStreamSink({ url: redis.url, stream: 'bounded', maxLen: 50 });
    const publisher = new EventPublisher(transport, { run: 'b', buffer: 5000 });
    for (let i = 1; i <= 2000; i++) publisher.next({ type: 'batch-end', epoch: 1, step: i, batch: i, rows: 1, learningRate: 0.1, momentum: 0 });
    expect(await publisher.close()).to.deep.equal({ published: 2000, dropped: 0 });
    const messages = await redisMessages(redis.url, 'bounded');
    // Approximate trimming removes whole nodes of 100 entries: between maxLen and maxLen + 100 stay, the newest.
    expect(messages.length).to.be.within(50, 150);
    expect(messages.at(-1)!.seq).to.equal(2000);
  });

  it('a broker that does not take the events does not hold training: the buffer stays bounded, the oldest step events are dropped and counted', async function () {
    const admin = await connectRedis(redis.url);
    const publisher = await openEventSink({ type: 'redis-stream', url: redis.url, stream: 'slow', run: 'c', buffer: 20 });
    try {
      // The server answers no write for 3 s: the first send waits, everything else queues.
      await admin.call('CLIENT', 'PAUSE', '3000', 'WRITE');
      publisher.next({ type: 'started', epoch: 0, step: 0, epochs: 1 });
      for (let i = 1; i <= 500; i++) {
        publisher.next({ type: 'batch-end', epoch: 1, step: i, batch: i, rows: 1, learningRate: 0.1, momentum: 0 });
        if (i === 10) publisher.next({ type: 'checkpoint-written', path: 'model.json', epoch: 0, step: 10, trigger: 'step' });
        expect(publisher.pending).to.be.at.most(20);
      }
      publisher.next({ type: 'finished', summary: { reason: 'completed', epochs: 1, steps: 500, epochsRun: 1, stepsRun: 500, seconds: 1 } });
      expect(publisher.counts.dropped).to.equal(482);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
      admin.disconnect();
    }
    expect(await publisher.close()).to.deep.equal({ published: 21, dropped: 482 });
    const messages = await redisMessages(redis.url, 'slow');
    // The started event (sent before the pause took hold), the checkpoint (older than the steps kept), the newest 18 steps, and the end.
    expect(messages.map((m) => m.event.type)).to.deep.equal(['started', 'checkpoint-written', ...Array(18).fill('batch-end'), 'finished']);
    expect(messages.map((m) => m.seq)).to.deep.equal([1, 12, ...Array.from({ length: 18 }, (_, i) => 485 + i), 503]);
    expect(messages.at(-1)!.dropped).to.equal(482);
  });

  it('a run published to a NATS subject (JetStream): the sink creates a bounded stream for it, followRun reads the run', async function () {
    const channel: EventChannel = { type: 'nats-jetstream', url: nats.url, subject: 'boltzmann.run-n' };
    const publisher = await openEventSink({ ...channel, run: 'n', maxLen: 1000 });
    const events = await trainedEvents(publisher);
    expect(await publisher.close()).to.deep.equal({ published: events.length, dropped: 0 });
    const messages = messagesOf(await follow(channel));
    expect(messages.map((m) => m.seq)).to.deep.equal(events.map((_, i) => i + 1));
    expect(roundTrip(messages.map((m) => m.event as TrainingEvent))).to.deep.equal(roundTrip(events));
  });

  for (const broker of ['redis', 'nats'] as const) {
    it(`followRun on ${broker}: the latest run from its start, later runs taken up when they start, the end of the followed run ends it`, async function () {
      const channel: EventChannel = broker === 'redis' ? { type: 'redis-stream', url: redis.url, stream: 'follow' } : { type: 'nats-jetstream', url: nats.url, subject: 'boltzmann.follow' };
      const started = { type: 'started', epoch: 0, step: 0, epochs: 1 } as const;
      const step = (i: number) => ({ type: 'batch-end', epoch: 1, step: i, batch: i, rows: 1, learningRate: 0.1, momentum: 0 }) as const;
      const finished = { type: 'finished', summary: { reason: 'completed', epochs: 1, steps: 2, epochsRun: 1, stepsRun: 2, seconds: 1 } } as const;
      // Run 1 finished; run 2 started and trained a step: following now reads run 2 from its start.
      const one = await openEventSink({ ...channel, run: 'one' } as never);
      [started, step(1), step(2), finished].forEach((e) => one.next(e));
      await one.close();
      const two = await openEventSink({ ...channel, run: 'two' } as never);
      two.next(started);
      two.next(step(1));
      while (two.pending > 0 || two.counts.published < 2) await new Promise((r) => setTimeout(r, 10));
      const following = follow(channel);
      await new Promise((r) => setTimeout(r, 300));
      two.next(step(2));
      two.next(finished);
      await two.close();
      const items = await following;
      expect(items.map((i) => (i.kind === 'event' ? `${i.message.run}:${i.message.event.type}` : 'unreadable'))).to.deep.equal(['two:started', 'two:batch-end', 'two:batch-end', 'two:finished']);
      // A finished latest run is read to its end at once.
      expect(messagesOf(await follow(channel)).map((m) => m.seq)).to.deep.equal([1, 2, 3, 4]);
      // "new" waits for a run that starts later, and takes it up from its start.
      const next = follow(channel, { from: 'new' });
      await new Promise((r) => setTimeout(r, 300));
      const three = await openEventSink({ ...channel, run: 'three' } as never);
      [started, step(1), finished].forEach((e) => three.next(e));
      await three.close();
      expect(messagesOf(await next).map((m) => `${m.run}:${m.seq}`)).to.deep.equal(['three:1', 'three:2', 'three:3']);
    });
  }

  it('a broker that is down is a BrokerError naming it, at once', async function () {
    const port = await freePort();
    for (const spec of [
      { type: 'redis-stream', url: `redis://127.0.0.1:${port}`, stream: 's' },
      { type: 'nats-jetstream', url: `nats://127.0.0.1:${port}`, subject: 's' },
    ] as const) {
      const t0 = Date.now();
      const error = await openEventSink(spec).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(BrokerError);
      expect((error as Error).message).to.match(new RegExp(`^cannot reach ${spec.type === 'redis-stream' ? 'Redis' : 'NATS'} at ${spec.url}: .*(ECONNREFUSED|refused)`));
      expect(Date.now() - t0).to.be.below(5000);
    }
  });

  it('sink specs: one problem per field, unknown fields refused; addresses name the stream or subject', function () {
    expect(eventSinkIssues({ type: 'redis-stream', url: 'redis://h:1', stream: 'x' }, 'output.events')).to.deep.equal([]);
    expect(eventSinkIssues({ type: 'kafka' }, 'output.events')).to.deep.equal([{ path: 'output.events.type', message: 'must be "redis-stream" or "nats-jetstream", got "kafka"' }]);
    expect(eventSinkIssues({ type: 'redis-stream', url: 'nats://h:1', stream: 'x', subject: 'y', buffer: 0, include: ['epoch-end', 'batch'] }, 'e').map((i) => i.path)).to.deep.equal(['e.subject', 'e.url', 'e.buffer', 'e.include']);
    expect(eventSinkIssues({ type: 'nats-jetstream', url: 'nats://h:1', subject: 'a.*' }, 'e')[0]!.message).to.match(/without spaces or wildcards/);
    expect(eventSinkIssues('redis://h', 'e')[0]!.message).to.match(/^must be null or an object/);
    expect(parseEventAddress('redis://127.0.0.1:6379/run-a')).to.deep.equal({ type: 'redis-stream', url: 'redis://127.0.0.1:6379', stream: 'run-a' });
    expect(parseEventAddress('nats://127.0.0.1:4222/boltzmann.run-a')).to.deep.equal({ type: 'nats-jetstream', url: 'nats://127.0.0.1:4222', subject: 'boltzmann.run-a' });
    expect(() => parseEventAddress('redis://127.0.0.1:6379')).to.throw(/no event address; write redis:\/\/HOST:PORT\/STREAM/);
  });
});
