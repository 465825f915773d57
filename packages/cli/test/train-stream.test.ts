/**
 * `boltzmann train` on a stream source (a Redis stream): what the spec must say (stepsPerEpoch,
 * checkpoints, nothing held out), the source's options checked, and a broker that is down as
 * one line naming the URL. Training from a live server is test/broker-exactly-once.test.ts and
 * examples/streaming-broker.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '@boltzmann/cli';
import { memoryIO } from './helpers.js';

/** A loopback port with nothing listening on it. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('boltzmann train from a stream source', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'cli-stream-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs train on a spec with a redis-stream source (pieces replaced by `change`); exit code and stderr. */
  async function trainWith(url: string, change: (spec: Record<string, any>) => void = () => undefined): Promise<{ code: number; stderr: string }> {
    const spec: Record<string, any> = {
      model: { layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'hidden', size: 4 }] },
      data: { source: { type: 'redis-stream', url, stream: 'rows', group: 'g', connectTimeoutMs: 2000 }, validationSplit: 0 },
      training: { epochs: 1, stepsPerEpoch: 2, batchSize: 5, checkpointEvery: 1, metrics: [] },
      output: { samples: { count: 2, steps: 1, init: 'random' }, filters: 0, reconstructions: 0 },
    };
    change(spec);
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    const m = memoryIO(dir);
    const code = await runCli(['train', 'spec.json', '--out', 'out', '--quiet'], m.io);
    return { code, stderr: m.stderr() };
  }

  it('a broker that is down: exit 1 and one line naming the URL', async function () {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const r = await trainWith(url);
    expect(r.code).to.equal(1);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(new RegExp(`^boltzmann train: BoltzmannError: cannot reach Redis at ${url.replace(/[.]/g, '\\.')}: .*ECONNREFUSED`));
  });

  it('the spec of a stream run: stepsPerEpoch required, checkpoints on, nothing held out or limited; each problem at its field', async function () {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const r = await trainWith(url, (s) => {
      delete s['training'].stepsPerEpoch;
      s['training'].checkpointEvery = 0;
      s['data'].validationSplit = 0.1;
      s['data'].limit = 100;
    });
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.include('training.stepsPerEpoch: is required with the stream source "redis-stream"');
    expect(r.stderr).to.include('training.checkpointEvery: must be at least 1 with the stream source "redis-stream"');
    expect(r.stderr).to.include('data.validationSplit: must be 0 with the stream source "redis-stream"');
    expect(r.stderr).to.include('data.limit: is for resident data');
    const resident = await trainWith(url, (s) => {
      s['data'] = { source: { type: 'bars-and-stripes', size: 3 } };
    });
    expect(resident.stderr).to.include('training.stepsPerEpoch: is for stream sources; "bars-and-stripes" data has ceil(rows / batchSize) steps per epoch');
  });

  it('the source\'s options are checked before anything connects', async function () {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const cases: [(s: Record<string, any>) => void, RegExp][] = [
      [(s) => (s['data'].source.grup = 'x'), /data\.source: data source "redis-stream" has an unknown option "grup".*did you mean "group"/],
      [(s) => delete s['data'].source.stream, /data\.source: "stream" must be a non-empty string, got nothing/],
      [(s) => (s['data'].source.url = 'http://127.0.0.1:6379'), /"url" must be redis:\/\/host:port/],
      [(s) => (s['data'].source.encoding = 'f32'), /"encoding" must be one of "float32le", "json", got "f32"/],
      [(s) => (s['data'].source.deadLetter = 'rows'), /"deadLetter" must be another stream than "stream"/],
      [(s) => (s['data'].source.imageShape = [3, 4]), /"imageShape" must be \[height, width\] with height \* width = 9/],
      [(s) => (s['training'].stepsPerEpoch = 0), /training\.stepsPerEpoch: must be an integer >= 1, got 0/],
    ];
    for (const [change, message] of cases) {
      const r = await trainWith(url, change);
      expect(r.code, r.stderr).to.not.equal(0);
      expect(r.stderr, String(message)).to.match(message);
      expect(r.stderr).to.not.match(/cannot reach/);
    }
  });
});
