import type { CommandDef, ParsedArgs } from './args.js';
import type { CliIO } from './io.js';

/** One subcommand of `boltzmann`: its arguments (for parsing and --help) and what it does. */
export interface Command {
  readonly def: CommandDef;
  /** Runs it; resolves to the exit code (0 on success). Errors are thrown and reported by `runCli`. */
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}
