/**
 * A real redis-server for tests: started on a free loopback port with its own temporary
 * folder and no persistence, stopped (and its folder removed) by `stop()`. When the binary is
 * missing it runs scripts/system-packages.sh (as root, where apt-get exists) to install it;
 * otherwise the test fails with a message saying how to install it - never a silent skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A running redis-server. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (append `/1` for database 1). */
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its folder. */
  stop(): Promise<void>;
}

/** The redis-server binary, installed through scripts/system-packages.sh when missing (root + apt-get). */
export function redisServerBinary(): string {
  const found = () => spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  let binary = found();
  if (binary !== '') return binary;
  const canInstall = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get']).status === 0;
  if (canInstall) {
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'system-packages.sh')], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`scripts/system-packages.sh failed (exit ${r.status}) while installing redis-server`);
    binary = found();
    if (binary !== '') return binary;
  }
  throw new Error('redis-server is not installed and cannot be installed here: run `sudo bash scripts/system-packages.sh` (or apt-get install redis-server) before npm test');
}

/** A TCP port free on 127.0.0.1 just now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Starts redis-server on a free loopback port (a few tries, in case another process takes the port first). */
export async function startRedisServer(): Promise<RedisServer> {
  const binary = redisServerBinary();
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'boltzmann-redis-'));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    try {
      await waitReady(child, port, () => output);
      return { port, url: `redis://127.0.0.1:${port}`, stop: () => stop(child, dir) };
    } catch (error) {
      lastError = error as Error;
      await stop(child, dir);
    }
  }
  throw lastError ?? new Error('redis-server did not start');
}

/** Resolves once the server answers PING on `port`; rejects if it exits first or takes over 10 s. */
async function waitReady(child: ChildProcess, port: number, output: () => string): Promise<void> {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}): ${output().trim().split('\n').slice(-3).join(' / ')}`);
    if (await ping(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer on port ${port} within 10 s`);
}

/** Whether a Redis server answers PING on 127.0.0.1:port (raw RESP, no client needed). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    import('node:net').then(({ connect }) => {
      const socket = connect(port, '127.0.0.1');
      let reply = '';
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(1000, () => done(false));
      socket.on('error', () => done(false));
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (c: Buffer) => {
        reply += c.toString();
        if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
      });
    }, () => resolve(false));
  });
}

function stop(child: ChildProcess, dir: string): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    if (child.exitCode !== null || child.signalCode !== null) return finish();
    child.once('exit', finish);
    child.kill('SIGTERM');
  });
}
