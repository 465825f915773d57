import type { Redis } from 'ioredis';
import { BrokerError, brokerCause } from './broker-error.js';
import type { EventTransport } from './event-publisher.js';

/**
 * Connects to Redis at `url` (with the npm client `ioredis`, loaded here), failing at once
 * with a BrokerError when it cannot be reached. Once connected, a lost connection is retried
 * in the background (at most every 2 s) and commands issued meanwhile fail at once instead of
 * queueing without bound.
 */
export async function connectRedis(url: string): Promise<Redis> {
  const { default: RedisClient } = await import('ioredis');
  let connected = false;
  const client = new RedisClient(url, {
    lazyConnect: true,
    connectTimeout: 5000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times: number) => (connected ? Math.min(100 * 2 ** times, 2000) : null),
  });
  let lastError: Error | undefined;
  // ioredis reports connection trouble as 'error' events; the commands' own rejections say what failed.
  client.on('error', (error: Error) => (lastError = error));
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new BrokerError(`cannot reach Redis at ${redactUrl(url)}: ${brokerCause(lastError ?? error)}`);
  }
  connected = true;
  return client;
}

/** The URL without its password (for messages). */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
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
    description: `redis stream ${stream} at ${redactUrl(url)}`,
    async send(messages) {
      // One pipeline: one round trip per batch, in order.
      const pipeline = client.pipeline();
      for (const m of messages) pipeline.xadd(stream, 'MAXLEN', '~', maxLen, '*', REDIS_EVENT_FIELD, m);
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([error]) => error !== null);
      if (failed) throw failed[0] as Error;
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
