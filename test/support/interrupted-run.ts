/**
 * The fault tests' way to run `boltzmann` (from the sources) and interrupt it inside training:
 * a signal sent a set time after the child printed its n-th epoch line. A run that neither ends
 * nor reaches its signal in time is killed, and the test fails with what it printed.
 */
import { spawn } from 'node:child_process';
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
