/**
 * Signals outside training: a long `sample` or AIS `logz` ends within about a second of SIGINT
 * or SIGTERM (the signal's default action: the shell sees 130 / 143), writes no output and
 * leaves no temp file. (Training's own handling is in fault-injection.test.ts.)
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_FROM_SOURCE, sourceEnv } from './cli-from-source.js';

/** CPU seconds a process has used (Linux: utime + stime of /proc/PID/stat, in ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * Starts the CLI and sends `signal` once the child has used `cpu` seconds of CPU time (past
 * start-up, which takes a few, however loaded the machine: inside the long computation); says
 * how it ended and how long after the signal. A child still running 10 s after the signal is
 * killed (SIGKILL), so a signal that is ignored fails the test rather than hanging it.
 */
function interrupt(cwd: string, args: string[], signal: NodeJS.Signals, cpu: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; secondsAfterSignal: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_FROM_SOURCE, ...args], { cwd, env: sourceEnv(), stdio: 'ignore' });
    let sentAt = NaN;
    let watchdog: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      if (cpuSeconds(child.pid!) < cpu) return;
      clearInterval(poll);
      sentAt = performance.now();
      child.kill(signal);
      watchdog = setTimeout(() => child.kill('SIGKILL'), 10000);
    }, 100);
    child.on('error', reject);
    child.on('close', (code, how) => {
      clearInterval(poll);
      clearTimeout(watchdog);
      resolve({ code, signal: how, secondsAfterSignal: (performance.now() - sentAt) / 1000 });
    });
  });
}

describe('signals in sample and logz: the process ends at once, nothing half-written', function () {
  this.timeout(300000);
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'boltzmann-signals-'));
    const spec = {
      model: { layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'hidden', size: 6 }] },
      data: { source: { type: 'bars-and-stripes', size: 3 }, validationSplit: 0 },
      training: { epochs: 1, batchSize: 2, metrics: [] },
      output: { dir: 'run', samples: { count: 2, steps: 2 }, filters: 0, reconstructions: 0 },
    };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    const r = spawnSync(process.execPath, [...CLI_FROM_SOURCE, 'train', 'spec.json', '--quiet'], { cwd: dir, env: sourceEnv(), encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, string[], NodeJS.Signals][] = [
    ['sample with 10^8 sweeps, SIGINT', ['sample', 'run/model.json', '--steps', '100000000', '--out', 'out/s.png'], 'SIGINT'],
    ['AIS logz with 10^8 betas, SIGTERM', ['logz', 'run/model.json', '--method', 'ais', '--betas', '100000000', '--runs', '100'], 'SIGTERM'],
  ];
  for (const [title, args, signal] of cases) {
    it(title, async function () {
      // Start-up (tsx compiling the sources) uses about 3 s of CPU; at 6 s the child is inside the computation, which alone runs for minutes.
      const r = await interrupt(dir, args, signal, 6);
      expect(r.signal ?? r.code).to.equal(signal);
      expect(r.secondsAfterSignal).to.be.below(2);
      const left = readdirSync(dir, { recursive: true }).map(String);
      expect(left.filter((f) => f.endsWith('.tmp') || f.endsWith('.png') && f.startsWith('out'))).to.deep.equal([]);
    });
  }
});
