import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { FormatError } from '@boltzmann/tensor';
import { parseDocument } from 'yaml';

/**
 * Reads a spec file: YAML when its name ends in .yaml or .yml, JSON otherwise (the two
 * describe the same object). A missing file or a syntax error gives a FormatError naming the
 * file and, for a syntax error, the line and column.
 */
export function readSpecFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FormatError(code === 'ENOENT' ? `spec file "${path}" does not exist` : `cannot read spec file "${path}": ${(error as Error).message}`);
  }
  const extension = extname(path).toLowerCase();
  return extension === '.yaml' || extension === '.yml' ? parseYamlSpec(path, text) : parseJsonSpec(path, text);
}

function parseJsonSpec(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    const where = at ? ` (line ${lineOf(text, Number(at[1]))})` : '';
    throw new FormatError(`spec file "${path}" is not valid JSON${where}: ${message}`);
  }
}

function parseYamlSpec(path: string, text: string): unknown {
  // One document of plain data: syntax errors, repeated keys and unknown tags (which yaml
  // would only warn about, keeping the tagged value as a string) are all refused.
  const doc = parseDocument(text, { uniqueKeys: true });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    const at = problem.linePos?.[0];
    const where = at ? ` (line ${at.line}, column ${at.col})` : '';
    // The message's first line, without the position it repeats (the excerpt follows it).
    const what = problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new FormatError(`spec file "${path}" is not valid YAML${where}: ${what}`);
  }
  return doc.toJS() as unknown;
}

function lineOf(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}, column ${before[before.length - 1]!.length + 1}`;
}
