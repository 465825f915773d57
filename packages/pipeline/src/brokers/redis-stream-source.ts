import { BoltzmannError, InvalidValueError, Matrix } from '@boltzmann/tensor';
import type { Redis } from 'ioredis';
import type { BrokerBatch, BrokerOpenOptions, BrokerSource, RefusedMessage, SourcePosition } from './broker-source.js';
import { redactUrl } from '../sinks/redis-stream-sink.js';
import { optionReaders } from './option-readers.js';
import { RowDecodeError, checkRowEncoding, decodeRow, type RowEncoding } from './row-encoding.js';
import { untilAborted } from './until-aborted.js';

/** The source type of a Redis stream, as specs and saved positions name it. */
export const REDIS_STREAM = 'redis-stream';

/** Options of {@link RedisStreamSource} (the `data.source` of a run spec, less `type`). */
export interface RedisStreamOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** The stream's key. */
  stream: string;
  /** The consumer group (created at the stream's first entry, or at `start`, when missing). */
  group: string;
  /** This trainer's name in the group; default "trainer". Keep it across restarts of one run. */
  consumer?: string;
  /** Values per row (the visible layer's size). */
  columns: number;
  /** How each entry carries its row; default "float32le". */
  encoding?: RowEncoding;
  /** The entry's field holding the row; default "row". */
  field?: string;
  /** The stream refused entries are moved to; default `<stream>:dead`. */
  deadLetter?: string;
  /** Where a group created now starts: "0" every entry already in the stream (default), "$" only entries added from now on. */
  start?: '0' | '$';
  /** Create the stream when it does not exist (else that is an error); default false. */
  create?: boolean;
  /**
   * Entries pending with other consumers of the group that have been idle this long are
   * claimed (XAUTOCLAIM) and trained here; default 0: every pending entry, the single-consumer
   * setup (a trainer renamed, or restarted elsewhere, takes its run's entries back). null:
   * never claim (several consumers, each coming back under its own name).
   */
  claimAfterMs?: number | null;
  /** Most milliseconds one read waits for new entries before it looks again; default 2000. */
  blockMs?: number;
  /** Most milliseconds to wait for the connection; default 5000. */
  connectTimeoutMs?: number;
}

/** `RedisStreamOptions` checked, defaults filled in. */
export type ResolvedRedisStreamOptions = Required<Omit<RedisStreamOptions, 'claimAfterMs'>> & { claimAfterMs: number | null };

/** A Redis stream entry as read: its id and its fields (undefined when it was deleted from the stream). */
interface Entry {
  id: string;
  fields: Map<string, Buffer> | undefined;
}

/** Entries read per command at most (a pending list is read in pages of this). */
const PAGE = 1000;

/**
 * Training rows from a Redis stream through a consumer group (XREADGROUP), exactly once with
 * respect to the checkpoints for one consumer (see `BrokerSource`). Each entry holds one row in
 * its field `field`, encoded as `encoding`. The position is the id of the last entry trained;
 * entries are acknowledged (XACK) once a checkpoint holding them is durable. An entry that does
 * not decode, or whose row the model refuses, is copied to the dead-letter stream (with its id,
 * stream, group and the reason) and acknowledged in one transaction.
 *
 * Two connections: one for the blocking reads, one for everything else (acknowledgements are
 * never queued behind a read waiting for entries). Node only (the npm client `ioredis`, loaded
 * when the source opens).
 */
export class RedisStreamSource implements BrokerSource {
  readonly kind = 'broker-source';
  readonly type = REDIS_STREAM;
  readonly description: string;
  readonly columns: number;
  readonly encoding: RowEncoding;
  private readonly options: ResolvedRedisStreamOptions;
  private client: Redis | undefined;
  private reader: Redis | undefined;
  private saved: string | undefined;
  private checkRow: BrokerOpenOptions['checkRow'];
  private onRefused: BrokerOpenOptions['onRefused'];
  /** Reading the consumer's own pending entries first ("history", from this id), then new ones. */
  private cursor: string | '>' = '0';
  /** Decoded rows waiting to be handed out, and their ids. */
  private rows: Float32Array = new Float32Array(0);
  private ids: string[] = [];
  /** Ids handed out and not yet acknowledged, in order. */
  private unacked: string[] = [];
  private inflight: Promise<void> | undefined;
  /** A read's error, kept for the next call (a read may end after the call that started it has returned). */
  private failed: { error: unknown } | undefined;
  private opened = false;
  private closed = false;

