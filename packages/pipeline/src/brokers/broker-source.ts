import type { SourcePosition } from '@boltzmann/core';
import type { Matrix } from '@boltzmann/tensor';
import type { RowEncoding } from './row-encoding.js';

export type { SourcePosition, JsonValue } from '@boltzmann/core';

/**
 * A message the source would not train on, and where it went: it did not decode (see
 * `RowEncoding`), its row failed `BrokerOpenOptions.checkRow`, or it vanished from the broker
 * before it was trained. Such a message is moved to the source's dead-letter place and
 * acknowledged there, never silently dropped.
 */
export interface RefusedMessage {
  /** The broker's id of the message (a Redis stream entry id, a JetStream sequence number as text). */
  readonly id: string;
  /** Why, in words ("holds 100 bytes; 784 float32 values need 3136"). */
  readonly reason: string;
  /** Where it was moved (a dead-letter stream or subject). */
  readonly deadLetter: string;
}

/** One step's rows from a broker, and where the source stands after them. */
export interface BrokerBatch {
  /** Exactly the rows asked for, in the broker's order (one message, one row), float32. */
  readonly rows: Matrix;
  /**
   * The position after the last of these rows. Once they are trained, the trainer carries it
   * (`Trainer.sourcePosition`) into the next checkpoint; after that checkpoint is durable the
   * source is told to `acknowledge` it.
   */
  readonly position: SourcePosition;
}

/** What `BrokerSource.open` is told. */
export interface BrokerOpenOptions {
  /**
   * The position saved in the checkpoint being resumed (`Trainer.sourcePosition`); undefined
   * for a new run. A source refuses a position of another type or another stream/consumer
   * with a one-line error naming both.
   */
  readonly saved?: SourcePosition;
  /**
   * Checks a decoded row beyond its encoding (the visible units' range: a Bernoulli layer takes
   * values in [0, 1]); returns why it is refused, or undefined to take it. The row is a view,
   * valid only during the call.
   */
  readonly checkRow?: (row: Float32Array) => string | undefined;
  /** Told of each refused message, after it has been moved to the dead-letter place. */
  readonly onRefused?: (message: RefusedMessage) => void;
}

/**
 * A source of training rows held by a message broker, read so that the saved model has trained
 * on each message exactly once (one consumer; see the pipeline README for several):
 *
 * 1. `open` connects and places the source at the saved position: messages that an earlier
 *    run received but never acknowledged are sorted out first - those at or before the saved
 *    position are already in the model and are acknowledged without being delivered again,
 *    those after it are delivered first, in the broker's order, then new messages follow.
 * 2. `next(rows)` delivers exactly `rows` decoded rows (waiting for the broker as long as it
 *    takes, so batches are the same however fast messages arrive), with the position after
 *    them. It reads only when called: the trainer's pace is the source's pace, and the
 *    backlog stays in the broker. Messages that do not decode are refused (see
 *    `RefusedMessage`) and do not count.
 * 3. `acknowledge(position)` is called once a checkpoint holding that position is durable:
 *    the broker may forget every message up to it. A run that stops before it leaves them
 *    unacknowledged, and the next `open` sorts them out as in 1.
 * 4. `close` lets go of the connection; unacknowledged messages stay with the broker.
 *
 * Errors are one line naming the broker's URL and the stream: broker down, stream missing,
 * a saved position of another source.
 */
export interface BrokerSource {
  /** Tells a broker source apart from other session data. */
  readonly kind: 'broker-source';
  /** The source type, as specs name it ("redis-stream", "nats-jetstream"); saved positions carry it. */
  readonly type: string;
  /** Where the rows come from, for logs: `redis stream "digits" (group "trainers") at redis://127.0.0.1:6379`. */
  readonly description: string;
  /** Values per row (the visible layer's size); every delivered row has exactly these. */
  readonly columns: number;
  /** How each message carries its row. */
  readonly encoding: RowEncoding;
  /** Connects and places the source at `options.saved` (see above); call once, before `next`. */
  open(options?: BrokerOpenOptions): Promise<void>;
  /**
   * The next `rows` rows and the position after them. Resolves undefined when `signal` aborts
   * or the source is closed (rows already received then stay for a later `next`, or with the
   * broker), or when a finite source has ended (what is left is fewer than `rows`).
   */
  next(rows: number, signal?: AbortSignal): Promise<BrokerBatch | undefined>;
  /** The broker may forget every message up to `position` (a position this source delivered). */
  acknowledge(position: SourcePosition): Promise<void>;
  /** Closes the connection (idempotent); what is not acknowledged stays with the broker. */
  close(): Promise<void>;
}

/**
 * The options every broker source's spec has (`data.source` of a run spec), beside `type` and
 * the broker's own (`stream` and `group` of a Redis stream...).
 */
export interface BrokerSourceSpec {
  /** The registered source type: "redis-stream", "nats-jetstream". */
  type: string;
  /** The broker's address: `redis://host:port[/db]`, `nats://host:port`. */
  url: string;
  /** How messages carry rows; default "float32le". */
  encoding?: RowEncoding;
  /** Where refused messages go; default the source's name plus ":dead" (a stream / subject). */
  deadLetter?: string;
  [option: string]: unknown;
}

/** Whether `x` is a {@link BrokerSource} (session data of the broker kind). */
export function isBrokerSource(x: unknown): x is BrokerSource {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'broker-source';
}
