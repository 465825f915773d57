import { InvalidValueError, Matrix } from '@boltzmann/tensor';
import { AckPolicy, DeliverPolicy, RetentionPolicy, jetstream, jetstreamManager, type Consumer, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { BrokerError, brokerCause } from '../sinks/broker-error.js';
import { connectNats, isStreamNotFound } from '../sinks/nats-connection.js';
import type { BrokerBatch, BrokerOpenOptions, BrokerSource, RefusedMessage, SourcePosition } from './broker-source.js';
import { optionReaders } from './option-readers.js';
import { RowDecodeError, checkRowEncoding, decodeRow, type RowEncoding } from './row-encoding.js';
import { untilAborted } from './until-aborted.js';

/** The source type of a NATS JetStream stream, as specs and saved positions name it. */
export const NATS_JETSTREAM = 'nats-jetstream';

/** Options of {@link NatsJetStreamSource} (the `data.source` of a run spec, less `type`). */
export interface NatsJetStreamOptions {
  /** `nats://host:port`. */
  url: string;
  /** The JetStream stream holding the rows (limits or work-queue retention). */
  stream: string;
  /** The durable pull consumer's name; default "trainer". Keep it across restarts of one run. */
  consumer?: string;
  /** Only messages on this subject (the consumer's filter); default every subject of the stream. */
  subject?: string;
  /** Values per row (the visible layer's size). */
  columns: number;
  /** How each message's payload carries its row; default "float32le". */
  encoding?: RowEncoding;
  /** The subject refused messages are published on; default "boltzmann.dead.<stream>" (a stream "<stream>-dead" stores it where none does). */
  deadLetter?: string;
  /** Where a consumer created now starts: "all" messages in the stream (default) or only "new" ones. */
  start?: 'all' | 'new';
  /** Create the stream (capturing `subject`, else a subject named like the stream) when it does not exist; default false. */
  create?: boolean;
  /**
   * How long JetStream waits for an acknowledgement before it delivers a message again; default
   * one hour. Messages are acknowledged only by checkpoints: keep it above the time between two.
   */
  ackWaitMs?: number;
  /** Most milliseconds one fetch waits for new messages before it looks again; default 1000. */
  blockMs?: number;
}

/** A message received and decoded, waiting to be handed out or acknowledged. */
interface Received {
  msg: JsMsg;
  row: Float32Array;
}

/**
 * Training rows from a NATS JetStream stream through a durable pull consumer with explicit
 * acknowledgements, exactly once with respect to the checkpoints for one consumer (see
 * `BrokerSource`). Each message's payload is one row in `encoding`. The position is the stream
 * sequence number of the last message trained; messages are acknowledged once a checkpoint
 * holding them is durable.
 *
 * JetStream delivers a message that was received but never acknowledged again only after the
 * consumer's ack wait, behind newer ones; so `open` puts the durable consumer back at its
 * acknowledgement floor (deleting it and creating it anew, same name and settings, starting at
 * the first message not acknowledged). The messages from there up to the saved position are in
 * the model already: they are acknowledged without being trained; the rest follow in the
 * stream's order. A message that does not decode, or whose row the model refuses, is published
 * to the dead-letter subject (headers: its stream, sequence and the reason; deduplicated by
 * JetStream on "<stream>:<sequence>") and acknowledged. A stream with interest retention is
 * refused: deleting its consumer would delete the messages. Node only.
 */
export class NatsJetStreamSource implements BrokerSource {
  readonly kind = 'broker-source';
  readonly type = NATS_JETSTREAM;
  readonly description: string;
  readonly columns: number;
  readonly encoding: RowEncoding;
  private readonly options: Required<Omit<NatsJetStreamOptions, 'subject'>> & { subject: string | undefined };
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private consumer: Consumer | undefined;
  private saved: number | undefined;
  private checkRow: BrokerOpenOptions['checkRow'];
  private onRefused: BrokerOpenOptions['onRefused'];
  /** Highest stream sequence received in this process (a redelivery at or below it is a copy of one held). */
  private highest = 0;
  private buffered: Received[] = [];
  /** Handed out and not yet acknowledged, in order. */
  private unacked: JsMsg[] = [];
  private inflight: Promise<void> | undefined;
  private fetching: ConsumerMessages | undefined;
  private opened = false;
  private closed = false;

  constructor(options: NatsJetStreamOptions) {
    this.options = checkNatsJetStreamOptions(options);
    this.columns = this.options.columns;
    this.encoding = this.options.encoding;
    this.description = `nats jetstream "${this.options.stream}" (consumer "${this.options.consumer}") at ${this.options.url}`;
  }

  async open(options: BrokerOpenOptions = {}): Promise<void> {
    if (this.opened) throw new InvalidValueError(`${this.description} is already open`);
    this.opened = true;
    this.saved = options.saved === undefined ? undefined : this.checkSaved(options.saved);
    this.checkRow = options.checkRow;
    this.onRefused = options.onRefused;
    this.nc = await connectNats(this.options.url);
    try {
      const jsm = await jetstreamManager(this.nc);
      const retention = await this.prepareStream(jsm);
      await this.placeConsumer(jsm, retention === RetentionPolicy.Workqueue);
      this.js = jetstream(this.nc);
      this.consumer = await this.js.consumers.get(this.options.stream, this.options.consumer);
    } catch (error) {
      await this.nc.close().catch(() => undefined);
      throw error instanceof BrokerError || error instanceof InvalidValueError ? error : new BrokerError(`${this.description}: ${brokerCause(error)}`);
    }
  }

  async next(rows: number, signal?: AbortSignal): Promise<BrokerBatch | undefined> {
    if (!this.opened) throw new InvalidValueError(`${this.description}: next() before open()`);
    if (!Number.isInteger(rows) || rows < 1) throw new InvalidValueError(`rows must be a positive integer, got ${rows}`);
    while (this.buffered.length < rows) {
      if (this.closed || signal?.aborted) return undefined;
      // One fetch at a time; one that outlives an abort still lands in the buffer (its messages stay unacknowledged, not lost).
      this.inflight ??= this.read(rows - this.buffered.length).finally(() => (this.inflight = undefined));
      await untilAborted(this.inflight, signal);
    }
    const taken = this.buffered.splice(0, rows);
    const out = new Matrix(rows, this.columns);
    taken.forEach((r, i) => out.data.set(r.row, i * this.columns));
    this.unacked.push(...taken.map((r) => r.msg));
    return { rows: out, position: this.position(taken[taken.length - 1]!.msg.seq) };
  }

  async acknowledge(position: SourcePosition): Promise<void> {
    const last = this.checkSaved(position);
    let n = 0;
    while (n < this.unacked.length && this.unacked[n]!.seq <= last) n++;
    const done = this.unacked.splice(0, n);
    try {
      await Promise.all(done.map((m) => m.ackAck()));
    } catch (error) {
      throw new BrokerError(`${this.description}: acknowledging up to message ${last} failed: ${brokerCause(error)}; resume the run from its last checkpoint`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A fetch waiting for messages is cut off: what it was given stays unacknowledged with the consumer.
    this.fetching?.stop();
    await this.inflight?.catch(() => undefined);
    await this.nc?.close().catch(() => undefined);
  }

  /** The position after message `seq`. */
  private position(seq: number): SourcePosition {
    return { type: NATS_JETSTREAM, stream: this.options.stream, consumer: this.options.consumer, seq };
  }

  /** The sequence number in a saved position of this stream and consumer, or a one-line error naming both. */
  private checkSaved(saved: SourcePosition): number {
    const { stream, consumer } = this.options;
    if (saved.type !== NATS_JETSTREAM) throw new InvalidValueError(`the checkpoint's data position is of a "${saved.type}" source, not a nats jetstream (${this.description})`);
    if (saved['stream'] !== stream || saved['consumer'] !== consumer) {
      throw new InvalidValueError(`the checkpoint was trained from nats jetstream ${JSON.stringify(saved['stream'])} (consumer ${JSON.stringify(saved['consumer'])}), not "${stream}" (consumer "${consumer}"): resume with the same stream and consumer`);
    }
    const seq = saved['seq'];
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw new InvalidValueError(`the checkpoint's nats jetstream position has "seq" ${JSON.stringify(seq)}, not a stream sequence number`);
    return seq;
  }

  /** Checks (or creates) the stream and the dead-letter stream. */
  private async prepareStream(jsm: JetStreamManager): Promise<RetentionPolicy> {
    const { stream, subject, deadLetter, create } = this.options;
    let retention: RetentionPolicy;
    try {
      retention = (await jsm.streams.info(stream)).config.retention;
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
      if (!create) throw new BrokerError(`${this.description}: the stream does not exist (start the producer first, or set "create": true)`);
      retention = (await jsm.streams.add({ name: stream, subjects: [subject ?? stream] })).config.retention;
    }
    if (retention === RetentionPolicy.Interest) throw new BrokerError(`${this.description}: the stream has interest retention; a training source needs limits or work-queue retention (its consumer is recreated on open)`);
    let holder: string | undefined;
    try {
      holder = await jsm.streams.find(deadLetter);
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
    }
    if (holder === stream) throw new InvalidValueError(`${this.description}: the dead-letter subject "${deadLetter}" is one of the stream's own subjects; name another with "deadLetter"`);
    if (holder === undefined) await jsm.streams.add({ name: `${stream}-dead`, subjects: [deadLetter] });
    return retention;
  }

  /**
   * Creates the durable consumer anew at its acknowledgement floor (see the class comment). A
   * work queue has removed every acknowledged message, so there the consumer starts at the
   * first message left (JetStream allows no other start on a work queue).
   */
  private async placeConsumer(jsm: JetStreamManager, workQueue: boolean): Promise<void> {
    const { stream, consumer, subject, start, ackWaitMs } = this.options;
    let floor: number | undefined;
    try {
      const info = await jsm.consumers.info(stream, consumer);
      floor = info.ack_floor.stream_seq;
    } catch (error) {
      if (!/consumer not found/i.test(brokerCause(error))) throw error;
    }
    if (floor !== undefined && this.saved !== undefined && this.saved < floor) {
      throw new InvalidValueError(`${this.description}: the checkpoint's position (message ${this.saved}) is behind what the consumer has acknowledged (message ${floor}), so a later checkpoint exists: resume from the latest checkpoint`);
    }
    if (floor !== undefined) await jsm.consumers.delete(stream, consumer);
    const from = floor ?? this.saved;
    await jsm.consumers.add(stream, {
      durable_name: consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: ackWaitMs * 1_000_000,
      max_ack_pending: -1,
      max_deliver: -1,
      ...(subject === undefined ? {} : { filter_subject: subject }),
      ...(workQueue ? { deliver_policy: DeliverPolicy.All } : from !== undefined ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from + 1 } : { deliver_policy: start === 'new' ? DeliverPolicy.New : DeliverPolicy.All }),
    });
  }

  /** Fetches up to `want` messages (waiting up to blockMs) into the buffer. */
  private async read(want: number): Promise<void> {
    try {
      this.fetching = await this.consumer!.fetch({ max_messages: want, expires: this.options.blockMs });
      for await (const msg of this.fetching) await this.take(msg);
    } catch (error) {
      if (this.closed) return;
      throw error instanceof BrokerError ? error : new BrokerError(`${this.description}: fetching messages failed: ${brokerCause(error)}`);
    } finally {
      this.fetching = undefined;
    }
  }

  /** Sorts one delivered message out: a copy of one held, one in the model already, a row, or refused. */
  private async take(msg: JsMsg): Promise<void> {
    if (msg.seq <= this.highest) return;
    this.highest = msg.seq;
    if (this.saved !== undefined && msg.seq <= this.saved) {
      await msg.ackAck();
      return;
    }
    const row = new Float32Array(this.columns);
    let reason: string | undefined;
    try {
      decodeRow(msg.data, this.encoding, this.columns, row);
      reason = this.checkRow?.(row);
    } catch (error) {
      if (!(error instanceof RowDecodeError)) throw error;
      reason = `${error.reason} (encoding "${this.encoding}")`;
    }
    if (reason === undefined) this.buffered.push({ msg, row });
    else await this.refuse(msg, reason);
  }

  /** Publishes a message to the dead-letter subject, then acknowledges it. */
  private async refuse(msg: JsMsg, reason: string): Promise<void> {
    const { stream, deadLetter } = this.options;
    const h = headers();
    h.set('Boltzmann-Stream', stream);
    h.set('Boltzmann-Sequence', String(msg.seq));
    h.set('Boltzmann-Subject', msg.subject);
    h.set('Boltzmann-Reason', reason.replace(/[\r\n]+/g, ' '));
    try {
      await this.js!.publish(deadLetter, msg.data, { headers: h, msgID: `${stream}:${msg.seq}` });
      await msg.ackAck();
    } catch (error) {
      throw new BrokerError(`${this.description}: moving message ${msg.seq} to the dead-letter subject "${deadLetter}" failed: ${brokerCause(error)}`);
    }
    const refused: RefusedMessage = { id: String(msg.seq), reason, deadLetter };
    this.onRefused?.(refused);
  }
}

/** Options checked, with defaults; errors name the option ("stream" must be a non-empty string...). */
export function checkNatsJetStreamOptions(options: NatsJetStreamOptions): NatsJetStreamSource['options'] {
  if (typeof options !== 'object' || options === null) throw new InvalidValueError('a nats jetstream source needs options { url, stream, columns }');
  const { text, whole } = optionReaders(options);
  const url = text('url');
  if (!/^(nats|tls):\/\/[^\s/]+\/?$/.test(url)) throw new InvalidValueError(`"url" must be nats://host:port (or tls://), got ${JSON.stringify(url)}`);
  const stream = text('stream');
  if (!/^[^\s.*>/\\]+$/.test(stream)) throw new InvalidValueError(`"stream" must be a JetStream stream name (no spaces, ".", "*", ">", slashes), got ${JSON.stringify(stream)}`);
  const consumer = text('consumer', 'trainer');
  if (!/^[^\s.*>/\\]+$/.test(consumer)) throw new InvalidValueError(`"consumer" must be a consumer name (no spaces, ".", "*", ">", slashes), got ${JSON.stringify(consumer)}`);
  const subject = options.subject === undefined ? undefined : text('subject');
  const deadLetter = text('deadLetter', `boltzmann.dead.${stream}`);
  for (const [key, s] of [['subject', subject], ['deadLetter', deadLetter]] as const) {
    if (s !== undefined && !/^[^\s*>]+$/.test(s)) throw new InvalidValueError(`"${key}" must be a subject without spaces or wildcards, got ${JSON.stringify(s)}`);
  }
  if (deadLetter === subject) throw new InvalidValueError(`"deadLetter" must be another subject than "subject" ("${subject}")`);
  const start = options.start ?? 'all';
  if (start !== 'all' && start !== 'new') throw new InvalidValueError(`"start" must be "all" (every message in the stream) or "new" (only new messages), got ${JSON.stringify(start)}`);
  const create = options.create ?? false;
  if (typeof create !== 'boolean') throw new InvalidValueError(`"create" must be true or false, got ${JSON.stringify(create)}`);
  return {
    url,
    stream,
    consumer,
    subject,
    columns: whole('columns', NaN, 1),
    encoding: checkRowEncoding(options.encoding ?? 'float32le', '"encoding"'),
    deadLetter,
    start,
    create,
    ackWaitMs: whole('ackWaitMs', 3_600_000, 1000),
    blockMs: whole('blockMs', 1000, 1000),
  };
}
