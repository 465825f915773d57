import { gzipSync } from 'node:zlib';
import { InvalidValueError, ShapeError, writeFileAtomic } from '@boltzmann/tensor';
import { IDX_TYPE_CODES, IDX_TYPE_SIZES, type IdxDtype } from './idx.js';

/** What {@link encodeIdx} writes: an element type, dimensions (outermost first) and row-major elements. */
export interface IdxContent {
  dtype: IdxDtype;
  dims: readonly number[];
  data: ArrayLike<number>;
}

/** Options of {@link encodeIdx} and {@link writeIdx}. */
export interface EncodeIdxOptions {
  /** Gzip the result (what the MNIST downloads are). Default false. */
  gzip?: boolean;
}

const INTEGER_RANGES: Partial<Record<IdxDtype, readonly [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

/**
 * Encodes an IDX file (the inverse of readIdx). Throws when the dimensions do not match the
 * element count or a value does not fit the type (a non-integer or out-of-range value for an
 * integer type): nothing is rounded or wrapped silently.
 */
export function encodeIdx(content: IdxContent, options: EncodeIdxOptions = {}): Uint8Array {
  const { dtype, dims, data } = content;
  const code = IDX_TYPE_CODES[dtype];
  if (code === undefined) throw new InvalidValueError(`encodeIdx: unknown IDX dtype ${String(dtype)}`);
  if (dims.length < 1 || dims.length > 255) throw new ShapeError(`encodeIdx: an IDX file holds 1 to 255 dimensions, got ${dims.length}`);
  let count = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new InvalidValueError(`encodeIdx: dimension ${d} is not an integer in [0, 2^32)`);
    count *= d;
  }
  if (count !== data.length) throw new ShapeError(`encodeIdx: dimensions [${dims.join(', ')}] hold ${count} elements, got ${data.length}`);

  const size = IDX_TYPE_SIZES[dtype];
  const header = 4 + 4 * dims.length;
  const bytes = new Uint8Array(header + count * size);
  const view = new DataView(bytes.buffer);
  bytes[2] = code;
  bytes[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));

  const range = INTEGER_RANGES[dtype];
  for (let i = 0; i < count; i++) {
    const v = data[i]!;
    if (range !== undefined && !(Number.isInteger(v) && v >= range[0] && v <= range[1])) {
      throw new InvalidValueError(`encodeIdx: element ${i} = ${v} does not fit ${dtype}`);
    }
    const at = header + i * size;
    switch (dtype) {
      case 'uint8': view.setUint8(at, v); break;
      case 'int8': view.setInt8(at, v); break;
      case 'int16': view.setInt16(at, v, false); break;
      case 'int32': view.setInt32(at, v, false); break;
      case 'float32': view.setFloat32(at, v, false); break;
      case 'float64': view.setFloat64(at, v, false); break;
    }
  }
  return options.gzip === true ? new Uint8Array(gzipSync(bytes)) : bytes;
}

/** Writes an IDX file atomically (see encodeIdx for the checks). */
export function writeIdx(path: string, content: IdxContent, options: EncodeIdxOptions = {}): void {
  writeFileAtomic(path, encodeIdx(content, options));
}
