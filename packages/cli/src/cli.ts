import { BoltzmannError } from '@boltzmann/tensor';
import { UsageError, commandHelp, parseArgs } from './args.js';
import type { Command } from './command.js';
import { evaluateCommand } from './commands/evaluate.js';
import { convertCommand } from './commands/convert.js';
import { logzCommand } from './commands/logz.js';
import { sampleCommand } from './commands/sample.js';
import { trainCommand } from './commands/train.js';
import { transformCommand } from './commands/transform.js';
import { processIO, type CliIO } from './io.js';

/** Every subcommand, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [trainCommand, evaluateCommand, sampleCommand, transformCommand, logzCommand, convertCommand];

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
 * (bad spec, corrupt file, divergence...), 2 a usage error, 130 interrupted. Errors are printed
 * to `io.stderr`, never thrown.
 */
export async function runCli(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) return runCommand(trainCommand, [], io);
  if (first === '--help' || first === '-h' || first === 'help') {
    const named = COMMANDS.find((c) => c.def.name === rest[0]);
    io.stdout.write(named ? commandHelp(named.def) : mainHelp());
    return 0;
  }
  const command = COMMANDS.find((c) => c.def.name === first);
  if (command === undefined) {
    if (first.startsWith('-')) return runCommand(trainCommand, argv, io); // options for the default command
    io.stderr.write(`boltzmann: unknown command "${first}"; commands: ${COMMANDS.map((c) => c.def.name).join(', ')}\n`);
    return 2;
  }
  return runCommand(command, rest, io);
}

async function runCommand(command: Command, argv: readonly string[], io: CliIO): Promise<number> {
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
    if (error instanceof BoltzmannError) {
      io.stderr.write(`boltzmann ${name}: ${error.name}: ${error.message}\n`);
      return 1;
    }
    // Not one of ours: a bug or an environment problem; the stack helps.
    io.stderr.write(`boltzmann ${name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
