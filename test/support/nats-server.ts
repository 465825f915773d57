import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { systemBinary } from './system-binary.js';

/** A real nats-server with JetStream, on a free loopback port, storing into a temporary folder. */
export interface NatsServer {
  /** nats://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Stops the server and removes its store. */
  stop(): Promise<void>;
}

/** Starts Debian's `nats-server -js` (installing it through scripts/system-packages.sh when missing) and waits until it serves. */
export async function startNatsServer(): Promise<NatsServer> {
  const binary = systemBinary('nats-server');
  const store = mkdtempSync(join(tmpdir(), 'boltzmann-nats-'));
  const port = await freePort();
  const child = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await ready(child, /Server is ready/, `nats-server on port ${port}`);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(store, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      await stopProcess(child);
      rmSync(store, { recursive: true, force: true });
    },
  };
}

/** Resolves when the child writes `pattern` to stderr; rejects if it exits first or takes over 10 s. */
export function ready(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => fail(new Error(`${what} did not start in 10 s: ${log.slice(-500)}`)), 10_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    child.on('exit', (code) => fail(new Error(`${what} exited (${String(code)}) before it was ready: ${log.slice(-500)}`)));
    child.on('error', fail);
    const watch = (chunk: Buffer) => {
      log += chunk.toString();
      if (pattern.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr?.on('data', watch);
    child.stdout?.on('data', watch);
  });
}

/** SIGTERM, then waits for the exit (SIGKILL after 5 s). */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
