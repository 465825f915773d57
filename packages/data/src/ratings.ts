import { FormatError, InvalidValueError } from '@boltzmann/tensor';
import { type ByteSource, readSourceBytes } from './source-bytes.js';

/** Options of {@link readRatings} and {@link parseRatings}. */
export interface RatingsOptions {
  /**
   * The field separator: '\t', ',', ';', '::' (MovieLens 1M/10M), ' ' (runs of spaces/tabs), or
   * 'auto' (default): the first of '::', tab, ',', ';' found on the first data line, else spaces.
   */
  delimiter?: string;
  /**
   * The rating values allowed (MovieLens 100k/1M: 1..5, ml-latest: 0.5..5 in halves). Default
   * [1, 2, 3, 4, 5]. A rating that is not one of them is a FormatError naming the line.
   */
  levels?: readonly number[];
  /**
   * Whether the first line names the columns (ml-latest's "userId,movieId,rating,timestamp").
   * 'auto' (default): it does when its rating field is not a number.
   */
  header?: boolean | 'auto';
  /** The name used in error messages for text passed to parseRatings. Default '<ratings>'. */
  name?: string;
}

/**
 * Ratings in coordinate form: rating r of the table is `ratings[r]`, given by user `users[r]`
 * to item `items[r]`, both dense 0-based indices in order of first appearance in the file. The
 * file's own ids are in `userIds` / `itemIds`.
 */
