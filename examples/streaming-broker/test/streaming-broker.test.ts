import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { runCli } from '@boltzmann/cli';
import { startRedisServer, type RedisServer } from '../../../test/support/redis-server.js';
import { produceDigits } from '../src/producer.js';

const SPEC = join(import.meta.dirname, '..', 'spec.json');

describe('examples/streaming-broker', function () {
  this.timeout(120000);
  let server: RedisServer;
  let dir: string;
  before(async function () {
    server = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), 'streaming-broker-'));
  });
  after(async function () {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs small: the producer writes digits at a steady rate while boltzmann train learns from them and boltzmann watch follows it, nothing left pending', async function () {
    // The example's spec, made small and pointed at this test's server.
    const spec = JSON.parse(readFileSync(SPEC, 'utf8'));
    spec.data.source.url = server.url;
    spec.output.events.url = server.url;
    spec.data.source.create = true; // the trainer may start before the first row
    spec.model.layers[1].size = 16;
    Object.assign(spec.training, { epochs: 3, stepsPerEpoch: 5, metrics: ['reconstructionError'] });
    Object.assign(spec.output, { samples: { count: 4, steps: 2, init: 'random' }, filters: 4 });
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    const rows = 3 * 5 * 20;
    const producing = produceDigits({ url: server.url, stream: 'digits', rate: 3000, count: rows });
    let stderr = '';
    const io = { stdout: { write: () => true }, stderr: { write: (s: string) => void (stderr += s) }, cwd: dir };
    // The third process: watch follows the run's events (it waits for the run to start).
    let watched = '';
    const watching = runCli(['watch', 'spec.json'], { stdout: { write: (s: string) => void (watched += s) }, stderr: { write: () => true }, cwd: dir });
    expect(await runCli(['train', 'spec.json', '--out', 'run'], io), stderr).to.equal(0);
    expect(await watching).to.equal(0);
    expect(watched).to.match(/epoch 3\/3 .*\n(.*\n)*done: completed, 3 epochs, 15 steps/);
    expect(await producing).to.equal(rows);
    const metrics = JSON.parse(readFileSync(join(dir, 'run', 'metrics.json'), 'utf8'));
    expect(metrics.epochs).to.have.length(3);
    expect(metrics.summary.steps).to.equal(15);
    const errors = metrics.epochs.map((e: { reconstructionError: number }) => e.reconstructionError);
    expect(errors[2]).to.be.below(errors[0]);
    const redis = new Redis(server.url);
    try {
      const group = ((await redis.xinfo('GROUPS', 'digits')) as unknown[][])[0]!;
      expect(Number(group[group.indexOf('pending') + 1])).to.equal(0);
      expect(Number(group[group.indexOf('entries-read') + 1])).to.equal(rows);
    } finally {
      redis.disconnect();
    }
  });
});
