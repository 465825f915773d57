/**
 * `boltzmann train --events` / output.events and `boltzmann watch`, in-process, against real
 * redis-server and nats-server: watch prints the lines train's progress bar prints, ends with
 * the run, replays a finished run, says when a broker is down, and stops on SIGINT.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runCli, type CliIO } from '@boltzmann/cli';
import { startNatsServer, type NatsServer } from '../../../test/support/nats-server.js';
import { startRedisServer, type RedisServer } from '../../../test/support/redis-server.js';
import { freePort } from '../../../test/support/free-port.js';
import { memoryIO } from './helpers.js';

/** 3x3 bars and stripes, a 9 x 4 RBM, 3 epochs of CD-1 with a checkpoint each epoch. */
const SPEC = {
  model: { layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'hidden', size: 4 }], weightStd: 0.1 },
  training: { epochs: 3, batchSize: 10, learningRate: 0.1, estimator: { type: 'cd', k: 1 }, checkpointEvery: 1 },
  data: { source: { type: 'bars-and-stripes', size: 3, count: 200 }, validationSplit: 0.2 },
  seed: 11,
  output: { dir: 'run', samples: { count: 4, steps: 5 }, filters: 4, reconstructions: 4 },
};

/** The lines a progress bar writes for epochs, checkpoints and the end (train's bar without its live line). */
function progressLines(text: string): string[] {
  return text.split('\n').filter((l) => /^(epoch \d|checkpoint |done: |early stop |failed: )/.test(l));
}

describe('cli: train --events and watch', function () {
  this.timeout(60_000);
  let dir: string;
  let redis: RedisServer;
  let nats: NatsServer;

  async function cli(args: string[], extra: Partial<CliIO> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const m = memoryIO(dir);
    const code = await runCli(args, { ...m.io, ...extra });
    return { code, stdout: m.stdout(), stderr: m.stderr() };
  }

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'boltzmann-watch-'));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(SPEC));
    [redis, nats] = await Promise.all([startRedisServer(), startNatsServer()]);
  });
  after(async function () {
    await Promise.all([redis?.stop(), nats?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('watch, started before the run, prints what train prints and exits 0 when the run finishes (Redis, --events)', async function () {
    const address = `${redis.url}/run-a`;
    const watching = cli(['watch', address]);
    await new Promise((r) => setTimeout(r, 200));
    const trained = await cli(['train', 'spec.json', '--events', address, '--out', 'a']);
    expect(trained.code, trained.stderr).to.equal(0);
    expect(trained.stderr).to.match(/events: publishing to redis:\/\/127\.0\.0\.1:\d+\/run-a \(run [0-9a-f-]{36}\); follow with: boltzmann watch redis/);
    expect(trained.stderr).to.match(/events: 56 published\n/); // started + 16 steps x 3 + 3 epoch ends + 3 checkpoints + finished
    const watched = await watching;
    expect(watched.code, watched.stderr).to.equal(0);
    expect(watched.stdout).to.match(/^run [0-9a-f-]{36} \(since \d{4}-/);
    const lines = progressLines(watched.stdout);
    expect(lines).to.have.length(7);
    expect(lines).to.deep.equal(progressLines(trained.stderr));
    expect(lines.at(-1)).to.match(/^done: completed, 3 epochs, 48 steps in /);
  });

  it('a run spec\'s output.events on NATS: watch given the spec replays the finished run and exits 0', async function () {
    const spec = { ...SPEC, output: { ...SPEC.output, dir: 'b', events: { type: 'nats-jetstream', url: nats.url, subject: 'boltzmann.run-b', include: ['started', 'epoch-end', 'finished'], run: 'run-b' } } };
    writeFileSync(join(dir, 'nats-spec.json'), JSON.stringify(spec));
    const trained = await cli(['train', 'nats-spec.json']);
    expect(trained.code, trained.stderr).to.equal(0);
    expect(trained.stderr).to.match(/events: 5 published\n/);
    const watched = await cli(['watch', 'nats-spec.json']);
    expect(watched.code, watched.stderr).to.equal(0);
    expect(watched.stdout.split('\n')[0]).to.match(/^run run-b \(since /);
    expect(progressLines(watched.stdout)).to.deep.equal(progressLines(trained.stderr).filter((l) => !l.startsWith('checkpoint')));
  });

  it('a broker that is down: train refuses to start, watch exits 1, each with one line naming the URL', async function () {
    const port = await freePort();
    const trained = await cli(['train', 'spec.json', '--events', `redis://127.0.0.1:${port}/x`, '--out', 'c']);
    expect(trained.code).to.equal(1);
    expect(trained.stderr).to.match(new RegExp(`boltzmann train: BrokerError: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(existsSync(join(dir, 'c', 'model.json'))).to.equal(false);
    const watched = await cli(['watch', `nats://127.0.0.1:${port}/x`]);
    expect(watched.code).to.equal(1);
    expect(watched.stderr).to.match(new RegExp(`boltzmann watch: BrokerError: cannot reach NATS at nats://127\\.0\\.0\\.1:${port}: `));
  });

  it('watch waiting for a run stops on SIGINT with 130; a bad address is a usage error', async function () {
    const controller = new AbortController();
    const watching = cli(['watch', `${redis.url}/nothing-yet`], { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    controller.abort('SIGINT');
    const watched = await watching;
    expect(watched.code).to.equal(130);
    expect(watched.stderr).to.match(/interrupted \(SIGINT\)\n$/);
    const bad = await cli(['watch', 'redis://127.0.0.1:6379']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/^boltzmann watch: ADDRESS: "redis:\/\/127\.0\.0\.1:6379" is no event address; write redis:\/\/HOST:PORT\/STREAM or nats:\/\/HOST:PORT\/SUBJECT\n$/);
    const noEvents = await cli(['watch', 'spec.json']);
    expect(noEvents.code).to.equal(2);
    expect(noEvents.stderr).to.match(/spec\.json has no output\.events to follow/);
  });
});
