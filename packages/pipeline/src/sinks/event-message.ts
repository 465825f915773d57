import { InvalidValueError } from '@boltzmann/tensor';
import type { TrainingEvent } from '../events.js';

/**
 * One training event as a broker carries it (JSON, UTF-8): the event with the run it belongs
 * to, its number in that run and the time it happened. Non-finite numbers (a NaN metric, the
 * `Infinity` epochs of an unbounded stream) are written as the strings "NaN", "Infinity" and
 * "-Infinity", which `decodeEventMessage` turns back into numbers.
 */
export interface EventMessage {
  /** The run's id (`EventPublisherOptions.run`): tells runs apart in one stream or subject. */
  run: string;
  /** 1 for the run's first published event, then +1 per event offered to the publisher (dropped ones included: a gap is a drop). */
  seq: number;
  /** When the publisher received the event (ISO 8601). */
  time: string;
  /** Events dropped by the publisher so far in this run (its buffer was full, or the broker refused them). */
  dropped: number;
  event: TrainingEvent | RunFailedEvent;
}

/** The run's stream failed (its error, as `JsonlLogger` writes it); nothing follows. */
export interface RunFailedEvent {
  type: 'error';
  name: string;
  message: string;
}

/** The JSON text of a message. */
export function encodeEventMessage(message: EventMessage): string {
  return JSON.stringify(message, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value));
}

const NON_FINITE: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

/** Reads a message back; `where` names it in the error ("redis stream run-a, entry 1-0"). */
export function decodeEventMessage(text: string, where: string): EventMessage {
  let value: unknown;
  try {
    value = JSON.parse(text, (_key, v: unknown) => (typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v));
  } catch (error) {
    throw new InvalidValueError(`${where}: not a training event message (${(error as Error).message})`);
  }
  const m = value as Partial<EventMessage> | null;
  const ok =
    typeof m === 'object' && m !== null && typeof m.run === 'string' && typeof m.seq === 'number' && typeof m.time === 'string' && typeof m.dropped === 'number' && typeof m.event === 'object' && m.event !== null && typeof (m.event as { type?: unknown }).type === 'string';
  if (!ok) throw new InvalidValueError(`${where}: not a training event message (needs run, seq, time, dropped and event.type)`);
  return m as EventMessage;
}
