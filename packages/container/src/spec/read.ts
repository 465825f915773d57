import { readFileSync } from 'node:fs';
import { FormatError } from '@boltzmann/tensor';

/**
 * Reads a spec file as JSON. A missing file or bad JSON gives a FormatError naming the file
 * (and, for bad JSON, the line and column).
 */
export function readSpecFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FormatError(code === 'ENOENT' ? `spec file "${path}" does not exist` : `cannot read spec file "${path}": ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    const where = at ? ` (line ${lineOf(text, Number(at[1]))})` : '';
    throw new FormatError(`spec file "${path}" is not valid JSON${where}: ${message}`);
  }
}

function lineOf(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}, column ${before[before.length - 1]!.length + 1}`;
}
