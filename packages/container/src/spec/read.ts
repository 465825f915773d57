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
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark, as some editors write
  const extension = extname(path).toLowerCase();
  const spec = extension === '.yaml' || extension === '.yml' ? parseYamlSpec(path, text) : parseJsonSpec(path, text);
  checkDepth(spec, path);
  return spec;
}

/** How deeply a spec may nest objects and arrays (real ones use 4 or 5 levels): deeper is refused before anything walks it recursively. */
export const MAX_SPEC_DEPTH = 64;

function checkDepth(root: unknown, path: string): void {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (depth > MAX_SPEC_DEPTH) throw new FormatError(`spec file "${path}" nests objects or arrays more than ${MAX_SPEC_DEPTH} levels deep`);
    for (const v of Object.values(x)) stack.push([v, depth + 1]);
  }
}

function parseJsonSpec(path: string, text: string): unknown {
  try {
    const value = JSON.parse(text) as unknown;
    checkDuplicateKeys(path, text);
    return value;
  } catch (error) {
    if (error instanceof FormatError) throw error;
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
  try {
    return doc.toJS({ maxAliasCount: 1000 }) as unknown;
  } catch (error) {
    // yaml refuses an alias bomb (aliases that expand exponentially) here.
    throw new FormatError(`spec file "${path}" is not a plain YAML document: ${(error as Error).message}`);
  }
}

/**
 * Refuses a key given twice in one JSON object (JSON.parse keeps the last silently; YAML specs
 * refuse it too). A scan of the text that JSON.parse has already accepted: strings, and the
 * stack of objects being read.
 */
function checkDuplicateKeys(path: string, text: string): void {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    } else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) throw new FormatError(`spec file "${path}" gives the key "${key}" twice in one object (line ${lineOf(text, i)})`);
        keys.add(key);
        expectKey = false;
      }
      i = j;
    }
  }
}

function lineOf(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}, column ${before[before.length - 1]!.length + 1}`;
}
