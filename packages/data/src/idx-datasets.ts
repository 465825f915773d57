import { FormatError, Matrix } from '@boltzmann/tensor';
import { type IdxTensor, type ReadIdxOptions, readIdx } from './idx.js';
import type { ByteSource } from './source-bytes.js';

/** Images decoded from an IDX file, with the size of one image. */
export interface IdxImages {
  /** One image a row, pixels row-major, scaled from bytes to [0, 1] (byte / 255). */
  images: Matrix;
  height: number;
  width: number;
}

/**
 * Turns a decoded IDX tensor of unsigned bytes, shaped [count, height, width] (or [count,
 * pixels]), into a matrix with one image a row, scaled to [0, 1]. `name` labels errors.
 */
export function idxToImages(tensor: IdxTensor, name: string): IdxImages {
  const { dtype, dims, data } = tensor;
  if (dtype !== 'uint8') throw new FormatError(`${name}: images must be unsigned bytes (IDX type 0x08), got ${dtype}`);
  if (dims.length < 2) throw new FormatError(`${name}: images need at least 2 dimensions [count, pixels...], got [${dims.join(', ')}]`);
  const count = dims[0]!;
  const pixels = dims.slice(1).reduce((a, b) => a * b, 1);
  if (count === 0 || pixels === 0) throw new FormatError(`${name}: holds no images (dimensions [${dims.join(', ')}])`);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! / 255;
  const height = dims.length === 2 ? 1 : dims[1]!;
  return { images: new Matrix(count, pixels, out), height, width: pixels / height };
}

/**
 * Reads an IDX image file (e.g. train-images-idx3-ubyte[.gz]) into a Matrix: one image a row,
 * height*width columns, values byte / 255 in [0, 1]. The file must hold unsigned bytes.
 */
export function readIdxImages(source: ByteSource, options: ReadIdxOptions = {}): Matrix {
  const tensor = readIdx(source, options);
  return idxToImages(tensor, options.name ?? nameOf(source)).images;
}

/**
 * Reads a one-dimensional IDX label file (e.g. train-labels-idx1-ubyte[.gz]). Unsigned-byte
 * labels come back as a Uint8Array; other integer types as an Int32Array. Float labels are an error.
 */
export function readIdxLabels(source: ByteSource, options: ReadIdxOptions = {}): Uint8Array | Int32Array {
  const { dtype, dims, data } = readIdx(source, options);
  const name = options.name ?? nameOf(source);
  if (dims.length !== 1) throw new FormatError(`${name}: labels must have 1 dimension, got [${dims.join(', ')}]`);
  if (dtype === 'float32' || dtype === 'float64') throw new FormatError(`${name}: labels must be integers, got ${dtype}`);
  return data instanceof Uint8Array ? data : Int32Array.from(data);
}

function nameOf(source: ByteSource): string {
  return typeof source === 'string' ? source : '<bytes>';
}
