import { NATS_JETSTREAM, NatsJetStreamSource, type NatsJetStreamOptions } from '@boltzmann/pipeline';
import type { DataSourceBinding } from '../tokens.js';
import { brokerSourceBinding } from './broker-source-binding.js';

/** The options of a "nats-jetstream" source spec (see `NatsJetStreamOptions`), plus `imageShape`. */
const OPTIONS = ['url', 'stream', 'consumer', 'subject', 'encoding', 'deadLetter', 'start', 'create', 'ackWaitMs', 'blockMs', 'imageShape'] as const;

/**
 * "nats-jetstream": rows from a NATS JetStream stream through a durable pull consumer with
 * explicit acknowledgements, exactly once with respect to the run's checkpoints (the
 * pipeline's `NatsJetStreamSource`):
 *
 * ```json
 * "data": { "source": { "type": "nats-jetstream", "url": "nats://127.0.0.1:4222", "stream": "digits" }, "validationSplit": 0 },
 * "training": { "stepsPerEpoch": 100, "checkpointEvery": 1 }
 * ```
 *
 * Options: `url`, `stream` (required); `consumer` ("trainer"), `subject` (the consumer's
 * filter), `encoding` ("float32le" or "json"), `deadLetter` ("boltzmann.dead.<stream>"),
 * `start` ("all" or "new": where a new consumer starts), `create` (false: a missing stream is
 * an error), `ackWaitMs` (one hour), `blockMs`, `imageShape` ([height, width] of each row, for
 * the pictures). Nothing connects until the run starts.
 */
export const natsJetStreamSource: DataSourceBinding = brokerSourceBinding(NATS_JETSTREAM, OPTIONS, (options, columns) => new NatsJetStreamSource({ ...(options as unknown as NatsJetStreamOptions), columns }));
