import { decodeEventMessage, type EventMessage } from './event-message.js';
import type { EventChannel } from './event-sink-spec.js';
import { readNatsEvents, readRedisEvents, type ReaderItem } from './event-reader.js';

/** What `followRun` yields: an event of the followed run, or a message it could not read. */
export type FollowedItem = { kind: 'event'; message: EventMessage } | { kind: 'unreadable'; id: string; reason: string };

/** Options of `followRun`. */
export interface FollowRunOptions {
  /**
   * "latest" (default): the last run the channel holds, from its "started" event (if that run
   * has already ended, its events and then the end); where it holds none, the next run.
   * "new": only a run that starts after following begins.
   */
  from?: 'latest' | 'new';
  /** Stops following (the generator returns). */
  signal?: AbortSignal;
}

/**
 * Follows one run's events on a channel and ends after its "finished" (or "error") event.
 * One run publishes to a channel at a time (runs in turn may share it). While following, a run that starts later (a "started" event with another run id, e.g. the
 * resumed run after a crash) replaces the one followed. The channel's messages of other runs
 * are skipped; a message that is no event message is yielded as "unreadable".
 */
export async function* followRun(channel: EventChannel, options: FollowRunOptions = {}): AsyncGenerator<FollowedItem> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  const from = options.from === 'new' ? 'new' : 'stored';
  const items: AsyncGenerator<ReaderItem> =
    channel.type === 'redis-stream' ? readRedisEvents(channel.url, channel.stream, from, controller.signal) : readNatsEvents(channel.url, channel.subject, from, controller.signal);
  // Before catching up, the events of the last run seen so far wait here (bounded by what the broker keeps).
  let backlog: FollowedItem[] | undefined = [];
  let run: string | undefined;
  try {
    for await (const item of items) {
      if (item.kind === 'caught-up') {
        for (const b of backlog ?? []) yield b;
        const last = backlog?.at(-1);
        backlog = undefined;
        if (last?.kind === 'event' && ends(last.message)) return;
        continue;
      }
      let message: EventMessage;
      try {
        message = decodeEventMessage(item.text, item.id);
      } catch (error) {
        const unreadable: FollowedItem = { kind: 'unreadable', id: item.id, reason: (error as Error).message };
        if (backlog) backlog.push(unreadable);
        else yield unreadable;
        continue;
      }
      // A run is taken up when it starts; the first run read may have lost its "started" to trimming.
      if (message.run !== run && (run === undefined || message.event.type === 'started')) {
        run = message.run;
        if (backlog) backlog = [];
      }
      if (message.run !== run) continue;
      if (backlog) {
        backlog.push({ kind: 'event', message });
        continue;
      }
      yield { kind: 'event', message };
      if (ends(message)) return;
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
    controller.abort();
    await items.return(undefined);
  }
}

function ends(message: EventMessage): boolean {
  return message.event.type === 'finished' || message.event.type === 'error';
}