export interface RatingsTable {
  users: Uint32Array;
  items: Uint32Array;
  ratings: Float64Array;
  /** The fourth column, when every line has one. */
  timestamps?: Float64Array;
  userIds: string[];
  itemIds: string[];
  userCount: number;
  itemCount: number;
  /** The declared rating levels, ascending. */
  levels: number[];
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const AUTO_DELIMITERS = ['::', '\t', ',', ';'];

/**
 * Reads a MovieLens-style ratings file (gzipped or not): one "user item rating [timestamp]"
 * a line, separated by tabs (ml-100k u.data), '::' (ml-1m ratings.dat), commas (ml-latest
 * ratings.csv, with a header) or spaces. Empty lines are skipped. Any other deviation - a
 * missing field, a non-numeric rating or timestamp, a rating outside the declared levels, the
 * same user rating the same item twice - is a FormatError naming the file and the 1-based line.
 */
export function readRatings(source: ByteSource, options: RatingsOptions = {}): RatingsTable {
  const { bytes, name } = readSourceBytes(source, options.name);
  return parseRatings(new TextDecoder('utf-8').decode(bytes), { ...options, name });
}

/** Parses ratings text; see readRatings for the rules. */
export function parseRatings(text: string, options: RatingsOptions = {}): RatingsTable {
  const name = options.name ?? '<ratings>';
  const levels = checkLevels(options.levels ?? [1, 2, 3, 4, 5]);
  const allowed = new Set(levels);
  const lines = text.split('\n');
  const firstData = lines.findIndex((l) => l.trim() !== '');
  if (firstData < 0) throw new FormatError(`${name}: holds no ratings`);
  const delimiter = resolveDelimiter(options.delimiter ?? 'auto', lines[firstData]!);
  const split = (line: string): string[] => (delimiter === ' ' ? line.trim().split(/[ \t]+/) : line.split(delimiter).map((f) => f.trim()));

  const headerMode = options.header ?? 'auto';
  let skip = -1;
  if (headerMode === true || (headerMode === 'auto' && !NUMBER.test(split(stripCr(lines[firstData]!))[2] ?? ''))) skip = firstData;

  const users: number[] = [];
  const items: number[] = [];
  const ratings: number[] = [];
  const timestamps: number[] = [];
  const userIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  const seen = new Map<number, number>();
  let withTimestamp: boolean | undefined;
  lines.forEach((raw, i) => {
    const line = stripCr(raw);
    if (i === skip || line.trim() === '') return;
    const at = `${name}: line ${i + 1}`;
    const fields = split(line);
    if (fields.length < 3 || fields.length > 4) {
      throw new FormatError(`${at} has ${fields.length} fields; expected user, item, rating and an optional timestamp separated by ${describe(delimiter)}`);
    }
    const [user, item, ratingText, time] = fields as [string, string, string, string | undefined];
    if (user === '' || item === '') throw new FormatError(`${at}: empty ${user === '' ? 'user' : 'item'} id`);
    if (!NUMBER.test(ratingText)) {
      const hint = i === firstData && headerMode === false ? '; drop { header: false } if the first line names the columns' : '';
      throw new FormatError(`${at}: rating ${JSON.stringify(ratingText)} is not a number${hint}`);
    }
    const rating = Number(ratingText);
    if (!allowed.has(rating)) throw new FormatError(`${at}: rating ${ratingText} is not one of the declared levels ${levels.join(', ')}`);
    const hasTime = time !== undefined;
    if (withTimestamp === undefined) withTimestamp = hasTime;
    else if (withTimestamp !== hasTime) throw new FormatError(`${at} has ${fields.length} fields but earlier lines have ${withTimestamp ? 4 : 3}`);
    if (hasTime) {
      if (!NUMBER.test(time)) throw new FormatError(`${at}: timestamp ${JSON.stringify(time)} is not a number`);
      timestamps.push(Number(time));
    }
    const u = indexOf(userIndex, user);
    const it = indexOf(itemIndex, item);
    const pair = u * 4294967296 + it; // exact below 2^21 users
    const earlier = seen.get(pair);
    if (earlier !== undefined) throw new FormatError(`${at}: user ${user} rates item ${item} again (first on line ${earlier})`);
    seen.set(pair, i + 1);
    users.push(u);
    items.push(it);
    ratings.push(rating);
  });
  if (ratings.length === 0) throw new FormatError(`${name}: holds a header but no ratings`);
  const table: RatingsTable = {
    users: Uint32Array.from(users),
    items: Uint32Array.from(items),
    ratings: Float64Array.from(ratings),
    userIds: [...userIndex.keys()],
    itemIds: [...itemIndex.keys()],
    userCount: userIndex.size,
    itemCount: itemIndex.size,
    levels,
  };
  if (withTimestamp) table.timestamps = Float64Array.from(timestamps);
  return table;
}

/** Distinct finite numbers, at least two, returned ascending. */
function checkLevels(levels: readonly number[]): number[] {
  if (!Array.isArray(levels) || levels.length < 2) throw new InvalidValueError(`rating levels must list at least two values, got ${JSON.stringify(levels)}`);
  for (const l of levels) if (typeof l !== 'number' || !Number.isFinite(l)) throw new InvalidValueError(`rating level ${String(l)} is not a finite number`);
  const sorted = [...levels].sort((a, b) => a - b);
  for (let k = 1; k < sorted.length; k++) if (sorted[k] === sorted[k - 1]) throw new InvalidValueError(`rating level ${sorted[k]} is listed twice`);
  return sorted;
}

function resolveDelimiter(delimiter: string, firstLine: string): string {
  if (delimiter !== 'auto') {
    if (typeof delimiter !== 'string' || delimiter === '' || delimiter.includes('\n')) throw new InvalidValueError(`ratings delimiter must be a non-empty string without newlines, got ${JSON.stringify(delimiter)}`);
    return delimiter;
  }
  return AUTO_DELIMITERS.find((d) => firstLine.includes(d)) ?? ' ';
}

function describe(delimiter: string): string {
  return delimiter === '\t' ? 'tabs' : delimiter === ' ' ? 'spaces' : `"${delimiter}"`;
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function indexOf(map: Map<string, number>, id: string): number {
  let k = map.get(id);
  if (k === undefined) {
    k = map.size;
    map.set(id, k);
  }
  return k;
}
