/**
 * Fault injection: a `boltzmann train` run with a checkpoint every epoch is interrupted at about
 * 20 seeded random moments - SIGKILL (nothing can be saved: the last checkpoint must be whole),
 * SIGTERM and SIGINT (a final checkpoint of the state at hand) - and resumed each time from what
 * it left. The final model must equal an uninterrupted run's byte for byte, and no temp file,
 * lock or staging folder may be left.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CounterRng } from '@boltzmann/tensor';
import { continueArgs, interruptSeries, runInterrupted } from './support/interrupted-run.js';

const EPOCHS = 60;

/** Every file under `dir`, relative paths. */
function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1));
}

describe('fault injection: kill -9, SIGTERM and SIGINT at seeded random moments, then resume', function () {
  this.timeout(600000);
  let dir: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'boltzmann-faults-'));
    const spec = {
      model: { layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'hidden', size: 6 }] },
      data: { source: { type: 'bars-and-stripes', size: 3 }, validationSplit: 0 },
      training: { epochs: EPOCHS, batchSize: 2, checkpointEvery: 1, learningRate: 0.1, metrics: [] },
      output: { dir: 'ref', samples: { count: 2, steps: 2 }, filters: 0, reconstructions: 0 },
      seed: 5,
    };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('one SIGKILL, SIGTERM or SIGINT inside training, then resume: the uninterrupted run\'s model, byte for byte, and no temp file, lock or staging folder', async function () {
    const reference = join(dir, 'ref', 'model.json');
    if (!existsSync(reference)) expect((await runInterrupted(dir, ['train', 'spec.json'])).code).to.equal(0);
    const expected = readFileSync(reference);
    for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT'] as const) {
      for (const delayMs of [0, 15]) {
        const name = `single-${signal}-${delayMs}`;
        const out = join(dir, name);
        const r = await runInterrupted(dir, ['train', 'spec.json', '--out', name], { signal, afterEpochs: 2, delayMs });
        expect(r.code === 0, `${name}: the run ended before the signal`).to.equal(false);
        const staged = join(out, '.partial', 'model.json');
        const resumed = await runInterrupted(dir, ['train', '--resume', existsSync(staged) ? staged : join(out, 'model.json')]);
        expect(resumed.code, resumed.stderr).to.equal(0);
        expect(readFileSync(join(out, 'model.json')).equals(expected), `${name}: final model equals the uninterrupted one`).to.equal(true);
        expect(allFiles(out).filter((f) => f.startsWith('.') || f.includes('/.') || f.endsWith('.tmp')), name).to.deep.equal([]);
      }
    }
  });

  it('ends with the uninterrupted run\'s model, byte for byte, and leaves no temp file, lock or staging folder', async function () {
    const reference = await runInterrupted(dir, ['train', 'spec.json']);
    expect(reference.code, reference.stderr).to.equal(0);
    const expected = readFileSync(join(dir, 'ref', 'model.json'));

    const rng = new CounterRng(20261205, 1);
    const signals: NodeJS.Signals[] = ['SIGKILL', 'SIGKILL', 'SIGTERM', 'SIGKILL', 'SIGINT'];
    const out = join(dir, 'faults');
    const committed = join(out, 'model.json');
    const fresh = ['train', 'spec.json', '--out', 'faults'];
    const kills = Array.from({ length: 20 }, (_, i) => ({ signal: signals[i % signals.length]!, afterEpochs: 1 + Math.floor(rng.uniform() * 3), delayMs: Math.floor(rng.uniform() * 30) }));
    const { runs, finished } = await interruptSeries(dir, out, fresh, kills);
    const seen = { savedOnSignal: 0 };
    for (const { kill: { signal, delayMs }, outcome: r } of runs) {
      if (r.code === 0) continue; // the run ended before the signal came
      if (r.code === 130 || r.code === 143) {
        expect(r.code).to.equal(signal === 'SIGINT' ? 130 : 143);
        expect(r.stderr).to.match(/interrupted \(SIG(INT|TERM)\) at step \d+/);
        seen.savedOnSignal += 1;
      } else expect(r.signal, `${signal} after ${delayMs} ms: ${r.stderr}`).to.equal(signal); // killed outright (SIGKILL, or a signal outside training)
    }
    if (!finished) {
      const r = await runInterrupted(dir, continueArgs(out, fresh));
      expect(r.code, r.stderr).to.equal(0);
    }
    expect(seen.savedOnSignal, 'runs that saved a final checkpoint on SIGTERM/SIGINT').to.be.above(0);
    expect(readFileSync(committed).equals(expected), 'final model equals the uninterrupted one').to.equal(true);
    expect(allFiles(out).filter((f) => f.startsWith('.') || f.includes('/.') || f.endsWith('.tmp'))).to.deep.equal([]);
  });
});
