/**
 * The `boltzmann` executable (run by tsx, no build step): runs the CLI on the process's
 * arguments. Exit codes: 0 success, 1 an error (one line naming the file and the problem),
 * 2 a usage error, 130 interrupted by SIGINT, 143 by SIGTERM. While `train` trains, the first
 * SIGINT/SIGTERM stops it after the step in progress and saves a final checkpoint; a second one
 * exits at once. Elsewhere (sampling, log Z, evaluation) a signal ends the process at once.
 */
import { removeTempFilesInFlight } from '@boltzmann/tensor';
import { runCli } from './cli.js';
import { processIO } from './io.js';

const controller = new AbortController();
const EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
process.on('exit', removeTempFilesInFlight);

/** Routes SIGINT/SIGTERM to the controller until the returned function is called (then the default action is back). */
function catchSignals(): () => void {
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`\nboltzmann: ${signal} again: exiting at once\n`);
      process.exit(EXIT_CODES[signal] ?? 1);
    }
    controller.abort(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

process.exitCode = await runCli(process.argv.slice(2), { ...processIO(), signal: controller.signal, catchSignals });
