import { BoltzmannError } from '@boltzmann/tensor';
import { UsageError, commandHelp, parseArgs } from './args.js';
import type { Command } from './command.js';
import { evaluateCommand } from './commands/evaluate.js';
import { convertCommand } from './commands/convert.js';
import { infoCommand } from './commands/info.js';
import { logzCommand } from './commands/logz.js';
import { sampleCommand } from './commands/sample.js';
import { trainCommand } from './commands/train.js';
import { transformCommand } from './commands/transform.js';
import { watchCommand } from './commands/watch.js';
import { processIO, type CliIO } from './io.js';

/** Every subcommand, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [trainCommand, evaluateCommand, sampleCommand, transformCommand, logzCommand, convertCommand, watchCommand, infoCommand];

/** `boltzmann --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.def.name.length)) + 4;
  return [
    'Usage: boltzmann <command> [arguments] [options]',
    '',
    'Boltzmann machines in TypeScript: train from a JSON run spec, then evaluate, sample, transform and score saved models.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.def.name.padEnd(width)}${c.def.brief ?? c.def.summary}`),
    '',
    'Run "boltzmann <command> --help" for its options. With no command, "train" runs with the default spec (what `npm start` does).',
    '',
  ].join('\n');
}

/**
 * Runs the `boltzmann` command line in-process: parses `argv` (without "node" and the script),
 * runs the command and resolves to its exit code: 0 success, 1 an error the framework names
 * (bad spec, corrupt file, divergence...), 2 a usage error, 130/143 interrupted (SIGINT/SIGTERM). Errors are printed
 * to `io.stderr`, never thrown.
 */
export async function runCli(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  // --debug (anywhere) adds the stack to an error's line.
  const debug = argv.includes('--debug');
  if (debug) argv = argv.filter((a) => a !== '--debug');
  const [first, ...rest] = argv;
  if (first === undefined) return runCommand(trainCommand, [], io, debug);
  if (first === '--help' || first === '-h' || first === 'help') {
    const named = COMMANDS.find((c) => c.def.name === rest[0]);
    io.stdout.write(named ? commandHelp(named.def) : mainHelp());
    return 0;
  }
  const command = COMMANDS.find((c) => c.def.name === first);
  if (command === undefined) {
    if (first.startsWith('-')) return runCommand(trainCommand, argv, io, debug); // options for the default command
    io.stderr.write(`boltzmann: unknown command "${first}"; commands: ${COMMANDS.map((c) => c.def.name).join(', ')}\n`);
    return 2;
  }
  return runCommand(command, rest, io, debug);
}

async function runCommand(command: Command, argv: readonly string[], io: CliIO, debug: boolean): Promise<number> {
  const name = command.def.name;
  try {
    const args = parseArgs(command.def, argv);
    if (args.options['help'] === true) {
      io.stdout.write(commandHelp(command.def));
      return 0;
    }
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`boltzmann ${name}: ${error.message}\n`);
      return 2;
    }
    const stack = debug && error instanceof Error && error.stack !== undefined ? `\n${error.stack}` : '';
    if (error instanceof BoltzmannError) {
      io.stderr.write(`boltzmann ${name}: ${error.name}: ${error.message}${stack}\n`);
      return 1;
    }
    io.stderr.write(`boltzmann ${name}: ${operationalError(error)}${stack || (debug ? '' : ' (--debug shows where)')}\n`);
    return 1;
  }
}

/**
 * One line for an error that is not the framework's own: a file-system error says what and
 * where (disk full, a folder where a file was expected...), a stack overflow that the input
 * nests too deeply; anything else is reported as unexpected.
 */
function operationalError(error: unknown): string {
  if (!(error instanceof Error)) return `unexpected error: ${String(error)}`;
  const e = error as NodeJS.ErrnoException & { dest?: string };
  if (typeof e.code === 'string' && typeof e.syscall === 'string') {
    const where = e.path !== undefined ? ` "${e.path}"${e.dest !== undefined ? ` -> "${e.dest}"` : ''}` : '';
    const why: Record<string, string> = {
      ENOSPC: 'no space left on the device',
      EISDIR: 'is a directory, not a file',
      ENOTDIR: 'a part of the path is a file, not a directory',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      ENOENT: 'no such file or directory',
      EROFS: 'read-only file system',
      EDQUOT: 'disk quota exceeded',
    };
    return `cannot ${e.syscall}${where}: ${why[e.code] ?? e.message} (${e.code})`;
  }
  if (error instanceof RangeError && /call stack/i.test(error.message)) return 'the input nests too deeply to process (stack overflow)';
  return `unexpected error: ${error.message}`;
}
