import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { FormatError } from '@boltzmann/tensor';

/** A file's bytes after any gzip layer is taken off, with the name errors should use. */
export interface SourceBytes {
  /** The (decompressed) contents. */
  bytes: Uint8Array;
  /** The path, or the caller's name for in-memory bytes; every error message starts with it. */
  name: string;
  /** Whether the source was gzip-compressed (byte offsets in later errors then refer to the decompressed data). */
  gzipped: boolean;
}

/** Where readers take their input from: a file path, or bytes already in memory. */
export type ByteSource = string | Uint8Array;

/** The two magic bytes every gzip member starts with (RFC 1952). */
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** True when `bytes` starts like a gzip stream. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

/** The most bytes read from one file or stream, or decompressed from one gzip member, unless the caller says otherwise. */
export const MAX_INPUT_BYTES = 1024 * 1024 * 1024;

/** Options of {@link readSourceBytes}. */
export interface SourceBytesOptions {
  /** The most bytes to read (and to decompress); default MAX_INPUT_BYTES. A longer input is a FormatError, not read on. */
  maxBytes?: number;
  /**
   * For formats whose header says how long the data is (IDX): given the first decompressed
   * bytes, the total size the header declares (undefined when it cannot tell yet), so that a
   * gzip bomb stops at the declared size rather than at maxBytes.
   */
  declaredBytes?: (prefix: Uint8Array) => number | undefined;
}

/**
 * Reads a path (or takes in-memory bytes) and gunzips it when it starts with the gzip magic
 * bytes, whatever its name says. Reading is bounded: a regular file larger than `maxBytes`
 * is refused from its size, a device or pipe (`/dev/zero`) is read only up to `maxBytes`, and
 * decompression stops at `maxBytes` (or at the size the format's header declares). A file that
 * cannot be read or a corrupt gzip stream throws a FormatError naming the file and, for gzip,
 * the compressed byte offset where the stream breaks.
 */
export function readSourceBytes(source: ByteSource, name?: string, options: SourceBytesOptions = {}): SourceBytes {
  const label = name ?? (typeof source === 'string' ? source : '<bytes>');
  const maxBytes = options.maxBytes ?? MAX_INPUT_BYTES;
  let raw: Uint8Array;
  if (typeof source === 'string') {
    raw = readBounded(source, label, maxBytes);
  } else if (source instanceof Uint8Array) {
    raw = source;
  } else {
    throw new FormatError(`${label}: expected a file path or a Uint8Array, got ${typeof source}`);
  }
  if (!isGzip(raw)) return { bytes: raw, name: label, gzipped: false };
  let limit = maxBytes;
  const declared = options.declaredBytes?.(gunzipPrefix(raw));
  if (declared !== undefined) {
    if (declared > maxBytes) throw new FormatError(`${label}: its header declares ${declared} bytes of data, over the limit of ${maxBytes} bytes`);
    limit = declared;
  }
  return { bytes: gunzipOrExplain(raw, label, limit, declared !== undefined), name: label, gzipped: true };
}

/** A descriptor of `path` open for reading; a file that cannot be opened is a FormatError naming `label` and why. */
export function openForReading(path: string, label: string): number {
  try {
    return openSync(path, 'r');
  } catch (error) {
    throw new FormatError(`${label}: cannot read the file (${(error as Error).message})`);
  }
}

/** A file's bytes, at most `maxBytes` of them: a regular file is checked by its size, a device or pipe is read in chunks up to the bound. */
function readBounded(path: string, label: string, maxBytes: number): Uint8Array {
  const fd = openForReading(path, label);
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new FormatError(`${label}: is a directory, not a file`);
    if (stat.isFile() && stat.size > maxBytes) throw new FormatError(`${label}: the file holds ${stat.size} bytes, over the limit of ${maxBytes} bytes`);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(Math.min(16 * 1024 * 1024, maxBytes + 1 - total));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (error) {
        throw new FormatError(`${label}: cannot read the file (${(error as Error).message})`);
      }
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw new FormatError(`${label}: holds more than ${maxBytes} bytes (a device or stream without end?); the limit is ${maxBytes} bytes`);
    }
    return chunks.length === 1 ? chunks[0]! : joinChunks(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** The chunks one after another in one array of `total` bytes (their summed length). */
export function joinChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The start of the decompressed data (from the first 4 KiB compressed: a few MiB at most), for reading a header. */
function gunzipPrefix(raw: Uint8Array): Uint8Array {
  try {
    return gunzipSync(raw.subarray(0, 4096), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch {
    return new Uint8Array(0); // the full decompression reports what is wrong
  }
}

function gunzipOrExplain(raw: Uint8Array, label: string, limit: number, declared: boolean): Uint8Array {
  let out: Uint8Array;
  try {
    out = gunzipSync(raw, { maxOutputLength: Math.max(1, limit + 1) });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    if (code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw new FormatError(
        declared
          ? `${label}: decompresses to more than the ${limit} bytes its header declares (a gzip bomb or a corrupt header); stopped there`
          : `${label}: decompresses to more than ${limit} bytes, the limit; stopped there`,
      );
    }
    if (code === 'Z_BUF_ERROR') {
      throw new FormatError(`${label}: the gzip stream is truncated: it ends at compressed byte offset ${raw.length} before the end of its data (${message})`);
    }
    const offset = firstBadCompressedByte(raw);
    throw new FormatError(`${label}: corrupt gzip stream: zlib rejects it at compressed byte offset ${offset} of ${raw.length} (${message})`);
  }
  if (out.length > limit) {
    throw new FormatError(declared ? `${label}: decompresses to more than the ${limit} bytes its header declares (a gzip bomb or a corrupt header)` : `${label}: decompresses to more than ${limit} bytes, the limit`);
  }
  return out;
}

/**
 * The offset of the byte at which zlib first rejects the stream (the damage is there or a few
 * bytes before: zlib reads some fields in pairs). A prefix decompressed with a sync flush fails
 * once it holds that byte, so failure is monotone in the prefix length and a binary search
 * finds the shortest failing prefix. Only runs on the error path.
 */
function firstBadCompressedByte(raw: Uint8Array): number {
  let good = 0;
  let bad = raw.length;
  while (bad - good > 1) {
    const mid = good + Math.floor((bad - good) / 2);
    if (gunzipPrefixFails(raw, mid)) bad = mid;
    else good = mid;
  }
  return bad - 1;
}

function gunzipPrefixFails(raw: Uint8Array, length: number): boolean {
  try {
    gunzipSync(raw.subarray(0, length), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    return false;
  } catch {
    return true;
  }
}
