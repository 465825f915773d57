import { readFileSync } from 'node:fs';
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

/**
 * Reads a path (or takes in-memory bytes) and gunzips it when it starts with the gzip magic
 * bytes, whatever its name says. A file that cannot be read or a corrupt gzip stream throws a
 * FormatError naming the file and, for gzip, the compressed byte offset where the stream breaks.
 */
export function readSourceBytes(source: ByteSource, name?: string): SourceBytes {
  const label = name ?? (typeof source === 'string' ? source : '<bytes>');
  let raw: Uint8Array;
  if (typeof source === 'string') {
    try {
      raw = readFileSync(source);
    } catch (error) {
      throw new FormatError(`${label}: cannot read the file (${(error as Error).message})`);
    }
  } else if (source instanceof Uint8Array) {
    raw = source;
  } else {
    throw new FormatError(`${label}: expected a file path or a Uint8Array, got ${typeof source}`);
  }
  if (!isGzip(raw)) return { bytes: raw, name: label, gzipped: false };
  return { bytes: gunzipOrExplain(raw, label), name: label, gzipped: true };
}

function gunzipOrExplain(raw: Uint8Array, label: string): Uint8Array {
  try {
    return gunzipSync(raw);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    if (code === 'Z_BUF_ERROR') {
      throw new FormatError(`${label}: the gzip stream is truncated: it ends at compressed byte offset ${raw.length} before the end of its data (${message})`);
    }
    const offset = firstBadCompressedByte(raw);
    throw new FormatError(`${label}: corrupt gzip stream: zlib rejects it at compressed byte offset ${offset} of ${raw.length} (${message})`);
  }
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
