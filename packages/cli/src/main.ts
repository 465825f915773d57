/**
 * The `boltzmann` executable (run by tsx, no build step): runs the CLI on the process's
 * arguments; Ctrl-C stops training between two steps (a second Ctrl-C exits at once).
 */
import { runCli } from './cli.js';
import { processIO } from './io.js';

const controller = new AbortController();
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.exit(130));
});
process.exitCode = await runCli(process.argv.slice(2), { ...processIO(), signal: controller.signal });
