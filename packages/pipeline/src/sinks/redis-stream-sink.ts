import { createClient } from 'redis';
import { BrokerError, brokerCause } from './broker-error.js';
import type { EventTransport } from './event-publisher.js';

/** A connected node-redis client. */
export type RedisClient = Awaited<ReturnType<typeof connectRedis>>;

/**
 * Connects to Redis at `url`, failing at once with a BrokerError when it cannot be reached.
 * Once connected, a lost connection is retried in the background (at most every 2 s) and
 * commands issued meanwhile fail at once instead of queueing without bound.
 */
export async function connectRedis(url: string) {
  let connected = false;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries: number, cause: Error) => (connected ? Math.min(100 * 2 ** retries, 2000) : new BrokerError(`cannot reach redis at ${url}: ${brokerCause(cause)}`)),
    },
  });
  // node-redis reports connection trouble as 'error' events; the commands' own rejections say what failed.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw error instanceof BrokerError ? error : new BrokerError(`cannot reach redis at ${url}: ${brokerCause(error)}`);
  }
  connected = true;
  return client;
}

/** Options of `redisStreamSink`. */
export interface RedisStreamSinkOptions {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  /** The stream's key. */
  stream: string;
  /** Entries the stream keeps, about (XADD MAXLEN ~); default 10000. */
  maxLen?: number;
}

/** The entry field holding a message's JSON. */
export const REDIS_EVENT_FIELD = 'message';

/**
 * An event transport onto a Redis stream: each message is one entry `{ message: <JSON> }`
 * appended by XADD with MAXLEN ~ `maxLen`, so the stream stays bounded however long the run.
 */
export async function redisStreamSink(options: RedisStreamSinkOptions): Promise<EventTransport> {
  const { url, stream } = options;
  const maxLen = options.maxLen ?? 10000;
  const client = await connectRedis(url);
  return {
    description: `redis stream ${stream} at ${url}`,
    async send(messages) {
      // Issued in one tick, node-redis pipelines them: one round trip per batch, in order.
      await Promise.all(messages.map((m) => client.xAdd(stream, '*', { [REDIS_EVENT_FIELD]: m }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: maxLen } })));
    },
    async close() {
      await client.close();
    },
  };
}
