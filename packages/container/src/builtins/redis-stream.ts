import { REDIS_STREAM, RedisStreamSource, type RedisStreamOptions } from '@boltzmann/pipeline';
import type { DataSourceBinding } from '../tokens.js';
import { brokerSourceBinding } from './broker-source-binding.js';

/** The options of a "redis-stream" source spec (see `RedisStreamOptions`), plus `imageShape`. */
const OPTIONS = ['url', 'stream', 'group', 'consumer', 'encoding', 'field', 'deadLetter', 'start', 'create', 'claimAfterMs', 'blockMs', 'connectTimeoutMs', 'imageShape'] as const;

/**
 * "redis-stream": rows from a Redis stream through a consumer group, exactly once with respect
 * to the run's checkpoints (the pipeline's `RedisStreamSource`):
 *
 * ```json
 * "data": { "source": { "type": "redis-stream", "url": "redis://127.0.0.1:6379", "stream": "digits", "group": "trainers" }, "validationSplit": 0 },
 * "training": { "stepsPerEpoch": 100, "checkpointEvery": 1 }
 * ```
 *
 * Options: `url`, `stream`, `group` (required); `consumer` ("trainer"), `encoding` ("float32le"
 * or "json"), `field` ("row"), `deadLetter` ("<stream>:dead"), `start` ("0" or "$": where a new
 * group starts), `create` (false: a missing stream is an error), `claimAfterMs` (0; null never
 * claims), `blockMs`, `connectTimeoutMs`, `imageShape` ([height, width] of each row, for the
 * pictures). Nothing connects until the run starts.
 */
export const redisStreamSource: DataSourceBinding = brokerSourceBinding(REDIS_STREAM, OPTIONS, (options, columns) => new RedisStreamSource({ ...(options as unknown as RedisStreamOptions), columns }));
