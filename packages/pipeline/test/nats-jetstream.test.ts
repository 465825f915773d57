/**
 * The NATS JetStream source against a real nats-server -js (started by the test on a loopback
 * port): rows decoded and trained in the stream's order, bad messages refused onto the
 * dead-letter subject, the saved position sorting out unacknowledged messages on open, fetches
 * bounded by what the trainer takes, and one-line errors for a broker that is down, a stream
 * that is missing and a stream whose retention would lose messages.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { from } from 'rxjs';
import { RetentionPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { loadModel } from '@boltzmann/core';
import { Matrix } from '@boltzmann/tensor';
import { NatsJetStreamSource, encodeRow, train, type RefusedMessage, type RowEncoding } from '@boltzmann/pipeline';
import { startNatsServer, type NatsServer } from '../../../test/support/nats-server.js';
import { freePort } from '../../../test/support/free-port.js';
import { batchesOf, cpu, expectSameParams, makeSession, openFailure, paramsDiffer, plantedRows, runAll, runWithStepHook, tempDir } from './helpers.js';

const COLS = 9;
const BATCH = 10;

describe('nats jetstream source (a real nats-server -js)', function () {
  this.timeout(60000);
  let server: NatsServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let tmp: ReturnType<typeof tempDir>;
  let n = 0;
  /** A fresh stream per test, capturing the subject "rows-<n>". */
  const name = () => `rows-${++n}`;

  async function makeStream(stream: string, retention: RetentionPolicy = RetentionPolicy.Limits): Promise<void> {
    await jsm.streams.add({ name: stream, subjects: [stream], retention });
  }

  async function produce(stream: string, rows: Matrix, encoding: RowEncoding = 'float32le'): Promise<void> {
    await Promise.all(Array.from({ length: rows.rows }, (_, r) => js.publish(stream, encodeRow(rows.row(r), encoding))));
  }

  async function consumerState(stream: string, consumer = 'trainer'): Promise<{ ackPending: number; pending: number; delivered: number; floor: number }> {
    const info = await jsm.consumers.info(stream, consumer);
    return { ackPending: info.num_ack_pending, pending: info.num_pending, delivered: info.delivered.stream_seq, floor: info.ack_floor.stream_seq };
  }

  before(async function () {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    tmp = tempDir('pipeline-nats-');
  });
  after(async function () {
    await nc?.close();
    await server?.stop();
    tmp?.remove();
  });

  for (const encoding of ['float32le', 'json'] as const) {
    it(`trains the stream's rows in its order, one batch per step (${encoding}): the same bits as those batches from memory, nothing left unacknowledged`, async function () {
      const stream = name();
      await makeStream(stream);
      const rows = plantedRows(60, COLS, 3);
      // published one after another, so the stream's order is the rows' order
      for (let r = 0; r < rows.rows; r++) await js.publish(stream, encodeRow(rows.row(r), encoding));
      const be = cpu();
      const viaNats = makeSession(be, COLS, 5, { shuffle: false });
      const source = new NatsJetStreamSource({ url: server.url, stream, columns: COLS, encoding });
      const file = join(tmp.dir, `${stream}.json`);
      const events = await runAll(train({ ...viaNats, data: source, stepsPerEpoch: 2, epochs: 3 }, { checkpoint: { path: file, everySteps: 2 } }));
      expect(events.filter((e) => e.type === 'batch-end')).to.have.length(6);
      const reference = makeSession(be, COLS, 5, { shuffle: false });
      await runAll(train({ ...reference, data: from(batchesOf(rows, BATCH)), stepsPerEpoch: 2, epochs: 3 }));
      await expectSameParams(viaNats.model, reference.model);
      expect(viaNats.trainer.sourcePosition).to.deep.equal({ type: 'nats-jetstream', stream, consumer: 'trainer', seq: 60 });
      expect(loadModel(file, be).trainer!.sourcePosition).to.deep.equal(viaNats.trainer.sourcePosition);
      expect(await consumerState(stream)).to.deep.equal({ ackPending: 0, pending: 0, delivered: 60, floor: 60 });
      // The check can fail: other rows give other bits.
      const other = makeSession(be, COLS, 5, { shuffle: false });
      await runAll(train({ ...other, data: from(batchesOf(plantedRows(60, COLS, 4), BATCH)), stepsPerEpoch: 2, epochs: 3 }));
      expect(await paramsDiffer(viaNats.model, other.model)).to.equal(true);
    });
  }

  it('refuses messages that are not rows, with their sequence numbers and reasons, onto the dead-letter subject; trains the rest', async function () {
    const stream = name();
    await makeStream(stream);
    const good = plantedRows(30, COLS, 5);
    const bad: [string, Uint8Array][] = [
      ['short', new Uint8Array(8)],
      ['nan', Buffer.from(encodeRow(new Float32Array(COLS), 'float32le')).fill(0xff, 0, 4)],
      ['range', encodeRow(new Float32Array(COLS).fill(2), 'float32le')],
    ];
    const seqs: Record<string, string> = {};
    let g = 0;
    const total = good.rows + bad.length;
    for (let i = 0; i < total; i++) {
      if (i % 8 === 3 && bad.length > 0) {
        const [label, payload] = bad.shift()!;
        seqs[label] = String((await js.publish(stream, payload)).seq);
      } else {
        await js.publish(stream, encodeRow(good.row(g++), 'float32le'));
      }
    }
    const refused: RefusedMessage[] = [];
    const be = cpu();
    const session = makeSession(be, COLS, 4, { shuffle: false });
    const source = new NatsJetStreamSource({ url: server.url, stream, columns: COLS });
    await runAll(train({ ...session, data: source, stepsPerEpoch: 3, epochs: 1 }, { checkpoint: { path: join(tmp.dir, `${stream}.json`), everyEpochs: 1 }, onRefused: (m) => refused.push(m) }));
    expect(refused.map((m) => m.id)).to.deep.equal([seqs['short'], seqs['nan'], seqs['range']]);
    expect(refused[0]!.reason).to.match(/holds 8 bytes; 9 float32 values need 36/);
    expect(refused[1]!.reason).to.match(/value 0 is NaN/);
    expect(refused[2]!.reason).to.match(/\[0, 1\]|range|outside/i);
    expect(refused.every((m) => m.deadLetter === `boltzmann.dead.${stream}`)).to.equal(true);
    // the dead-letter stream holds each with its sequence number and reason
    const dead = await jsm.streams.get(`${stream}-dead`);
    const first = await dead.getMessage({ seq: 1 });
    expect(first?.header.get('Boltzmann-Sequence')).to.equal(seqs['short']);
    expect(first?.header.get('Boltzmann-Reason')).to.equal(refused[0]!.reason);
    expect((await dead.info()).state.messages).to.equal(3);
    expect((await consumerState(stream)).ackPending).to.equal(0);
    const reference = makeSession(be, COLS, 4, { shuffle: false });
    await runAll(train({ ...reference, data: from(batchesOf(good, BATCH)), stepsPerEpoch: 3, epochs: 1 }));
    await expectSameParams(session.model, reference.model);
  });

  for (const retention of [RetentionPolicy.Limits, RetentionPolicy.Workqueue]) {
  it(`open at a saved position (${retention} retention): unacknowledged messages up to it are acknowledged untrained, those after it come first, in order, then new ones`, async function () {
    const stream = name();
    await makeStream(stream, retention);
    for (let r = 0, rows = plantedRows(50, COLS, 6); r < rows.rows; r++) await js.publish(stream, encodeRow(rows.row(r), 'float32le'));
    const first = new NatsJetStreamSource({ url: server.url, stream, columns: COLS });
    await first.open();
    const b1 = (await first.next(BATCH))!;
    const b2 = (await first.next(BATCH))!;
    const b3 = (await first.next(BATCH))!;
    await first.acknowledge(b1.position);
    await first.close(); // a crash after a checkpoint at b2's position was written, before its acknowledgement
    expect(await consumerState(stream)).to.include({ ackPending: 20, floor: 10 });
    const second = new NatsJetStreamSource({ url: server.url, stream, columns: COLS });
    await second.open({ saved: b2.position });
    const again = (await second.next(BATCH))!;
    expect(Array.from(again.rows.data)).to.deep.equal(Array.from(b3.rows.data));
    expect(again.position).to.deep.equal(b3.position);
    expect(await consumerState(stream)).to.include({ floor: 20 }); // b2's messages acknowledged without being trained
    const fresh = (await second.next(BATCH))!;
    expect(fresh.position['seq']).to.equal(40);
    await second.acknowledge(fresh.position);
    expect(await consumerState(stream)).to.include({ ackPending: 0, floor: 40 });
    // a work queue forgets what was acknowledged; a stream with limits keeps it
    expect((await jsm.streams.info(stream)).state.messages).to.equal(retention === RetentionPolicy.Workqueue ? 10 : 50);
    await second.close();
    // a position of another consumer, and a checkpoint older than what was acknowledged, are refused in words
    expect(await openFailure(new NatsJetStreamSource({ url: server.url, stream, consumer: 'other', columns: COLS }), { saved: b2.position })).to.match(
      new RegExp(`trained from nats jetstream "${stream}" \\(consumer "trainer"\\), not "${stream}" \\(consumer "other"\\)`),
    );
    expect(await openFailure(new NatsJetStreamSource({ url: server.url, stream, columns: COLS }), { saved: b1.position })).to.match(/the checkpoint's position \(message 10\) is behind what the consumer has acknowledged \(message 40\)/);
  });
  }

  it('fetches only what the trainer takes: messages delivered but not trained stay within one batch while a large backlog waits in the stream', async function () {
    const stream = name();
    await makeStream(stream);
    await produce(stream, plantedRows(3000, COLS, 7));
    const be = cpu();
    const session = makeSession(be, COLS, 4, { shuffle: false });
    const source = new NatsJetStreamSource({ url: server.url, stream, columns: COLS });
    const ahead: number[] = [];
    // the producer keeps writing, far faster than the trainer takes (100 rows per step of 10)
    await runWithStepHook(train({ ...session, data: source, stepsPerEpoch: 10, epochs: 3 }), async (step) => {
      await produce(stream, plantedRows(100, COLS, 8 + step));
      ahead.push((await consumerState(stream)).delivered - session.trainer.step * BATCH);
    });
    expect(ahead).to.have.length(30);
    expect(Math.max(...ahead)).to.be.at.most(BATCH); // at most the batch being fetched for the next step
    expect((await consumerState(stream)).delivered).to.equal(300);
    expect((await jsm.streams.info(stream)).state.messages).to.equal(6000);
  });

  it('a broker that is down, a missing stream and interest retention are one-line errors naming the URL and the stream', async function () {
    const port = await freePort();
    expect(await openFailure(new NatsJetStreamSource({ url: `nats://127.0.0.1:${port}`, stream: 's', columns: COLS }))).to.match(new RegExp(`^cannot reach NATS at nats://127\\.0\\.0\\.1:${port}: .*refused`));
    expect(await openFailure(new NatsJetStreamSource({ url: server.url, stream: 'missing', columns: COLS }))).to.equal(
      `nats jetstream "missing" (consumer "trainer") at ${server.url}: the stream does not exist (start the producer first, or set "create": true)`,
    );
    const interest = name();
    await makeStream(interest, RetentionPolicy.Interest);
    expect(await openFailure(new NatsJetStreamSource({ url: server.url, stream: interest, columns: COLS }))).to.match(/the stream has interest retention; a training source needs limits or work-queue retention/);
    expect(() => new NatsJetStreamSource({ url: 'redis://x:1', stream: 's', columns: COLS })).to.throw(/"url" must be nats:\/\/host:port/);
    expect(() => new NatsJetStreamSource({ url: server.url, stream: 'a.b', columns: COLS })).to.throw(/"stream" must be a JetStream stream name/);
  });
});
