import { nearestName } from '@boltzmann/core';
import { BoltzmannError } from '@boltzmann/tensor';

/** A command line the user must fix (unknown option, missing value...); the CLI prints it with the command's usage hint. */
export class UsageError extends BoltzmannError {}

/** How one option takes its value. */
export type OptionKind = 'string' | 'integer' | 'number' | 'boolean' | 'list';

/** One `--name` option of a command. */
export interface OptionDef {
  /** Long name without dashes ("batch-size"). */
  readonly name: string;
  readonly kind: OptionKind;
  /** What the value is, for the help ("N", "FILE", "NAME"). */
  readonly value?: string;
  readonly help: string;
  /** One-letter alias ("h"). */
  readonly short?: string;
}

/** A command's arguments and options, for parsing and for its --help. */
export interface CommandDef {
  readonly name: string;
  /** What it does (the first paragraph of its --help). */
  readonly summary: string;
  /** A few words for the command list of `boltzmann --help`; default the summary. */
  readonly brief?: string;
  /** Positional arguments, e.g. ["<model.json>", "[spec.json]"]. */
  readonly positionals: readonly string[];
  readonly options: readonly OptionDef[];
  /** Paragraphs after the option list (details, examples). */
  readonly details?: readonly string[];
}

/** What `parseArgs` found: option values by long name, and the positional arguments. */
export interface ParsedArgs {
  readonly options: Readonly<Record<string, string | number | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

/** The --help option every command has. */
export const HELP_OPTION: OptionDef = { name: 'help', short: 'h', kind: 'boolean', help: 'show this help' };

/**
 * Parses `argv` against a command's options: `--name value`, `--name=value`, `-h`, booleans as
 * bare flags (or `--name=false`), list options repeated (`--plugin a --plugin b`), `--` ending
 * options. Unknown options, missing or malformed values and too many positionals are a
 * UsageError that names the problem.
 */
export function parseArgs(def: CommandDef, argv: readonly string[]): ParsedArgs {
  const all = [...def.options, HELP_OPTION];
  const options: Record<string, string | number | boolean | string[] | undefined> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else {
      const byShort = all.find((o) => o.short === arg.slice(1));
      if (!byShort) throw new UsageError(`unknown option ${arg} for "${def.name}"`);
      name = byShort.name;
    }
    const opt = all.find((o) => o.name === name);
    if (!opt) throw new UsageError(`unknown option --${name} for "${def.name}"${suggest(name, all.map((o) => o.name))}; see boltzmann ${def.name} --help`);
    if (opt.kind === 'boolean') {
      if (inline === undefined || inline === 'true') options[opt.name] = true;
      else if (inline === 'false') options[opt.name] = false;
      else throw new UsageError(`--${opt.name} is a flag: give it alone or as --${opt.name}=true / =false, got "${inline}"`);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new UsageError(`--${opt.name} needs a value (${opt.value ?? opt.kind})`);
      raw = next;
      i++;
    }
    options[opt.name] = convert(opt, raw, options[opt.name]);
  }
  const max = def.positionals.length;
  if (positionals.length > max) {
    throw new UsageError(`"${def.name}" takes ${max === 0 ? 'no arguments' : `at most ${max} argument(s): ${def.positionals.join(' ')}`}, got: ${positionals.join(' ')}`);
  }
  const required = def.positionals.filter((p) => p.startsWith('<')).length;
  if (positionals.length < required && options['help'] !== true) {
    throw new UsageError(`"${def.name}" needs ${def.positionals.slice(0, required).join(' ')}; see boltzmann ${def.name} --help`);
  }
  return { options, positionals };
}

function convert(opt: OptionDef, raw: string, previous: unknown): string | number | string[] {
  switch (opt.kind) {
    case 'integer': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isInteger(n)) throw new UsageError(`--${opt.name} must be an integer, got "${raw}"`);
      return n;
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${opt.name} must be a number, got "${raw}"`);
      return n;
    }
    case 'list':
      return [...(Array.isArray(previous) ? (previous as string[]) : []), raw];
    default:
      return raw;
  }
}

/** The --help text of a command. */
export function commandHelp(def: CommandDef): string {
  const lines = [`Usage: boltzmann ${def.name}${def.positionals.length ? ` ${def.positionals.join(' ')}` : ''} [options]`, '', def.summary, '', 'Options:'];
  const all = [...def.options, HELP_OPTION];
  const left = all.map((o) => `  ${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.kind === 'boolean' ? '' : ` ${o.value ?? o.kind.toUpperCase()}`}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  all.forEach((o, i) => lines.push(`${left[i]!.padEnd(width)}${o.help}${o.kind === 'list' ? ' (repeatable)' : ''}`));
  for (const d of def.details ?? []) lines.push('', d);
  return `${lines.join('\n')}\n`;
}

/** " (did you mean --x?)" for a name a few edits from a known option. */
function suggest(name: string, known: readonly string[]): string {
  const best = nearestName(name, known);
  return best === undefined ? '' : ` (did you mean --${best}?)`;
}
