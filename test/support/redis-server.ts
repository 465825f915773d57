import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { ready, stopProcess } from './nats-server.js';
import { systemBinary } from './system-binary.js';

/** A real redis-server on a free loopback port, without persistence, in a temporary folder. */
export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/** Starts Debian's `redis-server` (installing it through scripts/system-packages.sh when missing) and waits until it serves. */
export async function startRedisServer(): Promise<RedisServer> {
  const binary = systemBinary('redis-server');
  const dir = mkdtempSync(join(tmpdir(), 'boltzmann-redis-'));
  const port = await freePort();
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await ready(child, /Ready to accept connections/, `redis-server on port ${port}`);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
