import { resolve } from 'node:path';
import { readSpecFile } from '@boltzmann/container';
import { ProgressBar, checkEventSinkSpec, eventAddress, followRun, type EventChannel } from '@boltzmann/pipeline';
import { UsageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { parseEventsOption } from '../common.js';
import type { CliIO } from '../io.js';

export const watchCommand: Command = {
  def: {
    name: 'watch',
    brief: 'follow a run\'s events from a broker (Redis stream or NATS subject) and print its progress',
    summary:
      'Follow the training events a run publishes to a broker (output.events, or train --events) and print its progress as train does: the latest run on that stream or subject from its start (or, with --new, the next run to start), until it finishes.',
    positionals: ['<ADDRESS|spec.json>'],
    options: [{ name: 'new', kind: 'boolean', help: 'skip the runs already on the stream or subject: wait for the next run to start' }],
    details: [
      'ADDRESS is redis://HOST:PORT/STREAM or nats://HOST:PORT/SUBJECT; a run spec file stands for the address in its output.events.',
      'Exit codes: 0 the run finished (completed, stopped early, ran out of data or was interrupted), 1 the run failed (its error is printed) or the broker cannot be reached, 130 interrupted (SIGINT), 143 (SIGTERM). A run that was killed publishes no end: watch then waits, and takes up the resumed run when it starts.',
      'Examples:\n  boltzmann watch redis://127.0.0.1:6379/digits-events\n  boltzmann watch nats://127.0.0.1:4222/boltzmann.digits --new\n  boltzmann watch spec.json',
    ],
  },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const target = args.positionals[0];
    if (target === undefined) throw new UsageError('name the events to follow: redis://HOST:PORT/STREAM, nats://HOST:PORT/SUBJECT, or a run spec with output.events');
    const channel = /^[a-z]+:\/\//i.test(target) ? parseEventsOption(target, 'ADDRESS') : channelOfSpec(resolve(io.cwd, target), target);
    const from = args.options['new'] === true ? 'new' : 'latest';
    io.stderr.write(`watching ${eventAddress(channel)}${from === 'new' ? ' for the next run' : ''}\n`);

    const stop = new AbortController();
    const onSignal = () => stop.abort(io.signal?.reason);
    io.signal?.addEventListener('abort', onSignal, { once: true });
    const uncatchSignals = io.catchSignals?.();
    let bar: ProgressBar | undefined;
    let run: string | undefined;
    let time = 0;
    let dropped = 0;
    let end: 'finished' | 'failed' | undefined;
    try {
      for await (const item of followRun(channel, { from, signal: stop.signal })) {
        if (item.kind === 'unreadable') {
          io.stderr.write(`skipped ${item.reason}\n`);
          continue;
        }
        const { message } = item;
        if (message.run !== run) {
          bar?.complete();
          run = message.run;
          dropped = 0;
          io.stdout.write(`run ${run} (since ${message.time})\n`);
          // Rates and ETA from the run's own clock, so a replayed run reads as it went.
          bar = new ProgressBar({ stream: io.stdout, now: () => time });
        }
        time = Date.parse(message.time);
        dropped = message.dropped;
        const event = message.event;
        if (event.type === 'error') {
          bar!.error(Object.assign(new Error(event.message), { name: event.name }));
          end = 'failed';
        } else {
          bar!.next(event);
          if (event.type === 'finished') end = 'finished';
        }
      }
    } finally {
      uncatchSignals?.();
      io.signal?.removeEventListener('abort', onSignal);
      bar?.complete();
    }
    if (dropped > 0) io.stdout.write(`(the publisher dropped ${dropped} events of this run: its broker was slower than training)\n`);
    if (end === undefined) {
      const reason = stop.signal.reason;
      io.stderr.write(`interrupted${typeof reason === 'string' ? ` (${reason})` : ''}\n`);
      return reason === 'SIGTERM' ? 143 : 130;
    }
    return end === 'failed' ? 1 : 0;
  },
};

/** The channel a run spec's output.events names. */
function channelOfSpec(path: string, shown: string): EventChannel {
  const spec = readSpecFile(path) as { output?: { events?: unknown } } | null;
  const events = spec?.output?.events;
  if (events === undefined || events === null) throw new UsageError(`${shown} has no output.events to follow (or give an address: redis://HOST:PORT/STREAM, nats://HOST:PORT/SUBJECT)`);
  return checkEventSinkSpec(events, `${shown}: output.events`);
}
