import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { BrokerError, brokerCause } from './broker-error.js';
import { connectNats, isStreamNotFound } from './nats-connection.js';
import { REDIS_EVENT_FIELD, connectRedis, redactUrl } from './redis-stream-sink.js';

/** What an event reader yields: a stored message, or the news that everything stored when reading began has been read. */
export type ReaderItem = { kind: 'message'; id: string; text: string } | { kind: 'caught-up' };

/** Where `readEvents` starts: every message the broker still holds, or only those stored after it starts. */
export type ReadFrom = 'stored' | 'new';

/** Milliseconds one blocking read waits before it looks at the signal again. */
const POLL_MS = 500;

/**
 * Reads the event messages of a Redis stream in order, then waits for new ones until `signal`
 * aborts: "caught-up" comes once, after the last entry the stream held when reading began
 * (at once for "new" or an empty stream). Blocking reads (XREAD BLOCK) on a connection of its own.
 */
export async function* readRedisEvents(url: string, stream: string, from: ReadFrom, signal: AbortSignal): AsyncGenerator<ReaderItem> {
  const client = await connectRedis(url);
  const fail = (error: unknown) => new BrokerError(`reading redis stream ${stream} at ${redactUrl(url)}: ${brokerCause(error)}`);
  try {
    let last: [string, string[]][];
    try {
      last = (await client.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
    } catch (error) {
      throw fail(error);
    }
    const tail = last[0]?.[0];
    let after = from === 'new' ? (tail ?? '0-0') : '0-0';
    let caughtUp = from === 'new' || tail === undefined;
    if (caughtUp) yield { kind: 'caught-up' };
    while (!signal.aborted) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await client.xread('COUNT', 500, 'BLOCK', POLL_MS, 'STREAMS', stream, after)) as [string, [string, string[]][]][] | null;
      } catch (error) {
        throw fail(error);
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          after = id;
          const at = fields.indexOf(REDIS_EVENT_FIELD);
          yield { kind: 'message', id: `${stream} ${id}`, text: at >= 0 && at % 2 === 0 ? (fields[at + 1] ?? '') : '' };
          if (!caughtUp && id === tail) {
            caughtUp = true;
            yield { kind: 'caught-up' };
          }
        }
      }
      // The entry that was last may have been trimmed away meanwhile: reading past it is caught up too.
      if (!caughtUp && reply === null) {
        caughtUp = true;
        yield { kind: 'caught-up' };
      }
    }
  } finally {
    client.disconnect();
  }
}

/**
 * Reads the event messages published on a NATS subject from the JetStream stream that captures
 * it (an ordered consumer: nothing to acknowledge, nothing left behind), then waits for new
 * ones until `signal` aborts. Before any stream captures the subject (no run has published yet)
 * it waits for one. "caught-up" as for `readRedisEvents`.
 */
export async function* readNatsEvents(url: string, subject: string, from: ReadFrom, signal: AbortSignal): AsyncGenerator<ReaderItem> {
  const nc = await connectNats(url);
  try {
    const jsm = await jetstreamManager(nc);
    let stream: string | undefined;
    let caughtUp = false;
    while (stream === undefined) {
      try {
        stream = await jsm.streams.find(subject);
      } catch (error) {
        if (!isStreamNotFound(error)) throw new BrokerError(`nats at ${url}: looking for the stream of ${subject}: ${brokerCause(error)}`);
        if (!caughtUp) yield { kind: 'caught-up' };
        caughtUp = true;
        if (signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
    const tail = caughtUp ? 0 : (await jsm.streams.info(stream)).state.last_seq;
    const start = from === 'new' && !caughtUp ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: tail + 1 } : { deliver_policy: DeliverPolicy.All };
    if (!caughtUp && (from === 'new' || tail === 0)) {
      caughtUp = true;
      yield { kind: 'caught-up' };
    }
    const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: subject, ...start });
    const messages = await consumer.consume({ max_messages: 500 });
    const stop = () => void messages.stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const m of messages) {
        yield { kind: 'message', id: `${stream} #${m.seq}`, text: m.string() };
        if (!caughtUp && m.seq >= tail) {
          caughtUp = true;
          yield { kind: 'caught-up' };
        }
      }
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
  } finally {
    await nc.close().catch(() => {});
  }
}