  constructor(options: RedisStreamOptions) {
    this.options = checkRedisStreamOptions(options);
    this.columns = this.options.columns;
    this.encoding = this.options.encoding;
    this.description = `redis stream "${this.options.stream}" (group "${this.options.group}") at ${redactUrl(this.options.url)}`;
  }

  async open(options: BrokerOpenOptions = {}): Promise<void> {
    if (this.opened) throw new InvalidValueError(`${this.description} is already open`);
    this.opened = true;
    const { stream, group, consumer } = this.options;
    this.saved = options.saved === undefined ? undefined : this.checkSaved(options.saved);
    this.checkRow = options.checkRow;
    this.onRefused = options.onRefused;
    this.client = await this.connect();
    this.reader = await this.connect();
    const kind = await this.command('TYPE', stream);
    if (kind === 'none') {
      if (!this.options.create) throw new BoltzmannError(`${this.description}: the stream does not exist (start the producer first, or set "create": true)`);
    } else if (kind !== 'stream') {
      throw new BoltzmannError(`${this.description}: the key "${stream}" holds a ${String(kind)}, not a stream`);
    }
    try {
      await this.command('XGROUP', 'CREATE', stream, group, this.options.start, ...(this.options.create ? ['MKSTREAM'] : []));
    } catch (error) {
      if (!/BUSYGROUP/.test((error as Error).message)) throw error;
    }
    const claimAfter = this.options.claimAfterMs;
    if (claimAfter !== null) {
      // Entries another consumer of the group received and never acknowledged become this one's, to be sorted out below.
      for (let from = '0-0'; ; ) {
        const reply = (await this.command('XAUTOCLAIM', stream, group, consumer, claimAfter, from, 'COUNT', PAGE, 'JUSTID')) as [string, unknown[]];
        from = String(reply[0]);
        if (from === '0-0') break;
      }
    }
  }

  async next(rows: number, signal?: AbortSignal): Promise<BrokerBatch | undefined> {
    if (!this.opened) throw new InvalidValueError(`${this.description}: next() before open()`);
    if (!Number.isInteger(rows) || rows < 1) throw new InvalidValueError(`rows must be a positive integer, got ${rows}`);
    while (this.ids.length < rows) {
      if (this.closed || signal?.aborted) return undefined;
      if (this.failed !== undefined) throw this.failed.error;
      // One read at a time; one that outlives an abort still lands in the buffer (its entries are pending, not lost).
      this.inflight ??= this.read(rows - this.ids.length).then(
        () => void (this.inflight = undefined),
        (error: unknown) => void ((this.failed = { error }), (this.inflight = undefined)),
      );
      await untilAborted(this.inflight, signal);
    }
    if (this.failed !== undefined) throw this.failed.error;
    const columns = this.columns;
    const out = new Matrix(rows, columns, this.rows.slice(0, rows * columns));
    this.rows = this.rows.slice(rows * columns);
    const ids = this.ids.splice(0, rows);
    this.unacked.push(...ids);
    return { rows: out, position: this.position(ids[ids.length - 1]!) };
  }

  async acknowledge(position: SourcePosition): Promise<void> {
    const last = this.checkSaved(position);
    let n = 0;
    while (n < this.unacked.length && compareIds(this.unacked[n]!, last) <= 0) n++;
    const done = this.unacked.splice(0, n);
    for (let i = 0; i < done.length; i += PAGE) await this.command('XACK', this.options.stream, this.options.group, ...done.slice(i, i + PAGE));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A read waiting for entries is cut off: what it was given stays pending in the group.
    this.reader?.disconnect();
    await this.inflight;
    if (this.client !== undefined && this.client.status === 'ready') await this.client.quit().catch(() => undefined);
    this.client?.disconnect();
  }

  /** The position after entry `id`. */
  private position(id: string): SourcePosition {
    return { type: REDIS_STREAM, stream: this.options.stream, group: this.options.group, lastId: id };
  }

