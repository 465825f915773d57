import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BoltzmannError } from './errors.js';

/** A write error naming the file being written (ENOSPC in the middle of an array names no file by itself). */
function writeError(path: string, error: unknown): unknown {
  const e = error as NodeJS.ErrnoException;
  if (typeof e?.code !== 'string' || typeof e.syscall !== 'string') return error;
  const why: Record<string, string> = { ENOSPC: 'no space left on the device', EISDIR: 'it is a directory', ENOTDIR: 'a part of its path is a file', EACCES: 'permission denied', EROFS: 'read-only file system', EDQUOT: 'disk quota exceeded' };
  return Object.assign(new BoltzmannError(`cannot write "${path}": ${why[e.code] ?? e.message} (${e.code}); the previous file, if any, is unchanged`), { code: e.code });
}

/** Temp files being written by this process, removed by `removeTempFilesInFlight` (on exit). */
const inFlight = new Set<string>();

/** `.<name>.<pid>.<time>.tmp`: the pid says which process wrote it, so a later run can tell a dead writer's leftovers. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.(\d+)\.tmp$/;

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}

/**
 * Writes `path` so that a reader sees either the old file or the whole new one, never a
 * half-written file: `write` fills a temp file beside it (given its descriptor), then the file
 * is fsynced and renamed over `path`. On any failure the temp file is removed and the error
 * rethrown; if the process exits meanwhile, `removeTempFilesInFlight` (run on exit by the CLI)
 * removes it, and a killed process's leftovers are removed by `removeStaleTempFiles`.
 */
export async function writeFileAtomicWith(path: string, write: (fd: number) => Promise<void> | void): Promise<void> {
  const file = new TempFile(path);
  try {
    await write(file.fd);
    file.commit();
  } catch (error) {
    file.abandon(error);
  }
}

/** The temp file beside `path` that an atomic write fills, tracked until it is renamed over `path` or removed. */
class TempFile {
  private readonly temp: string;
  private open: number | undefined;

  constructor(private readonly path: string) {
    this.temp = tempPathFor(path);
    inFlight.add(this.temp);
    try {
      this.open = openSync(this.temp, 'w');
    } catch (error) {
      this.abandon(error);
    }
  }

  get fd(): number {
    return this.open!;
  }

  /** fsync, close, rename over the target. */
  commit(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.open = undefined;
    renameSync(this.temp, this.path);
    inFlight.delete(this.temp);
  }

  /** Closes and removes the temp file, then throws the write error naming the target. */
  abandon(error: unknown): never {
    if (this.open !== undefined) closeSync(this.open);
    this.open = undefined;
    rmSync(this.temp, { force: true });
    inFlight.delete(this.temp);
    throw writeError(this.path, error);
  }
}

/** Writes all of `bytes` at the file position `position` (or the current one when null). */
export function writeAll(fd: number, bytes: Uint8Array, position: number | null = null): void {
  let offset = 0;
  while (offset < bytes.length) {
    const n = writeSync(fd, bytes, offset, bytes.length - offset, position === null ? null : position + offset);
    offset += n;
  }
}

/**
 * Writes `data` to `path` so that a reader sees either the old file or the whole new one,
 * never a half-written file: write a temp file beside it, fsync, then rename over.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const file = new TempFile(path);
  try {
    writeAll(file.fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    file.commit();
  } catch (error) {
    file.abandon(error);
  }
}

/** Removes the temp files this process is writing now (for an exit in the middle of a write). */
export function removeTempFilesInFlight(): void {
  for (const temp of inFlight) rmSync(temp, { force: true });
  inFlight.clear();
}

/** Whether a process with this id exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files in `dir` left by atomic writes of processes that no longer run (a run
 * killed with SIGKILL mid-write). Returns the names removed. Files of live processes are kept.
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (m === null || processAlive(Number(m[2]))) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
