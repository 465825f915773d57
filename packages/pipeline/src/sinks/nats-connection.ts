import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { BrokerError, brokerCause } from './broker-error.js';

/**
 * Connects to the NATS server at `url` (nats://host:port), failing at once with a BrokerError
 * when it cannot be reached. Once connected, the client reconnects by itself after a loss.
 */
export async function connectNats(url: string): Promise<NatsConnection> {
  try {
    return await connect({ servers: url, timeout: 5000, maxReconnectAttempts: -1 });
  } catch (error) {
    throw new BrokerError(`cannot reach NATS at ${url}: ${brokerCause(error)}`);
  }
}

/** The JetStream stream name made for a subject that no stream captures yet ("events-runs_a" for "runs.a"). */
export function streamNameFor(prefix: string, subject: string): string {
  return `${prefix}-${subject.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** Whether JetStream said that no stream matches (a name or a subject). */
export function isStreamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}
