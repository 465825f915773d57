import { FormatError, Matrix } from '@boltzmann/tensor';

const MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // "\x93NUMPY"

/**
 * A matrix as a NumPy .npy file (format version 1.0): the magic "\x93NUMPY", version bytes
 * 1 0, a little-endian uint16 header length, an ASCII header
 * "{'descr': '<f4', 'fortran_order': False, 'shape': (rows, cols), }" padded with spaces and
 * a newline so the data starts at a multiple of 64 bytes, then the values row-major,
 * little-endian float32 ('<f4') or float64 ('<f8') as the matrix holds them.
 * `numpy.load` reads it.
 */
export function encodeNpy(m: Matrix): Uint8Array {
  const is64 = m.data instanceof Float64Array;
  let header = `{'descr': '${is64 ? '<f8' : '<f4'}', 'fortran_order': False, 'shape': (${m.rows}, ${m.cols}), }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const offset = MAGIC.length + 4 + header.length;
  const bytes = new Uint8Array(offset + m.data.byteLength);
  bytes.set(MAGIC, 0);
  bytes[6] = 1;
  bytes[7] = 0;
  const view = new DataView(bytes.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  for (let i = 0; i < m.data.length; i++) {
    if (is64) view.setFloat64(offset + 8 * i, m.data[i]!, true);
    else view.setFloat32(offset + 4 * i, m.data[i]!, true);
  }
  return bytes;
}

/** Reads what `encodeNpy` writes (2-D float32/float64, C order); anything else is a FormatError. */
export function decodeNpy(bytes: Uint8Array, name = '<npy>'): Matrix {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) throw new FormatError(`${name} is not a .npy file (bad magic bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[6] !== 1) throw new FormatError(`${name}: .npy version ${bytes[6]}.${bytes[7]} is not supported (1.0 is)`);
  const headerLength = view.getUint16(8, true);
  const header = String.fromCharCode(...bytes.subarray(10, 10 + headerLength));
  const descr = /'descr':\s*'([<>|]f[48])'/.exec(header)?.[1];
  const shape = /'shape':\s*\((\d+),\s*(\d+)\)/.exec(header);
  if (descr === undefined || shape === null || /'fortran_order':\s*True/.test(header)) throw new FormatError(`${name}: header ${header.trim()} is not a 2-D little-endian float array in C order`);
  const rows = Number(shape[1]);
  const cols = Number(shape[2]);
  const size = descr.endsWith('8') ? 8 : 4;
  const offset = 10 + headerLength;
  if (bytes.length !== offset + rows * cols * size) throw new FormatError(`${name}: ${rows}x${cols} values need ${offset + rows * cols * size} bytes, the file has ${bytes.length}`);
  const data = size === 8 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = size === 8 ? view.getFloat64(offset + 8 * i, true) : view.getFloat32(offset + 4 * i, true);
  return new Matrix(rows, cols, data);
}

/** A matrix as CSV text: an optional header line, then one line per row, shortest round-trip decimals. */
export function encodeCsv(m: Matrix, header?: readonly string[]): string {
  const lines: string[] = [];
  if (header) lines.push(header.join(','));
  const float32 = m.data instanceof Float32Array;
  for (let r = 0; r < m.rows; r++) {
    const row = m.row(r);
    const cells = new Array<string>(m.cols);
    for (let c = 0; c < m.cols; c++) cells[c] = String(float32 ? Number(row[c]!.toPrecision(9)) : row[c]!);
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}