  /** The id in a saved position of this stream and group, or a one-line error naming both. */
  private checkSaved(saved: SourcePosition): string {
    const { stream, group } = this.options;
    if (saved.type !== REDIS_STREAM) throw new InvalidValueError(`the checkpoint's data position is of a "${saved.type}" source, not a redis stream (${this.description})`);
    if (saved['stream'] !== stream || saved['group'] !== group) {
      throw new InvalidValueError(`the checkpoint was trained from redis stream ${JSON.stringify(saved['stream'])} (group ${JSON.stringify(saved['group'])}), not "${stream}" (group "${group}"): resume with the same stream and group`);
    }
    const id = saved['lastId'];
    if (typeof id !== 'string' || !ENTRY_ID.test(id)) throw new InvalidValueError(`the checkpoint's redis stream position has "lastId" ${JSON.stringify(id)}, not an entry id like "1700000000000-0"`);
    return id;
  }

  /** Reads up to `want` entries (the pending ones first, then new ones, waiting up to blockMs) into the buffer. */
  private async read(want: number): Promise<void> {
    const { stream, group, consumer, blockMs } = this.options;
    const history = this.cursor !== '>';
    const args: (string | number)[] = ['GROUP', group, consumer, 'COUNT', want];
    if (!history) args.push('BLOCK', blockMs);
    args.push('STREAMS', stream, this.cursor);
    let reply: unknown;
    try {
      reply = await this.reader!.callBuffer('XREADGROUP', ...args);
    } catch (error) {
      if (this.closed) return;
      throw this.failure(error, 'XREADGROUP');
    }
    const entries = parseEntries(reply);
    if (history) {
      if (entries.length === 0) {
        this.cursor = '>';
        return;
      }
      this.cursor = entries[entries.length - 1]!.id;
      // Pending entries at or before the checkpoint's position are in the model already.
      const done = this.saved === undefined ? [] : entries.filter((e) => compareIds(e.id, this.saved!) <= 0).map((e) => e.id);
      if (done.length > 0) await this.command('XACK', stream, group, ...done);
      await this.take(entries.filter((e) => this.saved === undefined || compareIds(e.id, this.saved) > 0));
      return;
    }
    await this.take(entries);
  }

  /** Decodes entries into the buffer; refuses (dead-letters) those that are not rows. */
  private async take(entries: readonly Entry[]): Promise<void> {
    const columns = this.columns;
    const grown = new Float32Array(this.rows.length + entries.length * columns);
    grown.set(this.rows);
    let at = this.rows.length;
    for (const entry of entries) {
      const row = grown.subarray(at, at + columns);
      const reason = this.decode(entry, row);
      if (reason !== undefined) {
        await this.refuse(entry, reason);
        continue;
      }
      this.ids.push(entry.id);
      at += columns;
    }
    this.rows = grown.slice(0, at);
  }

  /** Why `entry` is not a row (undefined: decoded into `row`). */
  private decode(entry: Entry, row: Float32Array): string | undefined {
    if (entry.fields === undefined) return 'was deleted from the stream before it was trained';
    const payload = entry.fields.get(this.options.field);
    if (payload === undefined) return `has no field "${this.options.field}" (its fields: ${[...entry.fields.keys()].map((k) => `"${k}"`).join(', ') || 'none'})`;
    try {
      decodeRow(payload, this.encoding, this.columns, row);
    } catch (error) {
      if (error instanceof RowDecodeError) return `${error.reason} (encoding "${this.encoding}")`;
      throw error;
    }
    return this.checkRow?.(row);
  }

  /** Moves an entry to the dead-letter stream and acknowledges it, in one transaction. */
  private async refuse(entry: Entry, reason: string): Promise<void> {
    const { stream, group, deadLetter } = this.options;
    const fields: (string | Buffer)[] = ['id', entry.id, 'stream', stream, 'group', group, 'reason', reason];
    for (const [k, v] of entry.fields ?? []) fields.push(`field:${k}`, v);
    try {
      const result = await this.client!.multi().call('XADD', deadLetter, '*', ...fields).call('XACK', stream, group, entry.id).exec();
      const failed = result?.find(([error]) => error !== null);
      if (failed) throw failed[0];
    } catch (error) {
      throw this.failure(error, `moving entry ${entry.id} to the dead-letter stream "${deadLetter}"`);
    }
    const message: RefusedMessage = { id: entry.id, reason, deadLetter };
    this.onRefused?.(message);
  }

