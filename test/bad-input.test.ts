/**
 * A corpus of bad input - specs, CSV, IDX .gz, model files of both versions, hostile sizes,
 * bombs, byte order marks, NaN state - each given to the CLI in a child process. Every case
 * must end with exit code 1 or 2 and one line on stderr naming the file and the problem (no
 * stack), within bounded time and peak memory (the child's own maximum resident set size),
 * and leave the output folder of a previous good run exactly as it was.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { encodeArray, loadModel } from '@boltzmann/core';
import { Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { CLI_MAIN, SOURCE_NODE_OPTIONS, sourceEnv } from './cli-from-source.js';

/** Peak resident memory allowed to a child: the runtime and the library take about 150-250 MB; a bomb or a built huge model would take GBs. */
const MAX_RSS_MB = 600;

interface Result {
  code: number | null;
  stderr: string;
  maxRssMb: number;
  seconds: number;
}

/** Runs the CLI in a child that reports its own peak resident set size when it exits. */
function cli(cwd: string, args: string[]): Promise<Result> {
  const wrapper = `import { writeSync } from 'node:fs';
process.on('exit', () => writeSync(2, '\\nmaxrss=' + process.resourceUsage().maxRSS + '\\n'));
await import(${JSON.stringify(pathToFileURL(CLI_MAIN).href)});`;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...SOURCE_NODE_OPTIONS, '--input-type=module', '-e', wrapper, '--', 'boltzmann', ...args], { cwd, env: sourceEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /\nmaxrss=(\d+)\n$/.exec(stderr);
      resolve({ code, stderr: m ? stderr.slice(0, m.index) : stderr, maxRssMb: m ? Number(m[1]) / 1024 : NaN, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** `header` then `zeros` zero bytes, gzipped in a stream (the test process never holds the zeros). */
async function gzipZeros(header: Buffer, zeros: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gz.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(gz, 'end');
  gz.write(header);
  const block = Buffer.alloc(16 * 1024 * 1024);
  for (let n = 0; n < zeros; n += block.length) if (!gz.write(block)) await once(gz, 'drain');
  gz.end();
  await ended;
  return Buffer.concat(chunks);
}

/** Every file under `dir` with its bytes (to see that nothing changed). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    out[path.slice(dir.length + 1)] = readFileSync(path).toString('base64');
  }
  return out;
}

describe('bad-input corpus: one-line errors, bounded time and memory, the output folder untouched', function () {
  this.timeout(600000);
  let dir: string;
  let good: Record<string, string>;
  const base = {
    model: { layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'hidden', size: 6 }] },
    data: { source: { type: 'bars-and-stripes', size: 3 }, validationSplit: 0 },
    training: { epochs: 2, batchSize: 2, checkpointEvery: 1, learningRate: 0.1, metrics: [] },
    output: { dir: 'good', samples: { count: 2, steps: 2 }, filters: 0, reconstructions: 0 },
    seed: 5,
  };

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'boltzmann-bad-input-'));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(base));
    const r = await cli(dir, ['train', 'spec.json', '--quiet']);
    expect(r.code, r.stderr).to.equal(0);
    good = snapshot(join(dir, 'good'));
    const doc = (edit: (text: string) => string) => edit(JSON.stringify(base));
    const model = readFileSync(join(dir, 'good', 'model.json'));
    const headerBytes = model.readUInt32LE(8);
    const header = JSON.parse(model.subarray(16, 16 + headerBytes).toString('utf8'));
    /** The good model as a version 1 JSON document, for edits. */
    const v1 = (): any => {
      const loaded = loadModel(join(dir, 'good', 'model.json'), new ReferenceBackend());
      const arrays = (group: Record<string, { shape: [number, number]; offset: number; dtype: string }>) =>
        Object.fromEntries(
          Object.entries(group).map(([name, e]) => {
            const start = 16 + headerBytes + e.offset;
            const bytes = new Uint8Array(model.subarray(start, start + e.shape[0] * e.shape[1] * 4));
            return [name, encodeArray(new Matrix(e.shape[0], e.shape[1], new Float32Array(bytes.slice().buffer)))];
          }),
        );
      loaded.model.dispose();
      const h = JSON.parse(JSON.stringify(header)); // each case edits its own copy
      return { ...h, version: 1, dataBytes: undefined, parameters: arrays(header.parameters), training: { ...h.training, optimizer: arrays(header.training.optimizer), estimator: arrays(header.training.estimator), regularizers: arrays(header.training.regularizers) } };
    };
    const files: Record<string, string | Uint8Array> = {
      'dup.json': doc((t) => t.replace('"seed":5', '"seed":5,"seed":6')),
      'bom.json': `\ufeff${doc((t) => t.replace('"learningRate":0.1', '"learningRate":-3'))}`,
      'inf.json': doc((t) => t.replace('"learningRate":0.1', '"learningRate":1e999')),
      'nan.yaml': 'training:\n  learningRate: .nan\n',
      'deep.json': `${'['.repeat(5000)}${']'.repeat(5000)}`,
      'bomb.yaml': 'a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n',
      'bad.csv': '1,0,1,0,1,0,1,0,1\n0,1,0,1,0,1,0,1,0\n1,x,1,0,1,0,1,0,1\n',
      // A number outside the Bernoulli units' [0, 1] on line 5 (the shuffle would move its row).
      'range.csv': 'a,b,c,d,e,f,g,h,i\n1,0,1,0,1,0,1,0,1\n0,1,0,1,0,1,0,1,0\n\n1,0,1,2,1,0,1,0,1\n0,0,0,1,1,1,0,0,0\n',
      'range-spec.json': JSON.stringify({ ...base, data: { source: { type: 'csv', path: 'range.csv' }, validationSplit: 0 } }),
      'dev-zero-spec.json': JSON.stringify({ ...base, data: { source: { type: 'csv', path: '/dev/zero' }, validationSplit: 0, limit: 10 } }),
      // 768 MB of zeros in under 1 MB: decompressed whole, it alone would exceed the memory bound.
      'bomb-idx.gz': await gzipZeros(Buffer.from([0, 0, 0x08, 2, 0, 0, 0, 3, 0, 0, 0, 3]), 768 * 1024 * 1024),
      'truncated.bin': model.subarray(0, model.length - 5),
      'huge-header.bin': Buffer.concat([model.subarray(0, 8), Buffer.from([0xff, 0xff, 0xff, 0x7f]), model.subarray(12)]),
    };
    const hugeLayer = v1();
    hugeLayer.model.layers[1].size = 300000;
    delete hugeLayer.parameters['hidden.bias'];
    files['huge-layer.json'] = JSON.stringify(hugeLayer);
    const nanState = v1();
    const velocity = nanState.training.optimizer['velocity:visible-hidden.weights'];
    const m = Matrix.zeros(velocity.shape[0], velocity.shape[1], 'float32');
    m.data[4] = NaN;
    nanState.training.optimizer['velocity:visible-hidden.weights'] = encodeArray(m);
    files['nan-state/model.json'] = JSON.stringify(nanState);
    const negative = v1();
    negative.training.config.learningRate = { type: 'constant', value: -1 };
    files['negative-lr/model.json'] = JSON.stringify(negative);
    const nanChain = v1();
    const chainName = Object.keys(nanChain.training.estimator)[0]!; // PCD's persistent chain (the spec's default estimator)
    const chain = nanChain.training.estimator[chainName];
    const c = Matrix.zeros(chain.shape[0], chain.shape[1], 'float32');
    c.data[1] = NaN;
    nanChain.training.estimator[chainName] = encodeArray(c);
    files['nan-chain/model.json'] = JSON.stringify(nanChain);
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    for (const folder of ['nan-state', 'nan-chain', 'negative-lr']) writeFileSync(join(dir, folder, 'spec.json'), readFileSync(join(dir, 'good', 'spec.json')));
    writeFileSync(join(dir, 'a-file'), 'not a folder');
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, string[], RegExp, number][] = [
    ['JSON spec with a duplicate key', ['train', 'dup.json', '--out', 'good'], /spec file ".*dup\.json" gives the key "seed" twice in one object \(line 1, column \d+\)/, 1],
    ['JSON spec with a UTF-8 BOM (read) and a negative learning rate', ['train', 'bom.json', '--out', 'good'], /bom\.json.*training\.learningRate: must be a finite number in \[0, Infinity\], got -3/, 1],
    ['JSON spec with 1e999', ['train', 'inf.json', '--out', 'good'], /inf\.json.*training\.learningRate: must be a finite number .* got Infinity/, 1],
    ['YAML spec with .nan', ['train', 'nan.yaml', '--out', 'good'], /nan\.yaml.*training\.learningRate: must be a finite number .* got NaN/, 1],
    ['a deeply nested spec', ['train', 'deep.json', '--out', 'good'], /spec file ".*deep\.json" nests objects or arrays more than 64 levels deep/, 1],
    ['a YAML alias bomb', ['train', 'bomb.yaml', '--out', 'good'], /spec file ".*bomb\.yaml" is not a plain YAML document: Excessive alias count/, 1],
    ['CSV with a value that is not a number', ['evaluate', 'good/model.json', '--data', 'csv:bad.csv'], /bad\.csv: line 3, column 2: "x" is not a number/, 1],
    ['CSV with a value outside the visible units\' range: named by file and line, not by its row after the shuffle', ['train', 'range-spec.json', '--out', 'good'], /model\.layers\[0\]: .*must lie in \[0, 1\], got 2 at .*range\.csv line 5, col 3/, 1],
    ['--data csv:/dev/zero (a device without line breaks)', ['evaluate', 'good/model.json', '--data', 'csv:/dev/zero', '--limit', '10'], /\/dev\/zero: line 1 runs past 16777216 bytes without a line break/, 1],
    ['a spec reading csv:/dev/zero with data.limit', ['train', 'dev-zero-spec.json', '--out', 'good'], /\/dev\/zero: line 1 runs past 16777216 bytes without a line break/, 1],
    ['an IDX .gz bomb (768 MB of zeros behind a 3 x 3 header)', ['evaluate', 'good/model.json', '--data', 'idx:bomb-idx.gz'], /bomb-idx\.gz: decompresses to more than the 21 bytes its header declares/, 1],
    ['a truncated binary model file', ['evaluate', 'truncated.bin'], /model file ".*truncated\.bin" holds \d+ bytes; its header says \d+ \(truncated\)/, 1],
    ['a model header length of 2 GB', ['evaluate', 'huge-header.bin'], /model file ".*huge-header\.bin" declares a \d+-byte header, over the limit/, 1],
    ['a JSON model declaring 300,000 hidden units', ['evaluate', 'huge-layer.json'], /layer "hidden" in model file ".*huge-layer\.json" declares 300000 units, more than any array in the file holds/, 1],
    ['NaN in the optimizer state of a resumed model', ['train', '--resume', 'nan-state/model.json', '--out', 'good'], /optimizer state "velocity:visible-hidden\.weights" in model file ".*nan-state\/model\.json" has NaN/, 1],
    ['NaN in the persistent chain of a resumed model', ['train', '--resume', 'nan-chain/model.json', '--out', 'good'], /estimator state "[^"]+" in model file ".*nan-chain\/model\.json" has NaN/, 1],
    ['a learning rate of -1 inside a model file', ['train', '--resume', 'negative-lr/model.json', '--out', 'good'], /negative-lr\/model\.json.*learningRate schedule \("constant"\) has value -1/, 1],
    ['--out naming a file', ['train', 'spec.json', '--out', 'a-file'], /output folder ".*a-file" is a file/, 1],
    ['--resume with an option that changes the run', ['train', '--resume', 'good/model.json', '--learning-rate', '0.5'], /--learning-rate would make it another run/, 2],
  ];

  for (const [title, args, pattern, code] of cases) {
    it(title, async function () {
      const r = await cli(dir, args);
      expect(r.code, r.stderr).to.equal(code);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).to.have.length(1);
      expect(lines[0], r.stderr).to.match(pattern);
      expect(r.maxRssMb, 'peak memory of the child (MB)').to.be.below(MAX_RSS_MB);
      expect(r.seconds).to.be.below(120);
      expect(snapshot(join(dir, 'good'))).to.deep.equal(good);
    });
  }

  it('a second run on a folder in use is refused, naming the holder', async function () {
    writeFileSync(join(dir, 'good', '.boltzmann.lock'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), command: 'boltzmann train', started: 'now' }));
    try {
      const r = await cli(dir, ['train', 'spec.json', '--out', 'good']);
      expect(r.code).to.equal(1);
      expect(r.stderr.trimEnd()).to.match(new RegExp(`^boltzmann train: BoltzmannError: output folder ".*good" is in use by process ${process.pid} on .* \\(boltzmann train, started now\\)`));
    } finally {
      rmSync(join(dir, 'good', '.boltzmann.lock'));
    }
    expect(snapshot(join(dir, 'good'))).to.deep.equal(good);
  });
});
