/**
 * The fault tests' way to run `boltzmann` (from the sources) and interrupt it inside training:
 * a signal sent a set time after the child printed its n-th epoch line. A run that neither ends
 * nor reaches its signal in time is killed, and the test fails with what it printed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { CounterRng } from '@boltzmann/tensor';
import { encodeRow } from '@boltzmann/pipeline';
import { CLI_FROM_SOURCE, sourceEnv } from '../cli-from-source.js';

/** How a run ended and what it printed on stderr. */
export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** The signal to send, `delayMs` after the child's `afterEpochs`-th epoch line. */
export interface Interruption {
  signal: NodeJS.Signals;
  afterEpochs: number;
  delayMs: number;
}

/** Far longer than any run of these tests takes (seconds), even on a loaded machine. */
const DEADLINE_MS = 90_000;

/** Runs the CLI with `args` in `cwd`; with `kill`, interrupts it as that says. */
export function runInterrupted(cwd: string, args: string[], kill?: Interruption): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_FROM_SOURCE, ...args], { cwd, env: sourceEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let armed = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (kill && !armed && (stderr.match(/^epoch \d+\//gm) ?? []).length >= kill.afterEpochs) {
        armed = true;
        setTimeout(() => child.kill(kill.signal), kill.delayMs);
      }
    });
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`boltzmann ${args.join(' ')} did not end within ${DEADLINE_MS / 1000} s; it printed:\n${stderr.slice(-3000)}`));
    }, DEADLINE_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, stderr });
    });
  });
}

/**
 * The arguments that continue the run writing to `out` from what its last process left: its
 * staged checkpoint (killed), else its committed model (signalled), else `fresh` (nothing yet).
 */
export function continueArgs(out: string, fresh: string[]): string[] {
  const staged = join(out, '.partial', 'model.json');
  const committed = join(out, 'model.json');
  const from = existsSync(staged) ? staged : existsSync(committed) ? committed : undefined;
  return from === undefined ? fresh : ['train', '--resume', from];
}

/** One run of a series: how it was to be interrupted and how it ended. */
export interface InterruptedRun {
  kill: Interruption;
  outcome: Outcome;
}

/**
 * Runs the training of `out` under each interruption in turn, each run continuing from what the
 * last one left (`continueArgs`), until a run ends by itself (`finished`) or the list ends.
 */
export async function interruptSeries(cwd: string, out: string, fresh: string[], kills: readonly Interruption[]): Promise<{ runs: InterruptedRun[]; finished: boolean }> {
  const runs: InterruptedRun[] = [];
  for (const kill of kills) {
    const outcome = await runInterrupted(cwd, continueArgs(out, fresh), kill);
    runs.push({ kill, outcome });
    if (outcome.code === 0) return { runs, finished: true };
  }
  return { runs, finished: false };
}

/** Row i of a broker test's produced sequence: `cols` seeded binary values, encoded float32le. */
export function producedRow(i: number, cols: number): Uint8Array {
  const rng = new CounterRng(99, i);
  return encodeRow(Array.from(rng.uniforms(new Float64Array(cols)), (u) => (u < 0.4 ? 1 : 0)), 'float32le');
}

/** What `interruptWhileProducing` needs from a broker test. */
export interface ProducedRun {
  /** Rows the stream ends with. */
  rows: number;
  /** Rows written before the first run starts. */
  head: number;
  /** Writes rows [from, to) to the live stream (calls are chained, so rows arrive in order). */
  produce(from: number, to: number): Promise<void>;
  /** The interruptions, in order; each is drawn its epoch and delay from a seeded stream. */
  signals: readonly NodeJS.Signals[];
  /** The uninterrupted reference run (`train ref.json`, started by the caller beside this one). */
  reference: Promise<Outcome>;
}

/**
 * Trains `train spec.json` (its output in `cwd`/faults) from a live stream while a producer keeps
 * writing to it (3 rows every 15 ms), interrupting the run with each signal and resuming, then
 * finishes it once every row is written. Checks that each interrupted run ended as its signal
 * says, that at least one was killed by SIGKILL, and that the final model equals the
 * uninterrupted reference's byte for byte. The broker's own bookkeeping is the caller's to check.
 */
export async function interruptWhileProducing(cwd: string, run: ProducedRun): Promise<void> {
  let written = run.head;
  let producing = run.produce(0, written);
  await producing;
  const producer = setInterval(() => {
    if (written >= run.rows) return clearInterval(producer);
    const [from, to] = [written, Math.min(run.rows, written + 3)];
    producing = producing.then(() => run.produce(from, to));
    written = to;
  }, 15);
  const rng = new CounterRng(20261205, 2);
  const out = join(cwd, 'faults');
  const fresh = ['train', 'spec.json'];
  const kills = run.signals.map((signal) => ({ signal, afterEpochs: 1 + Math.floor(rng.uniform() * 3), delayMs: Math.floor(rng.uniform() * 40) }));
  let finished: boolean;
  let killed = 0;
  try {
    const series = await interruptSeries(cwd, out, fresh, kills);
    finished = series.finished;
    for (const { kill: { signal }, outcome: r } of series.runs) {
      if (r.code === 0) continue;
      if (r.signal === 'SIGKILL') killed += 1;
      else expect(r.code, r.stderr).to.equal(signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : null);
    }
  } finally {
    clearInterval(producer);
  }
  await producing;
  await run.produce(written, run.rows);
  if (!finished) {
    const r = await runInterrupted(cwd, continueArgs(out, fresh));
    expect(r.code, r.stderr).to.equal(0);
  }
  expect(killed, 'runs killed by SIGKILL').to.be.at.least(1);
  const uninterrupted = await run.reference;
  expect(uninterrupted.code, uninterrupted.stderr).to.equal(0);
  expect(readFileSync(join(out, 'model.json')).equals(readFileSync(join(cwd, 'ref', 'model.json'))), 'final model equals the uninterrupted one').to.equal(true);
}
