import { checkOptionKeys } from '@boltzmann/core';
import { NATS_JETSTREAM, NatsJetStreamSource, type NatsJetStreamOptions } from '@boltzmann/pipeline';
import { InvalidValueError } from '@boltzmann/tensor';
import type { DataSourceBinding, DataSourceSpec } from '../tokens.js';

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
export const natsJetStreamSource: DataSourceBinding = {
  name: NATS_JETSTREAM,
  factory: (spec, context) => {
    checkOptionKeys(`data source "${NATS_JETSTREAM}"`, spec, OPTIONS);
    const { type: _type, imageShape: shape, ...options } = spec as DataSourceSpec & Record<(typeof OPTIONS)[number], unknown>;
    let imageShape: [number, number] | undefined;
    if (shape !== undefined) {
      if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((s) => Number.isInteger(s) && s > 0) || shape[0] * shape[1] !== context.columns) {
        throw new InvalidValueError(`"imageShape" must be [height, width] with height * width = ${context.columns} (the visible units), got ${JSON.stringify(shape)}`);
      }
      imageShape = [shape[0], shape[1]];
    }
    const stream = new NatsJetStreamSource({ ...(options as unknown as NatsJetStreamOptions), columns: context.columns });
    return { stream, description: stream.description, ...(imageShape === undefined ? {} : { imageShape }) };
  },
};
