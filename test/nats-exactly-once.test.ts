/**
 * Exactly once from NATS JetStream: `boltzmann train` reads a JetStream stream (a real
 * nats-server -js started here) through a durable pull consumer while a producer keeps
 * publishing, with a checkpoint every epoch; the trainer is killed (SIGKILL, and
 * SIGTERM/SIGINT, which save and acknowledge) at seeded moments and resumed from what it left
 * each time. The final model must equal, byte for byte, an uninterrupted run over the same
 * messages (on a second server, so stream names and sequence numbers are the same), every
 * produced row must have been trained (messages delivered = rows produced = steps x batch
 * size) and nothing may be left unacknowledged.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { interruptWhileProducing, producedRow, runInterrupted } from './support/interrupted-run.js';
import { startNatsServer, type NatsServer } from './support/nats-server.js';

const COLS = 9;
const BATCH = 4;
const STEPS_PER_EPOCH = 3;
const EPOCHS = 25;
const ROWS = EPOCHS * STEPS_PER_EPOCH * BATCH;

/** Publishes rows [from, to), one after another (stream sequence i + 1 for row i). */
async function produce(js: JetStreamClient, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await js.publish('digits', producedRow(i, COLS));
}

/** A connection to a server with the stream "digits" created on it. */
async function openStream(server: NatsServer): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
  const nc = await connect({ servers: server.url });
  await (await jetstreamManager(nc)).streams.add({ name: 'digits', subjects: ['digits'] });
  return { nc, js: jetstream(nc) };
}

describe('broker exactly once: kill -9 / SIGTERM / SIGINT of a trainer reading a NATS JetStream stream, resumed, equals the uninterrupted run', function () {
  this.timeout(120000);
  let live: NatsServer;
  let reference: NatsServer;
  let dir: string;

  before(async function () {
    [live, reference] = await Promise.all([startNatsServer(), startNatsServer()]);
    dir = mkdtempSync(join(tmpdir(), 'boltzmann-broker-'));
    const spec = (server: NatsServer, out: string) => ({
      model: { layers: [{ type: 'bernoulli', name: 'visible', size: COLS }, { type: 'bernoulli', name: 'hidden', size: 5 }] },
      data: { source: { type: 'nats-jetstream', url: server.url, stream: 'digits' }, validationSplit: 0 },
      training: { epochs: EPOCHS, stepsPerEpoch: STEPS_PER_EPOCH, batchSize: BATCH, checkpointEvery: 1, learningRate: 0.1, metrics: [] },
      output: { dir: out, samples: { count: 2, steps: 2, init: 'random' }, filters: 0, reconstructions: 0 },
      seed: 3,
    });
    writeFileSync(join(dir, 'ref.json'), JSON.stringify(spec(reference, 'ref')));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec(live, 'faults')));
  });
  after(async function () {
    await Promise.all([live?.stop(), reference?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ends byte-identical to the uninterrupted run, every row trained once, nothing unacknowledged', async function () {
    const ref = await openStream(reference);
    const fed = await openStream(live);
    try {
      // The uninterrupted run (on the second server, all rows there from the start) runs beside the interrupted ones.
      await produce(ref.js, 0, ROWS);
      const uninterruptedRun = runInterrupted(dir, ['train', 'ref.json']);
      // The producer keeps writing while the trainer runs, is killed and resumes. Two
      // interruptions keep the test short (each run starts a process); the Redis test runs four.
      await interruptWhileProducing(dir, { rows: ROWS, head: 2 * BATCH, produce: (from, to) => produce(fed.js, from, to), signals: ['SIGKILL', 'SIGTERM'], reference: uninterruptedRun });
      const jsm = await jetstreamManager(fed.nc);
      const consumer = await jsm.consumers.info('digits', 'trainer');
      expect(consumer.num_ack_pending, 'unacknowledged messages at the end').to.equal(0);
      expect(consumer.ack_floor.stream_seq, 'messages acknowledged').to.equal(ROWS);
      expect(consumer.num_pending, 'messages never delivered').to.equal(0);
      expect((await jsm.streams.info('digits-dead')).state.messages, 'no message refused').to.equal(0);
    } finally {
      await ref.nc.close();
      await fed.nc.close();
    }
  });
});
