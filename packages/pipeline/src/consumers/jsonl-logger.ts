import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { InvalidValueError, writeFileAtomic } from '@boltzmann/tensor';
import type { Observer } from 'rxjs';
import type { TrainingEvent, TrainingEventType } from '../events.js';

/** Options of `JsonlLogger`. */
export interface JsonlLoggerOptions {
  /**
   * "append" (default): each line is appended to the file and fsynced, so a crash loses at most
   * the line being written. "atomic": the whole file is rewritten atomically after each line, so
   * a reader never sees a partial line (fine for epoch-level logs, slow for per-step ones).
   * Both keep what the file already holds: a resumed run continues its log.
   */
  mode?: 'append' | 'atomic';
  /** Event types to log; default all but "batch-end" (one line per step is a lot). */
  include?: readonly TrainingEventType[];
  /** fsync after each appended line; default true. */
  fsync?: boolean;
  /** Add "time" (ISO 8601) to each line; default true. */
  timestamps?: boolean;
}

const DEFAULT_TYPES: readonly TrainingEventType[] = ['started', 'epoch-end', 'checkpoint-written', 'early-stop', 'finished'];

/**
 * Writes training events as JSON Lines (one JSON object per line, the event's fields plus
 * "time"), and the stream's error as a line { "type": "error", "name", "message" }. Subscribe it
 * to a run: `run$.subscribe(new JsonlLogger('train.jsonl'))`. The file is closed when the run
 * completes or fails; a consumer that unsubscribes early calls `close()` itself.
 */
export class JsonlLogger implements Observer<TrainingEvent> {
  readonly mode: 'append' | 'atomic';
  private readonly include: ReadonlySet<string>;
  private readonly fsync: boolean;
  private readonly timestamps: boolean;
  private fd: number | undefined;
  private text = '';
  private closed = false;
  /** Lines written by this logger. */
  lines = 0;

  constructor(readonly path: string, options: JsonlLoggerOptions = {}) {
    if (typeof path !== 'string' || path === '') throw new InvalidValueError('JsonlLogger needs a file path');
    this.mode = options.mode ?? 'append';
    if (this.mode !== 'append' && this.mode !== 'atomic') throw new InvalidValueError(`JsonlLogger mode must be "append" or "atomic", got ${String(this.mode)}`);
    this.include = new Set(options.include ?? DEFAULT_TYPES);
    this.fsync = options.fsync ?? true;
    this.timestamps = options.timestamps ?? true;
    if (this.mode === 'append') this.fd = openSync(path, 'a');
    else this.text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  }

  next(event: TrainingEvent): void {
    if (this.include.has(event.type)) this.write({ ...event });
  }

  error(error: unknown): void {
    const e = error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
    this.write({ type: 'error', ...e });
    this.close();
  }

  complete(): void {
    this.close();
  }

  /** Closes the file (later events are ignored). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private write(record: Record<string, unknown>): void {
    if (this.closed) return;
    const line = `${JSON.stringify(this.timestamps ? { ...record, time: new Date().toISOString() } : record)}\n`;
    if (this.fd !== undefined) {
      const bytes = Buffer.from(line, 'utf8');
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
      if (this.fsync) fsyncSync(this.fd);
    } else {
      this.text += line;
      writeFileAtomic(this.path, this.text);
    }
    this.lines += 1;
  }
}

/** Reads a JSON Lines file back (e.g. to plot a finished run's log). */
export function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch (error) {
        throw new InvalidValueError(`${path}: line ${i + 1} is not JSON: ${(error as Error).message}`);
      }
    });
}
