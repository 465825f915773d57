import { FormatError, Matrix } from '@boltzmann/tensor';

/** A matrix in a model file: little-endian IEEE floats, base64, with shape and CRC-32 (see FORMAT.md). */
export interface EncodedArray {
  dtype: 'float32' | 'float64';
  shape: [number, number];
  /** CRC-32 (IEEE) of the raw little-endian bytes, 8 lowercase hex digits. */
  crc32: string;
  data: string;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib and PNG) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesOf(m: Matrix): Uint8Array {
  const bytes = new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  if (littleEndian) return bytes;
  const copy = bytes.slice();
  const width = m.data.BYTES_PER_ELEMENT;
  for (let i = 0; i < copy.length; i += width) copy.subarray(i, i + width).reverse();
  return copy;
}

type NodeBuffer = { from(x: Uint8Array | string, encoding?: string): Uint8Array & { toString(encoding: string): string } };
/** Node's Buffer where there is one (fast), else the browser's btoa/atob: model files are made and read in pages too. */
const nodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;

function toBase64(bytes: Uint8Array): string {
  if (nodeBuffer) return nodeBuffer.from(bytes).toString('base64');
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  if (nodeBuffer) return nodeBuffer.from(text, 'base64');
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Encodes a host matrix in its own precision. */
export function encodeArray(m: Matrix): EncodedArray {
  const bytes = bytesOf(m);
  return {
    dtype: m.data instanceof Float64Array ? 'float64' : 'float32',
    shape: [m.rows, m.cols],
    crc32: crc32(bytes).toString(16).padStart(8, '0'),
    data: toBase64(bytes),
  };
}

/** The bytes an encoded array's base64 data stands for (without decoding it); -1 when it is not base64. */
export function encodedByteLength(x: unknown): number {
  const data = (x as { data?: unknown } | null)?.data;
  if (typeof data !== 'string' || data.length % 4 !== 0) return -1;
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return (data.length / 4) * 3 - padding;
}

/** Decodes and verifies one array; `what` names it in errors ("parameter visible.bias in model.json"). */
export function decodeArray(x: unknown, what: string): Matrix {
  if (typeof x !== 'object' || x === null) throw new FormatError(`${what} is not an array object`);
  const a = x as Partial<EncodedArray>;
  if (a.dtype !== 'float32' && a.dtype !== 'float64') throw new FormatError(`${what} has dtype ${JSON.stringify(a.dtype)}; expected "float32" or "float64"`);
  const shape = a.shape;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new FormatError(`${what} has shape ${JSON.stringify(shape)}; expected [rows, cols] of positive integers`);
  }
  if (typeof a.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(a.data)) throw new FormatError(`${what} has no valid base64 data`);
  const width = a.dtype === 'float64' ? 8 : 4;
  const [rows, cols] = shape as [number, number];
  const raw = fromBase64(a.data);
  if (raw.length !== rows * cols * width) {
    throw new FormatError(`${what} holds ${raw.length} bytes; shape ${rows}x${cols} of ${a.dtype} needs ${rows * cols * width} (truncated or corrupt)`);
  }
  const bytes = new Uint8Array(raw.length);
  bytes.set(raw);
  const sum = crc32(bytes).toString(16).padStart(8, '0');
  if (sum !== a.crc32) throw new FormatError(`${what} fails its checksum (crc32 ${sum}, file says ${String(a.crc32)}): the file is corrupt`);
  if (!littleEndian) for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  const data = a.dtype === 'float64' ? new Float64Array(bytes.buffer) : new Float32Array(bytes.buffer);
  return new Matrix(rows, cols, data);
}
