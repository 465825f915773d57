import { randomUUID } from 'node:crypto';
import { InvalidValueError } from '@boltzmann/tensor';
import type { Observer } from 'rxjs';
import type { TrainingEvent, TrainingEventType } from '../events.js';
import { encodeEventMessage, type RunFailedEvent } from './event-message.js';

/** Where a publisher sends encoded event messages: a Redis stream, a NATS subject (see `openEventSink`). */
export interface EventTransport {
  /** Where the events go, in words ("redis stream run-a at redis://127.0.0.1:6379"). */
  readonly description: string;
  /** Sends messages in order; resolves once the broker has taken all of them, rejects if it did not. */
  send(messages: readonly string[]): Promise<void>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** Options of `EventPublisher`. */
export interface EventPublisherOptions {
  /** The run's id, carried by every message; default a random UUID. */
  run?: string;
  /** Event types to publish; default all (a run's error is always published). */
  include?: readonly TrainingEventType[];
  /** Events held while the broker is busy or unreachable; default 1000. */
  buffer?: number;
  /** Messages sent to the broker at once; default 100. */
  sendBatch?: number;
}

/** What a publisher did, from `close()`. */
export interface PublishReport {
  /** Events the broker took. */
  published: number;
  /** Events dropped: the buffer was full (the oldest step events go first) or the broker refused them. */
  dropped: number;
  /** The first error the broker gave, if any. */
  firstError?: string;
}

/**
 * Publishes training events to a broker without ever making training wait for it. Events are
 * encoded at once and queued in a bounded buffer; one send at a time drains it in batches, in
 * order. When the buffer is full the oldest queued "batch-end" event is dropped to make room
 * (progress is the one kind a newer event replaces), else the oldest event; a send the broker
 * refuses drops its events. Every message carries the count of drops so far, and its `seq`
 * leaves a gap where an event was dropped, so a reader sees what it missed. Subscribe it to a
 * run (`run$.subscribe(publisher)`, or `tap(publisher)` in a pipe), then `await close()`:
 * it sends what is queued (the "finished" event included) and reports the counts.
 */
export class EventPublisher implements Observer<TrainingEvent> {
  readonly run: string;
  private readonly include: ReadonlySet<string> | undefined;
  private readonly buffer: number;
  private readonly sendBatch: number;
  private readonly queue: { type: string; text: string }[] = [];
  private seq = 0;
  private sending: Promise<void> | undefined;
  private closing: Promise<PublishReport> | undefined;
  private report: PublishReport = { published: 0, dropped: 0 };

  constructor(
    readonly transport: EventTransport,
    options: EventPublisherOptions = {},
  ) {
    this.run = options.run ?? randomUUID();
    this.include = options.include ? new Set(options.include) : undefined;
    this.buffer = options.buffer ?? 1000;
    this.sendBatch = options.sendBatch ?? 100;
    if (typeof this.run !== 'string' || this.run === '') throw new InvalidValueError(`EventPublisher run must be a non-empty string, got ${JSON.stringify(options.run)}`);
    if (!Number.isInteger(this.buffer) || this.buffer < 1) throw new InvalidValueError(`EventPublisher buffer must be a positive integer, got ${String(options.buffer)}`);
    if (!Number.isInteger(this.sendBatch) || this.sendBatch < 1) throw new InvalidValueError(`EventPublisher sendBatch must be a positive integer, got ${String(options.sendBatch)}`);
  }

  /** Counts so far. */
  get counts(): Readonly<PublishReport> {
    return { ...this.report };
  }

  /** Events waiting in the buffer now. */
  get pending(): number {
    return this.queue.length;
  }

  next(event: TrainingEvent): void {
    this.offer(event);
  }

  /** Publishes the run's error as a final `{ type: "error", name, message }` event (then call `close`). */
  error(error: unknown): void {
    this.offer(error instanceof Error ? { type: 'error', name: error.name, message: error.message } : { type: 'error', name: 'Error', message: String(error) });
  }

  complete(): void {}

  private offer(event: TrainingEvent | RunFailedEvent): void {
    if (this.closing !== undefined || (this.include !== undefined && event.type !== 'error' && !this.include.has(event.type))) return;
    this.seq += 1;
    if (this.queue.length >= this.buffer) {
      const oldestStep = this.queue.findIndex((q) => q.type === 'batch-end');
      this.queue.splice(oldestStep >= 0 ? oldestStep : 0, 1);
      this.report.dropped += 1;
    }
    const text = encodeEventMessage({ run: this.run, seq: this.seq, time: new Date().toISOString(), dropped: this.report.dropped, event });
    this.queue.push({ type: event.type, text });
    this.pump();
  }

  /** Sends what is queued, closes the connection and reports the counts (idempotent). */
  close(): Promise<PublishReport> {
    this.closing ??= (async () => {
      while (this.sending !== undefined) await this.sending;
      try {
        await this.transport.close();
      } catch (error) {
        this.report.firstError ??= (error as Error).message;
      }
      return { ...this.report };
    })();
    return this.closing;
  }

  private pump(): void {
    if (this.sending !== undefined || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.sendBatch);
    this.sending = this.transport.send(batch.map((q) => q.text)).then(
      () => {
        this.report.published += batch.length;
      },
      (error: unknown) => {
        this.report.dropped += batch.length;
        this.report.firstError ??= error instanceof Error ? error.message : String(error);
      },
    );
    void this.sending.then(() => {
      this.sending = undefined;
      this.pump();
    });
  }
}
