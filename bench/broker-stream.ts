/**
 * Rows per second from a Redis stream and from NATS JetStream into the CPU trainer, beside the
 * same rows from memory, so the broker's overhead is a number. One JSON line per measurement:
 *
 *   npx tsx --conditions=@boltzmann/source bench/broker-stream.ts [--rows 20000] [--batch 100] [--hidden 128] [--rounds 3]
 *
 * A redis-server is started on a free loopback port (as the tests do). The stream is filled
 * with the bundled MNIST digits (784 float32 values per entry) before each measurement, then
 * the same RBM (CD-1, fresh for each measurement, same seed) trains once over all rows:
 *
 * - "memory": `train()` on `fromArray` of the rows' batches (already in memory);
 * - "redis": `train()` on a `RedisStreamSource` (XREADGROUP of one batch per step, decoding,
 *   the position carried into the trainer), no checkpoints: the source's own cost;
 * - "redis+checkpoints": the same with a checkpoint every 50 steps, each acknowledging what it
 *   holds (what exactly-once costs: a model file written and fsynced per checkpoint);
 * - "redis-read": the source alone, reading and acknowledging every batch, no training (the
 *   broker's ceiling on this machine);
 * - "nats", "nats+checkpoints", "nats-read": the same through a `NatsJetStreamSource` (a
 *   nats-server -js started like the redis-server; a fresh JetStream stream per measurement,
 *   one fetch of a batch per step, acknowledgements confirmed by the server).
 *
 * All run interleaved, `--rounds` times, so a machine whose speed drifts affects each alike.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { lastValueFrom } from 'rxjs';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { RBM, Trainer } from '@boltzmann/core';
import { loadDigits } from '@boltzmann/data';
import { NatsJetStreamSource, RedisStreamSource, encodeRow, fromArray, train, type BrokerSource } from '@boltzmann/pipeline';
import type { Matrix } from '@boltzmann/tensor';
import { startNatsServer } from '../test/support/nats-server.js';
import { startRedisServer } from '../test/support/redis-server.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const batch = option('batch', 100);
const hidden = option('hidden', 128);
const rounds = option('rounds', 3);
const digits = loadDigits().images;
const steps = Math.floor(option('rows', 20000) / batch);
const rows = steps * batch;
const payloads = Array.from({ length: rows }, (_, i) => Buffer.from(encodeRow(digits.row(i % digits.rows), 'float32le')));
const batches: Matrix[] = Array.from({ length: steps }, (_, s) => {
  const start = (s * batch) % digits.rows;
  return start + batch <= digits.rows ? digits.sliceRows(start, start + batch) : digits.gatherRows(Uint32Array.from({ length: batch }, (_, i) => (start + i) % digits.rows));
});

const server = await startRedisServer();
const redis = new Redis(server.url);
const natsServer = await startNatsServer();
const nc = await connect({ servers: natsServer.url });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
const dir = mkdtempSync(join(tmpdir(), 'bench-broker-'));
const backend = new CpuBackend();
let streamNumber = 0;

/** A fresh stream holding every row, and its name. */
async function fill(): Promise<string> {
  const stream = `digits-${++streamNumber}`;
  for (let i = 0; i < rows; i += 1000) {
    const pipe = redis.pipeline();
    for (let j = i; j < Math.min(rows, i + 1000); j++) pipe.xadd(stream, '*', 'row', payloads[j]!);
    await pipe.exec();
  }
  return stream;
}

/** A fresh JetStream stream holding every row, and its name. */
async function fillNats(): Promise<string> {
  const stream = `digits-${++streamNumber}`;
  await jsm.streams.add({ name: stream, subjects: [stream] });
  for (let i = 0; i < rows; i += 1000) await Promise.all(payloads.slice(i, i + 1000).map((p) => js.publish(stream, p)));
  return stream;
}

function session() {
  const model = RBM.create(backend, { visible: 784, hidden, seed: 1 });
  return { model, trainer: new Trainer(model, { batchSize: batch, seed: 1, learningRate: 0.05, shuffle: false }) };
}

type Source = 'memory' | 'redis' | 'redis+checkpoints' | 'redis-read' | 'nats' | 'nats+checkpoints' | 'nats-read';

async function measure(source: Source, round: number): Promise<void> {
  const nats = source.startsWith('nats');
  const stream = source === 'memory' ? '' : nats ? await fillNats() : await fill();
  const brokerSource = (): BrokerSource => (nats ? new NatsJetStreamSource({ url: natsServer.url, stream, columns: 784 }) : new RedisStreamSource({ url: server.url, stream, group: 'bench', columns: 784 }));
  const started = performance.now();
  if (source === 'redis-read' || source === 'nats-read') {
    const s = brokerSource();
    await s.open();
    for (let i = 0; i < steps; i++) await s.acknowledge((await s.next(batch))!.position);
    await s.close();
  } else {
    const { model, trainer } = session();
    const data = source === 'memory' ? fromArray(batches) : brokerSource();
    const checkpoint = source.endsWith('+checkpoints') ? { checkpoint: { path: join(dir, 'bench.json'), everySteps: 50 } } : {};
    await lastValueFrom(train({ model, trainer, data, stepsPerEpoch: steps, epochs: 1 }, { ...checkpoint, monitor: { freeEnergy: false, pseudoLikelihood: false } }));
    model.dispose();
    trainer.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  if (stream !== '' && nats) await Promise.all([jsm.streams.delete(stream), jsm.streams.delete(`${stream}-dead`)]);
  else if (stream !== '') await redis.del(stream);
  console.log(JSON.stringify({ bench: 'broker-stream', source, round, rows, batch, hidden, seconds: Number(seconds.toFixed(3)), rowsPerSecond: Math.round(rows / seconds) }));
}

try {
  for (let round = 1; round <= rounds; round++) {
    for (const source of ['memory', 'redis', 'redis+checkpoints', 'redis-read', 'nats', 'nats+checkpoints', 'nats-read'] as const) await measure(source, round);
  }
} finally {
  redis.disconnect();
  await server.stop();
  await nc.close();
  await natsServer.stop();
  backend.destroy();
  rmSync(dir, { recursive: true, force: true });
}
