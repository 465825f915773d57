import { closeSync, fstatSync, readSync } from 'node:fs';
import { FormatError, InvalidValueError, Matrix, type Precision } from '@boltzmann/tensor';
import { type ByteSource, MAX_INPUT_BYTES, joinChunks, openForReading, readSourceBytes } from './source-bytes.js';

/** Options of {@link readCsv} and {@link parseCsv}. */
export interface CsvOptions {
  /**
   * Whether the first line names the columns. 'auto' (default): it does when none of its
   * fields is a number; a first line that mixes names and numbers is an error.
   */
  header?: boolean | 'auto';
  /**
   * The column holding labels, taken out of the data matrix: a 0-based index (negative counts
   * from the end, -1 = last) or a header name. Default: none, every column is data.
   */
  labelColumn?: number | string;
  /** The field separator, one character. Default ','. */
  delimiter?: string;
  /** Element precision of the data matrix. Default 'float32'. */
  precision?: Precision;
  /** The name used in error messages for text passed to parseCsv. Default '<csv>'. */
  name?: string;
  /** readCsv reads at most this many bytes (default MAX_INPUT_BYTES, 1 GiB): `/dev/zero` or an endless pipe is an error, not a hang. */
  maxBytes?: number;
  /**
   * When the path is a stream (a device or a pipe: no size to check, maybe no end), readCsv
   * reads only its first this many data rows and stops there (default: to its end, within
   * maxBytes). Regular files are read whole.
   */
  maxStreamRows?: number;
}

/** The longest line readCsv takes from a stream: a device without line breaks (`/dev/zero`) is an error here. */
export const MAX_STREAM_LINE_BYTES = 16 * 1024 * 1024;

/** A numeric table read from CSV. */
export interface CsvTable {
  /** One row a line, every column except the label column. */
  data: Matrix;
  /** The label column's values, when `labelColumn` was given. */
  labels?: Float64Array;
  /** The header's names of the data columns, when the file has a header. */
  columns?: string[];
  /** The label column's header name, when the file has a header and a label column was given. */
  labelName?: string;
  /** The 1-based line of the file each data row comes from (for messages about a row's values). */
  lines: Uint32Array;
}

/** A plain decimal number: no hex, no 'Infinity', no 'NaN', no empty field. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Reads a numeric CSV file (gzipped or not). Every field must be a plain decimal number and
 * every row must have as many fields as the first; otherwise a FormatError names the file,
 * the 1-based line and column (and the column's header name). Empty lines are skipped; fields
 * may be wrapped in double quotes; quoted delimiters are not supported.
 */
export function readCsv(source: ByteSource, options: CsvOptions = {}): CsvTable {
  const maxBytes = options.maxBytes ?? MAX_INPUT_BYTES;
  if (typeof source === 'string') {
    const rows = options.maxStreamRows ?? Infinity;
    const streamed = readStreamRows(source, options.name ?? source, rows, maxBytes);
    if (streamed !== undefined) {
      const table = parseCsv(new TextDecoder('utf-8').decode(streamed), { ...options, name: options.name ?? source });
      return table.data.rows <= rows ? table : firstRows(table, rows);
    }
  }
  const { bytes, name } = readSourceBytes(source, options.name, { maxBytes });
  return parseCsv(new TextDecoder('utf-8').decode(bytes), { ...options, name });
}

/**
 * The first `rows` non-empty lines of a stream plus one (a header, maybe), or undefined when
 * `path` is a regular file (read whole, by size). Bounded: a line over MAX_STREAM_LINE_BYTES,
 * or more than `maxBytes` in all, is a FormatError.
 */
