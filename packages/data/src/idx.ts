import { FormatError } from '@boltzmann/tensor';
import { type ByteSource, readSourceBytes } from './source-bytes.js';

/** Element types an IDX file can hold, named after the typed array they become. */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array holding an IDX file's elements. */
export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file: its element type, its dimensions (outermost first) and its elements in row-major order. */
export interface IdxTensor {
  dtype: IdxDtype;
  dims: number[];
  data: IdxArray;
}

interface DtypeInfo {
  dtype: IdxDtype;
  /** Bytes per element. */
  size: number;
}

/** The IDX type codes (third magic byte) as published with MNIST; all multi-byte values are big-endian. */
export const IDX_TYPE_CODES: Readonly<Record<IdxDtype, number>> = {
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
};

/** Bytes per element of each IDX type. */
export const IDX_TYPE_SIZES: Readonly<Record<IdxDtype, number>> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  float32: 4,
  float64: 8,
};

const BY_CODE = new Map<number, DtypeInfo>(
  (Object.keys(IDX_TYPE_CODES) as IdxDtype[]).map((dtype) => [IDX_TYPE_CODES[dtype], { dtype, size: IDX_TYPE_SIZES[dtype] }]),
);

/** Options of {@link readIdx}. */
export interface ReadIdxOptions {
  /** The name used in error messages for in-memory bytes (a path names itself). */
  name?: string;
}

/**
 * Reads an IDX file (the MNIST format): raw, or gzip-compressed (detected by its magic bytes,
 * not its name). The header is two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16,
 * 0x0C int32, 0x0D float32, 0x0E float64), a dimension count, then one big-endian uint32 per
 * dimension; the big-endian elements follow, row-major.
 *
 * A corrupt or truncated file throws a FormatError naming the file and the byte offset
 * (offsets count in the decompressed data when the file is gzipped). Extra bytes after the
 * data are an error too: nothing is silently ignored.
 */
export function readIdx(source: ByteSource, options: ReadIdxOptions = {}): IdxTensor {
  // A gzipped file decompresses no further than its header's dimensions say (a bomb stops there).
  const { bytes, name, gzipped } = readSourceBytes(source, options.name, { declaredBytes: declaredIdxBytes });
  const where = gzipped ? ' of the decompressed data' : '';
  const fail = (offset: number, problem: string): never => {
    throw new FormatError(`${name}: ${problem} (at byte offset ${offset}${where})`);
  };

  if (bytes.length < 4) fail(bytes.length, `the file holds ${bytes.length} bytes, too few for the 4-byte IDX magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    fail(0, `bad IDX magic number ${hex}: an IDX file starts with 00 00 <type> <dimension count>`);
  }
  const info = BY_CODE.get(bytes[2]!);
  if (info === undefined) {
    fail(2, `unknown IDX type code 0x${bytes[2]!.toString(16).padStart(2, '0')} (known: 08 uint8, 09 int8, 0b int16, 0c int32, 0d float32, 0e float64)`);
  }
  const { dtype, size } = info!;
  const rank = bytes[3]!;
  if (rank === 0) fail(3, 'the dimension count is 0; an IDX file needs at least one dimension');
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) {
    fail(3, `the header declares ${rank} dimensions (a ${headerLength}-byte header) but the file ends at byte ${bytes.length}`);
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  // count may exceed 2^53 for a corrupt header; it is then far beyond the file, which is all we need to know.
  const dataBytes = count * size;
  const available = bytes.length - headerLength;
  if (dataBytes > available) {
    fail(bytes.length, `data shorter than the header says: dimensions [${dims.join(', ')}] of ${dtype} need ${dataBytes} bytes from offset ${headerLength}, but only ${available} follow`);
  }
  if (dataBytes < available) {
    fail(headerLength + dataBytes, `${available - dataBytes} unexpected bytes after the data declared by dimensions [${dims.join(', ')}] of ${dtype}`);
  }
  return { dtype, dims, data: decodeElements(view, headerLength, count, dtype) };
}

/** The total size (header + data) an IDX header declares, or undefined when `prefix` is too short or not IDX. */
function declaredIdxBytes(prefix: Uint8Array): number | undefined {
  if (prefix.length < 4 || prefix[0] !== 0 || prefix[1] !== 0) return undefined;
  const info = BY_CODE.get(prefix[2]!);
  const rank = prefix[3]!;
  if (info === undefined || rank === 0 || prefix.length < 4 + 4 * rank) return undefined;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  let count = 1;
  for (let i = 0; i < rank; i++) count *= view.getUint32(4 + 4 * i, false);
  return 4 + 4 * rank + count * info.size;
}

function decodeElements(view: DataView, start: number, count: number, dtype: IdxDtype): IdxArray {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer, view.byteOffset + start, count).slice();
    case 'int8':
      return new Int8Array(view.buffer, view.byteOffset + start, count).slice();
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(start + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(start + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(start + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(start + 8 * i, false);
      return out;
    }
  }
}