  /** Connects one client; a broker that cannot be reached is a one-line error naming the URL. */
  private async connect(): Promise<Redis> {
    const { default: RedisClient } = await import('ioredis');
    const client = new RedisClient(this.options.url, {
      lazyConnect: true,
      connectTimeout: this.options.connectTimeoutMs,
      // No silent reconnecting: a lost broker fails the run, which resumes from its checkpoint exactly.
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    let lastError: Error | undefined;
    client.on('error', (error: Error) => (lastError = error));
    try {
      await client.connect();
    } catch (error) {
      client.disconnect();
      const e = (lastError ?? error) as Error;
      throw new BoltzmannError(`cannot reach Redis at ${redactUrl(this.options.url)}: ${e.message || (e as NodeJS.ErrnoException).code || String(e)}`);
    }
    return client;
  }

  /** A command on the command connection, its errors one line naming the broker. */
  private async command(name: string, ...args: (string | number)[]): Promise<unknown> {
    try {
      return await this.client!.call(name, ...args);
    } catch (error) {
      throw this.failure(error, name);
    }
  }

  private failure(error: unknown, what: string): BoltzmannError {
    const message = (error as Error)?.message ?? String(error);
    if (/Connection is closed|ECONNRESET|ECONNREFUSED|Stream isn't writeable/i.test(message)) {
      return new BoltzmannError(`lost the connection to Redis at ${redactUrl(this.options.url)} (${what}); resume the run from its last checkpoint`);
    }
    return new BoltzmannError(`${this.description}: ${what} failed: ${message}`);
  }
}

/** A stream entry id: milliseconds and a sequence number. */
const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;

/** Orders two entry ids as the stream does (by milliseconds, then sequence). */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-') as [string, string];
  const [bm, bs] = b.split('-') as [string, string];
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** XREADGROUP's reply (buffers) as entries: [[stream, [[id, [field, value, ...] | null], ...]]] or null. */
function parseEntries(reply: unknown): Entry[] {
  if (reply === null) return [];
  const streams = reply as [Buffer, [Buffer, Buffer[] | null][]][];
  const out: Entry[] = [];
  for (const [, entries] of streams) {
    for (const [id, flat] of entries) {
      let fields: Map<string, Buffer> | undefined;
      if (flat !== null) {
        fields = new Map();
        for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!.toString('utf8'), flat[i + 1]!);
      }
      out.push({ id: id.toString('latin1'), fields });
    }
  }
  return out;
}

/** Options checked, with defaults; errors name the option ("stream" must be a non-empty string...). */
export function checkRedisStreamOptions(options: RedisStreamOptions): ResolvedRedisStreamOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidValueError('a redis stream source needs options { url, stream, group, columns }');
  const { text, whole } = optionReaders(options);
  const url = text('url');
  if (!/^rediss?:\/\/[^\s]+$/.test(url)) throw new InvalidValueError(`"url" must be redis://host:port[/db] (or rediss://), got ${JSON.stringify(url)}`);
  const start = options.start ?? '0';
  if (start !== '0' && start !== '$') throw new InvalidValueError(`"start" must be "0" (every entry in the stream) or "$" (only new entries), got ${JSON.stringify(start)}`);
  const create = options.create ?? false;
  if (typeof create !== 'boolean') throw new InvalidValueError(`"create" must be true or false, got ${JSON.stringify(create)}`);
  const stream = text('stream');
  const deadLetter = text('deadLetter', `${stream}:dead`);
  if (deadLetter === stream) throw new InvalidValueError(`"deadLetter" must be another stream than "stream" ("${stream}")`);
  const claim = options.claimAfterMs === null ? null : whole('claimAfterMs', 0, 0);
  return {
    url,
    stream,
    group: text('group'),
    consumer: text('consumer', 'trainer'),
    columns: whole('columns', NaN, 1),
    encoding: checkRowEncoding(options.encoding ?? 'float32le', '"encoding"'),
    field: text('field', 'row'),
    deadLetter,
    start,
    create,
    claimAfterMs: claim,
    blockMs: whole('blockMs', 2000, 1),
    connectTimeoutMs: whole('connectTimeoutMs', 5000, 1),
  };
}
