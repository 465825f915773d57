/**
 * The fault tests' way to run `boltzmann` (from the sources) and interrupt it inside training:
 * a signal sent a set time after the child printed its n-th epoch line. A run that neither ends
 * nor reaches its signal in time is killed, and the test fails with what it printed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
