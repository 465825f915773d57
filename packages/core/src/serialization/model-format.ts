import { FormatError, type RngState } from '@boltzmann/tensor';
import type { ModelSpec } from '../models/energy-model.js';
import type { TrainingCheckpoint } from '../training/trainer.js';

/**
 * The binary model file (FORMAT.md, version 2): a 16-byte prefix, a JSON header, then the
 * arrays' raw little-endian bytes, each at the offset the header gives (the safetensors layout).
 * This file holds the pure layout (no file system): building and checking the prefix and header.
 */

/** The first 8 bytes of a version 2 model file: "\x89BZM\r\n\x1a\n" (PNG-style: catches text-mode mangling). */
export const MODEL_MAGIC = Uint8Array.from([0x89, 0x42, 0x5a, 0x4d, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Magic (8), header length (uint32 LE), CRC-32 of the header (uint32 LE). */
export const MODEL_PREFIX_BYTES = 16;
/** Arrays start at multiples of this many bytes (so a float64 array can be viewed in place). */
export const MODEL_ALIGNMENT = 8;
/** The largest JSON header a reader accepts (checked before anything is allocated). */
export const MODEL_HEADER_LIMIT = 64 * 1024 * 1024;

/** Where one array lies in the data section, and what it holds. */
export interface ArrayEntry {
  dtype: 'float32' | 'float64';
  /** [rows, cols], row-major. */
  shape: [number, number];
  /** Byte offset from the start of the data section (a multiple of 8). */
  offset: number;
  /** CRC-32 (IEEE) of the array's bytes, 8 lowercase hex digits. */
  crc32: string;
}

/** The JSON header of a version 2 model file. */
export interface ModelHeader {
  format: 'boltzmann.ts/model';
  version: 2;
  model: ModelSpec & { levels?: number[] };
  sampleRng: RngState;
  parameters: Record<string, ArrayEntry>;
  training?: TrainingCheckpoint<ArrayEntry>;
  /** Bytes of the data section (the file is exactly prefix + header + dataBytes long). */
  dataBytes: number;
}

/** Bytes per value of a dtype. */
export function dtypeWidth(dtype: ArrayEntry['dtype']): number {
  return dtype === 'float64' ? 8 : 4;
}

/** Bytes an entry's array takes. */
export function entryBytes(entry: ArrayEntry): number {
  return entry.shape[0] * entry.shape[1] * dtypeWidth(entry.dtype);
}

/** `n` rounded up to the alignment. */
export function aligned(n: number): number {
  return Math.ceil(n / MODEL_ALIGNMENT) * MODEL_ALIGNMENT;
}

/** Whether `bytes` starts with the version 2 magic. */
export function hasModelMagic(bytes: Uint8Array): boolean {
  return bytes.length >= MODEL_MAGIC.length && MODEL_MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * The prefix and header of a file, the header padded with spaces so that the data section
 * starts aligned. `crc` is the CRC-32 function (core's, passed in to keep this file standalone).
 */
export function encodeHeader(header: ModelHeader, crc: (bytes: Uint8Array) => number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const length = aligned(MODEL_PREFIX_BYTES + json.length) - MODEL_PREFIX_BYTES;
  const out = new Uint8Array(MODEL_PREFIX_BYTES + length).fill(0x20);
  out.set(MODEL_MAGIC, 0);
  out.set(json, MODEL_PREFIX_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(8, length, true);
  view.setUint32(12, crc(out.subarray(MODEL_PREFIX_BYTES)), true);
  return out;
}

/** Header length and checksum read from the 16-byte prefix; checked against the limit and the file size first. */
export function decodePrefix(prefix: Uint8Array, fileBytes: number, source: string): { headerBytes: number; headerCrc: number } {
  if (prefix.length < MODEL_PREFIX_BYTES || !hasModelMagic(prefix)) throw new FormatError(`${source} does not start with the model file signature`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, MODEL_PREFIX_BYTES);
  const headerBytes = view.getUint32(8, true);
  if (headerBytes > MODEL_HEADER_LIMIT) {
    throw new FormatError(`${source} declares a ${headerBytes}-byte header, over the limit of ${MODEL_HEADER_LIMIT} bytes (corrupt or hostile)`);
  }
  if (MODEL_PREFIX_BYTES + headerBytes > fileBytes) {
    throw new FormatError(`${source} declares a ${headerBytes}-byte header but holds only ${fileBytes} bytes (truncated)`);
  }
  return { headerBytes, headerCrc: view.getUint32(12, true) };
}

/**
 * Parses and checks a header: JSON, format, version, and every array entry (dtype, shape,
 * offset inside the data section, no two overlapping), and that the file is exactly as long as
 * the header says (a truncated or extended file fails here). Nothing of the arrays is read yet.
 */
export function decodeHeader(bytes: Uint8Array, fileBytes: number, source: string): ModelHeader {
  let doc: Partial<ModelHeader>;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Partial<ModelHeader>;
  } catch (error) {
    throw new FormatError(`${source} has a header that is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || doc.format !== 'boltzmann.ts/model') throw new FormatError(`${source} has no "format": "boltzmann.ts/model" in its header`);
  if (doc.version !== 2) throw new FormatError(`${source} has format version ${JSON.stringify(doc.version)} in a binary header; this version of boltzmann.ts reads version 2`);
  const dataBytes = doc.dataBytes;
  if (typeof dataBytes !== 'number' || !Number.isSafeInteger(dataBytes) || dataBytes < 0) throw new FormatError(`${source} has "dataBytes" ${JSON.stringify(dataBytes)}; expected a whole number of bytes`);
  const expected = MODEL_PREFIX_BYTES + bytes.length + dataBytes;
  if (fileBytes !== expected) {
    throw new FormatError(`${source} holds ${fileBytes} bytes; its header says ${expected} (${fileBytes < expected ? 'truncated' : 'extra bytes at the end'})`);
  }
  if (typeof doc.parameters !== 'object' || doc.parameters === null) throw new FormatError(`${source} has no "parameters" object`);
  const ranges: [number, number, string][] = [];
  const check = (group: Record<string, unknown> | undefined, what: (name: string) => string) => {
    if (group === undefined) return;
    if (typeof group !== 'object' || group === null || Array.isArray(group)) throw new FormatError(`${what('*')} is not an object of arrays`);
    for (const [name, entry] of Object.entries(group)) ranges.push(checkEntry(entry, dataBytes, what(name)));
  };
  check(doc.parameters, (name) => `parameter "${name}" in ${source}`);
  const t = doc.training;
  if (t !== undefined) {
    if (typeof t !== 'object' || t === null) throw new FormatError(`${source} has a "training" section that is not an object`);
    check(t.optimizer as Record<string, unknown>, (name) => `optimizer state "${name}" in ${source}`);
    check(t.estimator as Record<string, unknown>, (name) => `estimator state "${name}" in ${source}`);
    check(t.regularizers as Record<string, unknown> | undefined, (name) => `regularizer state "${name}" in ${source}`);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]![0] < ranges[i - 1]![1]) throw new FormatError(`${ranges[i]![2]} overlaps ${ranges[i - 1]![2]} (corrupt offsets)`);
  }
  return doc as ModelHeader;
}

function checkEntry(x: unknown, dataBytes: number, what: string): [number, number, string] {
  if (typeof x !== 'object' || x === null) throw new FormatError(`${what} is not an array entry`);
  const e = x as Partial<ArrayEntry>;
  if (e.dtype !== 'float32' && e.dtype !== 'float64') throw new FormatError(`${what} has dtype ${JSON.stringify(e.dtype)}; expected "float32" or "float64"`);
  const shape = e.shape;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new FormatError(`${what} has shape ${JSON.stringify(shape)}; expected [rows, cols] of positive integers`);
  }
  const offset = e.offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || offset % MODEL_ALIGNMENT !== 0) {
    throw new FormatError(`${what} has offset ${JSON.stringify(offset)}; expected a multiple of ${MODEL_ALIGNMENT}`);
  }
  if (typeof e.crc32 !== 'string' || !/^[0-9a-f]{8}$/.test(e.crc32)) throw new FormatError(`${what} has crc32 ${JSON.stringify(e.crc32)}; expected 8 lowercase hex digits`);
  const bytes = shape[0]! * shape[1]! * dtypeWidth(e.dtype);
  if (offset + bytes > dataBytes) {
    throw new FormatError(`${what} (${shape[0]}x${shape[1]} ${e.dtype}, ${bytes} bytes at offset ${offset}) lies beyond the ${dataBytes}-byte data section`);
  }
  return [offset, offset + bytes, what];
}

/**
 * Checks the sizes a model spec declares against the arrays a file holds, before the model is
 * built (and its tensors allocated): every array of a layer has as many columns as the layer
 * has units, every dense or lateral connection's weights are from.size x to.size, and a layer
 * with no array of its own is no larger than the largest array dimension in the file. So a
 * small file declaring a huge layer is refused at once, not after allocating it.
 */
export function checkDeclaredSizes(spec: unknown, shapes: ReadonlyMap<string, readonly [number, number]>, source: string): void {
  if (typeof spec !== 'object' || spec === null) return; // buildModel says what is wrong
  const { layers, connections } = spec as { layers?: unknown; connections?: unknown };
  const sizes = new Map<string, number>();
  let largest = 0;
  for (const [r, c] of shapes.values()) largest = Math.max(largest, r, c);
  for (const layer of Array.isArray(layers) ? layers : []) {
    if (typeof layer !== 'object' || layer === null) continue;
    const { name, size } = layer as { name?: unknown; size?: unknown };
    if (typeof name !== 'string' || typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) continue;
    sizes.set(name, size);
    let own = 0;
    for (const [param, [rows, cols]] of shapes) {
      if (!param.startsWith(`${name}.`) || param.indexOf('.', name.length + 1) >= 0) continue;
      own += 1;
      if (rows !== 1 || cols !== size) throw new FormatError(`parameter "${param}" in ${source} is ${rows}x${cols}, but its layers need 1x${size}`);
    }
    if (own === 0 && size > largest) throw new FormatError(`layer "${name}" in ${source} declares ${size} units, more than any array in the file holds (largest dimension ${largest})`);
  }
  for (const c of Array.isArray(connections) ? connections : []) {
    if (typeof c !== 'object' || c === null) continue;
    const { type, name, from, to } = c as { type?: unknown; name?: unknown; from?: unknown; to?: unknown };
    if ((type !== 'dense' && type !== 'lateral') || typeof name !== 'string') continue;
    const rows = sizes.get(String(from));
    const cols = sizes.get(String(to));
    if (rows === undefined || cols === undefined) continue;
    const w = shapes.get(`${name}.weights`);
    if (w === undefined) throw new FormatError(`${source} lacks parameter "${name}.weights" (${rows}x${cols})`);
    if (w[0] !== rows || w[1] !== cols) throw new FormatError(`parameter "${name}.weights" in ${source} is ${w[0]}x${w[1]}, but its layers need ${rows}x${cols}`);
  }
}
