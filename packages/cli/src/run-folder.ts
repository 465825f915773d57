import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BoltzmannError, processAlive, removeStaleTempFiles } from '@boltzmann/tensor';

/** The lock file a run holds in its output folder. */
export const LOCK_FILE = '.boltzmann.lock';
/** Where a run writes until it ends; its files move into the folder together at the end. */
export const STAGING_DIR = '.partial';

/** What the lock file says about its holder. */
interface LockHolder {
  pid: number;
  host: string;
  command: string;
  started: string;
}

/**
 * An output folder owned by one run: a lock file naming the holder (a second run is refused; a
 * lock left by a killed process is detected and taken over), a staging folder `.partial` that
 * the run writes into, and `commit`, which moves the staged files into the folder together at
 * the end. A run that fails never commits, so the folder keeps the previous run's files.
 */
export class RunFolder {
  private released = false;
  /** Releases the lock if the process exits without doing so (process.exit on a second signal). */
  private readonly onExit = () => this.release();

  private constructor(
    /** The output folder. */
    readonly dir: string,
    /** Where the run writes (`<dir>/.partial`). */
    readonly staging: string,
    /** Notes for the user (a stale lock or temp files cleaned). */
    readonly notes: readonly string[],
  ) {}

  /**
   * Takes the folder (creating it): refuses one held by a live process, takes over the lock of
   * a dead one, removes temp files of killed writers, and prepares an empty staging folder
   * (`keepStaging`: keep what is there, for a run resumed from its own staged checkpoint).
   */
  static acquire(dir: string, command: string, options: { keepStaging?: boolean } = {}): RunFolder {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') throw new BoltzmannError(`output folder "${dir}" is a file (or lies inside one), not a folder`);
      throw new BoltzmannError(`cannot create output folder "${dir}": ${(error as Error).message}`);
    }
    if (!statSync(dir).isDirectory()) throw new BoltzmannError(`output folder "${dir}" is a file, not a folder`);
    const notes: string[] = [];
    const lock = join(dir, LOCK_FILE);
    const holder: LockHolder = { pid: process.pid, host: hostname(), command, started: new Date().toISOString() };
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(lock, 'wx');
        writeSync(fd, `${JSON.stringify(holder)}\n`);
        closeSync(fd);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
          throw new BoltzmannError(`cannot lock output folder "${dir}": ${(error as Error).message}`);
        }
      }
      const other = readHolder(lock);
      if (other !== undefined && (other.host !== holder.host || processAlive(other.pid))) {
        throw new BoltzmannError(
          `output folder "${dir}" is in use by process ${other.pid} on ${other.host} (${other.command}, started ${other.started}); wait for it to end or choose another --out (remove ${LOCK_FILE} only if that process is gone)`,
        );
      }
      notes.push(`took over the lock of process ${other?.pid ?? '?'} (${other?.command ?? 'unreadable lock'}), which no longer runs`);
      rmSync(lock, { force: true });
    }
    const staging = join(dir, STAGING_DIR);
    try {
      for (const folder of [dir, staging]) {
        const removed = removeStaleTempFiles(folder);
        if (removed.length > 0) notes.push(`removed ${removed.length} temp file(s) left by a killed run in ${folder}`);
      }
      if (!options.keepStaging && existsSync(staging)) {
        notes.push(`discarded the unfinished run left in ${staging}`);
        rmSync(staging, { recursive: true, force: true });
      }
      mkdirSync(staging, { recursive: true });
    } catch (error) {
      rmSync(lock, { force: true });
      throw error;
    }
    const folder = new RunFolder(dir, staging, notes);
    process.on('exit', folder.onExit);
    return folder;
  }

  /** The path of `name` in the staging folder (where the run writes it). */
  staged(name: string): string {
    return join(this.staging, name);
  }

  /** The path `name` has once committed. */
  final(name: string): string {
    return join(this.dir, name);
  }

  /** Moves every staged file into the folder (each rename atomic, all at the end of the run) and removes the staging folder. */
  commit(): string[] {
    const names = readdirSync(this.staging).filter((n) => !n.startsWith('.'));
    // The model last: until it arrives, the folder's model is the previous one, matching its files.
    names.sort((a, b) => Number(a === 'model.json') - Number(b === 'model.json'));
    for (const name of names) renameSync(join(this.staging, name), join(this.dir, name));
    rmSync(this.staging, { recursive: true, force: true });
    return names;
  }

  /** Gives the folder up: the lock is removed (the staging folder stays for a run that failed, to look at). */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    rmSync(join(this.dir, LOCK_FILE), { force: true });
  }
}

function readHolder(lock: string): LockHolder | undefined {
  try {
    const x = JSON.parse(readFileSync(lock, 'utf8')) as Partial<LockHolder>;
    if (typeof x.pid === 'number' && typeof x.host === 'string') return { pid: x.pid, host: x.host, command: String(x.command), started: String(x.started) };
  } catch {
    // unreadable: treated as stale (a process killed while writing it)
  }
  return undefined;
}

/** The folder a resumed run writes to: the model's own (its run's folder when the model is a staged checkpoint). */
export function folderOfModel(modelPath: string): string {
  const dir = dirname(modelPath);
  return basename(dir) === STAGING_DIR ? dirname(dir) : dir;
}

/**
 * Readies the folder of a command's output file (`sample --out`, `transform --out`, `convert`):
 * makes it, and removes the temp files that processes killed mid-write left there (a signal
 * ends these commands at once, and `kill -9` runs no handler). Returns a note for the user when
 * it removed some. Temp files of a write in progress are removed at any exit the process sees.
 */
export function prepareOutputFile(path: string): string | undefined {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const removed = removeStaleTempFiles(dir);
  return removed.length > 0 ? `removed ${removed.length} temp file(s) left by a killed run in ${dir}` : undefined;
}
