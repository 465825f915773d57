import { InvalidValueError } from '@boltzmann/tensor';
import type { TrainingEventType } from '../events.js';
import { EventPublisher } from './event-publisher.js';
import { natsJetStreamSink } from './nats-jetstream-sink.js';
import { redisStreamSink } from './redis-stream-sink.js';

/** Where a run's events go (and where `followRun` reads them): a Redis stream or a NATS JetStream subject. */
export type EventChannel = { type: 'redis-stream'; url: string; stream: string } | { type: 'nats-jetstream'; url: string; subject: string };

/**
 * A run spec's `output.events`: the channel, plus how the publisher behaves. JSON, e.g.
 * `{ "type": "redis-stream", "url": "redis://127.0.0.1:6379", "stream": "run-a" }` or
 * `{ "type": "nats-jetstream", "url": "nats://127.0.0.1:4222", "subject": "boltzmann.run-a" }`.
 */
export type EventSinkSpec = EventChannel & {
  /** Messages the stream keeps, about; default 10000. */
  maxLen?: number;
  /** Event types to publish; default all. */
  include?: TrainingEventType[];
  /** Events held while the broker is slow or unreachable (then the oldest step events are dropped); default 1000. */
  buffer?: number;
  /** The run's id in every message; default a random UUID. */
  run?: string;
};

/** The event types a sink can be told to publish. */
export const EVENT_TYPES: readonly TrainingEventType[] = ['started', 'batch-end', 'epoch-end', 'checkpoint-written', 'early-stop', 'finished'];

const SINK_TYPES = {
  'redis-stream': { schemes: ['redis:', 'rediss:'], name: 'stream' },
  'nats-jetstream': { schemes: ['nats:', 'tls:'], name: 'subject' },
} as const;

/** A problem with a field of a sink spec. */
export interface SinkSpecIssue {
  path: string;
  message: string;
}

/** Checks a parsed `output.events` (at `path`): every problem with its field path; none means it is an `EventSinkSpec`. */
export function eventSinkIssues(x: unknown, path: string): SinkSpecIssue[] {
  const issues: SinkSpecIssue[] = [];
  const add = (field: string, message: string) => issues.push({ path: field === '' ? path : `${path}.${field}`, message });
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return [{ path, message: `must be null or an object { "type": "redis-stream" | "nats-jetstream", "url", ... }, got ${show(x)}` }];
  const spec = x as Record<string, unknown>;
  const type = spec['type'];
  if (type !== 'redis-stream' && type !== 'nats-jetstream') {
    add('type', `must be "redis-stream" or "nats-jetstream", got ${show(type)}`);
    return issues;
  }
  const { schemes, name } = SINK_TYPES[type];
  const allowed = ['type', 'url', name, 'maxLen', 'include', 'buffer', 'run'];
  for (const key of Object.keys(spec)) if (!allowed.includes(key)) add(key, `unknown field; fields of a ${type} sink: ${allowed.join(', ')}`);
  const url = spec['url'];
  if (typeof url !== 'string' || !schemes.some((s) => url.startsWith(`${s}//`))) add('url', `must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL, got ${show(url)}`);
  const target = spec[name];
  if (typeof target !== 'string' || target === '' || (type === 'nats-jetstream' && !/^[^\s*>]+$/.test(target))) add(name, `must be a non-empty ${type === 'nats-jetstream' ? 'subject without spaces or wildcards' : 'string'}, got ${show(target)}`);
  for (const key of ['maxLen', 'buffer'] as const) {
    const n = spec[key];
    if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1)) add(key, `must be an integer >= 1, got ${show(n)}`);
  }
  const include = spec['include'];
  if (include !== undefined && (!Array.isArray(include) || include.length === 0 || !include.every((t) => EVENT_TYPES.includes(t as TrainingEventType)))) {
    add('include', `must be a non-empty array of event types (${EVENT_TYPES.map((t) => `"${t}"`).join(', ')}), got ${show(include)}`);
  }
  const run = spec['run'];
  if (run !== undefined && (typeof run !== 'string' || run === '')) add('run', `must be a non-empty string, got ${show(run)}`);
  return issues;
}

/** Checks a sink spec, throwing one InvalidValueError with its first problem. */
export function checkEventSinkSpec(x: unknown, path = 'output.events'): EventSinkSpec {
  const [first] = eventSinkIssues(x, path);
  if (first !== undefined) throw new InvalidValueError(`${first.path}: ${first.message}`);
  return x as EventSinkSpec;
}

/**
 * An event channel from its address: the broker's URL with the stream (Redis) or subject (NATS)
 * as its path: `redis://127.0.0.1:6379/run-a`, `nats://127.0.0.1:4222/boltzmann.run-a`.
 */
export function parseEventAddress(address: string): EventChannel {
  const match = /^((rediss?|nats|tls):\/\/[^/]+)\/(.+)$/.exec(address);
  if (match === null) throw new InvalidValueError(`"${address}" is no event address; write redis://HOST:PORT/STREAM or nats://HOST:PORT/SUBJECT`);
  const [, url, scheme, name] = match as unknown as [string, string, string, string];
  const channel: EventChannel = scheme.startsWith('redis') ? { type: 'redis-stream', url, stream: decodeURIComponent(name) } : { type: 'nats-jetstream', url, subject: decodeURIComponent(name) };
  checkEventSinkSpec(channel, address);
  return channel;
}

/** The address of a channel (what `parseEventAddress` reads). */
export function eventAddress(channel: EventChannel): string {
  return `${channel.url}/${channel.type === 'redis-stream' ? channel.stream : channel.subject}`;
}

/** Connects to the spec's broker (a BrokerError when it cannot be reached) and returns a publisher onto it. */
export async function openEventSink(spec: EventSinkSpec): Promise<EventPublisher> {
  checkEventSinkSpec(spec);
  const transport =
    spec.type === 'redis-stream'
      ? await redisStreamSink({ url: spec.url, stream: spec.stream, ...(spec.maxLen === undefined ? {} : { maxLen: spec.maxLen }) })
      : await natsJetStreamSink({ url: spec.url, subject: spec.subject, ...(spec.maxLen === undefined ? {} : { maxLen: spec.maxLen }) });
  return new EventPublisher(transport, {
    ...(spec.run === undefined ? {} : { run: spec.run }),
    ...(spec.include === undefined ? {} : { include: spec.include }),
    ...(spec.buffer === undefined ? {} : { buffer: spec.buffer }),
  });
}

function show(x: unknown): string {
  if (x === undefined) return 'nothing';
  const s = JSON.stringify(x);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
