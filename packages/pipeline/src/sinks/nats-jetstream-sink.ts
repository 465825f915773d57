import { DiscardPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { BrokerError, brokerCause } from './broker-error.js';
import type { EventTransport } from './event-publisher.js';
import { connectNats, isStreamNotFound, streamNameFor } from './nats-connection.js';

/** Options of `natsJetStreamSink`. */
export interface NatsJetStreamSinkOptions {
  /** nats://host:port */
  url: string;
  /** The subject events are published on ("boltzmann.events.run-a"). */
  subject: string;
  /**
   * Messages the stream keeps when the sink creates it (oldest discarded); default 10000. A
   * stream that already captures the subject is used as it is.
   */
  maxLen?: number;
}

/**
 * An event transport onto NATS JetStream: each message is published on `subject` and stored
 * by the stream that captures it, so a watcher that starts late still reads the run from its
 * start. Where no stream captures the subject, the sink creates one named `events-<subject>`
 * keeping the last `maxLen` messages. Each publish waits for JetStream's acknowledgement.
 */
export async function natsJetStreamSink(options: NatsJetStreamSinkOptions): Promise<EventTransport> {
  const { url, subject } = options;
  const nc = await connectNats(url);
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, subject, options.maxLen ?? 10000);
  } catch (error) {
    await nc.close();
    throw error instanceof BrokerError ? error : new BrokerError(`nats at ${url}: cannot set up a JetStream stream for ${subject}: ${brokerCause(error)}`);
  }
  const js = jetstream(nc);
  return {
    description: `nats subject ${subject} at ${url}`,
    async send(messages) {
      await Promise.all(messages.map((m) => js.publish(subject, m)));
    },
    async close() {
      await nc.drain();
    },
  };
}

/** The name of the stream capturing `subject`, created (keeping `maxMessages`) where none does. */
export async function ensureStream(jsm: JetStreamManager, subject: string, maxMessages: number): Promise<string> {
  try {
    return await jsm.streams.find(subject);
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
  }
  const name = streamNameFor('events', subject);
  await jsm.streams.add({ name, subjects: [subject], max_msgs: maxMessages, discard: DiscardPolicy.Old });
  return name;
}