function readStreamRows(path: string, label: string, rows: number, maxBytes: number): Uint8Array | undefined {
  const fd = openForReading(path, label);
  try {
    const stat = fstatSync(fd);
    if (stat.isFile() || stat.isDirectory()) return undefined;
    const chunks: Uint8Array[] = [];
    let total = 0;
    let lines = 0;
    let lineBytes = 0;
    let lineHasText = false;
    for (;;) {
      const chunk = new Uint8Array(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      let end = n;
      for (let i = 0; i < n; i++) {
        const b = chunk[i]!;
        if (b === 0x0a) {
          if (lineHasText) lines += 1;
          lineBytes = 0;
          lineHasText = false;
          if (lines > rows) {
            end = i + 1;
            break;
          }
        } else {
          lineBytes += 1;
          if (b !== 0x20 && b !== 0x09 && b !== 0x0d) lineHasText = true;
          if (lineBytes > MAX_STREAM_LINE_BYTES) throw new FormatError(`${label}: line ${lines + 1} runs past ${MAX_STREAM_LINE_BYTES} bytes without a line break (a device or stream that is not CSV text?)`);
        }
      }
      chunks.push(chunk.subarray(0, end));
      total += end;
      if (total > maxBytes) throw new FormatError(`${label}: holds more than ${maxBytes} bytes${rows === Infinity ? '' : ` before its first ${rows} rows`}; the limit is ${maxBytes} bytes (a stream without end? --limit N reads its first N rows)`);
      if (lines > rows) break;
    }
    return joinChunks(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** The first `n` data rows of a table. */
function firstRows(table: CsvTable, n: number): CsvTable {
  const out: CsvTable = { ...table, data: table.data.sliceRows(0, n), lines: table.lines.slice(0, n) };
  if (table.labels !== undefined) out.labels = table.labels.slice(0, n);
  return out;
}

/** Parses numeric CSV text; see readCsv for the rules. */
export function parseCsv(text: string, options: CsvOptions = {}): CsvTable {
  const name = options.name ?? '<csv>';
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new InvalidValueError(`parseCsv: the delimiter must be one character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
  }
  const precision = options.precision ?? 'float32';
  if (precision !== 'float32' && precision !== 'float64') throw new InvalidValueError(`parseCsv: unknown precision ${String(precision)}`);

  // Lines with their 1-based numbers, empty ones left out.
  const lines: Array<{ number: number; fields: string[] }> = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() !== '') lines.push({ number: i + 1, fields: line.split(delimiter).map(unquote) });
  });
  if (lines.length === 0) throw new FormatError(`${name}: holds no rows`);

  const first = lines[0]!;
  const headerMode = options.header ?? 'auto';
  let hasHeader: boolean;
  if (headerMode === 'auto') {
    const numeric = first.fields.filter((f) => NUMBER.test(f)).length;
    hasHeader = numeric === 0;
  } else {
    hasHeader = headerMode;
  }
  const header = hasHeader ? first.fields : undefined;
  const rows = hasHeader ? lines.slice(1) : lines;
  if (rows.length === 0) throw new FormatError(`${name}: holds a header but no data rows`);

  const width = first.fields.length;
  const labelIndex = resolveLabelColumn(options.labelColumn, width, header, name);
  const dataCols = labelIndex === undefined ? width : width - 1;
  if (dataCols === 0) throw new FormatError(`${name}: has no data columns besides the label column`);

  const data = Matrix.zeros(rows.length, dataCols, precision);
  const labels = labelIndex === undefined ? undefined : new Float64Array(rows.length);
  rows.forEach((row, r) => {
    if (row.fields.length !== width) {
      throw new FormatError(`${name}: line ${row.number} has ${row.fields.length} fields, expected ${width} (as on line ${first.number})`);
    }
    let c = 0;
    row.fields.forEach((field, col) => {
      if (!NUMBER.test(field)) {
        const named = header !== undefined ? ` ("${header[col]}")` : '';
        const hint = r === 0 && !hasHeader && headerMode === 'auto' ? '; pass { header: true } if the first line names the columns' : '';
        throw new FormatError(`${name}: line ${row.number}, column ${col + 1}${named}: ${JSON.stringify(field)} is not a number${hint}`);
      }
      const value = Number(field);
      if (!Number.isFinite(value)) {
        throw new FormatError(`${name}: line ${row.number}, column ${col + 1}: ${field} overflows to ${value}`);
      }
      if (col === labelIndex) labels![r] = value;
      else data.data[r * dataCols + c++] = value;
    });
  });

  const table: CsvTable = { data, lines: Uint32Array.from(rows, (row) => row.number) };
  if (labels !== undefined) table.labels = labels;
  if (header !== undefined) {
    table.columns = header.filter((_, col) => col !== labelIndex);
    if (labelIndex !== undefined) table.labelName = header[labelIndex];
  }
  return table;
}

function unquote(field: string): string {
  const t = field.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
}

function resolveLabelColumn(column: number | string | undefined, width: number, header: string[] | undefined, name: string): number | undefined {
  if (column === undefined) return undefined;
  if (typeof column === 'string') {
    if (header === undefined) throw new InvalidValueError(`${name}: labelColumn "${column}" names a column, but the file has no header`);
    const index = header.indexOf(column);
    if (index < 0) throw new InvalidValueError(`${name}: labelColumn "${column}" is not in the header (${header.join(', ')})`);
    return index;
  }
  if (!Number.isInteger(column) || column >= width || column < -width) {
    throw new InvalidValueError(`${name}: labelColumn ${column} is outside the ${width} columns (use 0..${width - 1}, or -1 for the last)`);
  }
  return column < 0 ? width + column : column;
}
