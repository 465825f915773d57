import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { FormatError, Matrix, writeFileAtomic, type Backend } from '@boltzmann/tensor';
import { RBM } from '../models/rbm.js';
import type { UnitSpec } from '../units/unit-layer.js';

/** The `format` field of a raw-array RBM description (see INTEROP.md). */
export const RAW_RBM_FORMAT = 'boltzmann.ts/raw-rbm';
/** The version of that description this code reads and writes. */
export const RAW_RBM_VERSION = 1;

/** Where one parameter's numbers lie: a file of raw little-endian IEEE floats. */
export interface RawArray {
  /** Path of the file, relative to the JSON description's folder (or absolute). */
  file: string;
  dtype: 'float32' | 'float64';
  /** Row-major shape as stored: [n] or [1, n] for a bias, [rows, cols] for weights. */
  shape: number[];
  /** Bytes to skip at the start of the file (e.g. a .npy header); default 0. */
  offset?: number;
  /** The file holds the transpose (hidden x visible weights, as scikit-learn's `components_` and PyTorch's Linear); default false. */
  transpose?: boolean;
}

/** The JSON description of an RBM stored as raw arrays (see INTEROP.md). */
export interface RawRBMDescription {
  format: typeof RAW_RBM_FORMAT;
  version: number;
  /** Layer type and options, as `RBM.create` takes them (name and parameters excluded). */
  visible: { type: string; size: number; [option: string]: unknown };
  hidden: { type: string; size: number; [option: string]: unknown };
  /** One entry per parameter of the model, by qualified name ("visible.bias", "visible-hidden.weights"...). */
  arrays: Record<string, RawArray>;
}

/**
 * Loads an RBM from a JSON description plus raw little-endian float32/float64 array files
 * (INTEROP.md): weights from numpy (`W.astype('<f4').tofile(...)`), scikit-learn, PyTorch or any
 * program that can write raw floats. Every parameter the layers need must be given, with its
 * shape, and each file must hold exactly offset + shape * width bytes. Any problem is a
 * FormatError naming the description file, the array and the problem; NaN/Inf values too.
 */
export function loadRawRBM(path: string, backend: Backend): RBM {
  const source = `raw RBM description "${path}"`;
  const doc = readJson(path, source);
  if (doc.format !== RAW_RBM_FORMAT) throw new FormatError(`${source} is not a raw RBM description (its "format" is ${JSON.stringify(doc.format)}, expected "${RAW_RBM_FORMAT}")`);
  if (doc.version !== RAW_RBM_VERSION) throw new FormatError(`${source} has version ${JSON.stringify(doc.version)}; this version of boltzmann.ts reads version ${RAW_RBM_VERSION}`);
  if (typeof doc.arrays !== 'object' || doc.arrays === null) throw new FormatError(`${source} has no "arrays" object`);
  let rbm: RBM;
  try {
    rbm = RBM.create(backend, { visible: layerOptions(doc.visible, 'visible'), hidden: layerOptions(doc.hidden, 'hidden'), weightStd: 0 });
  } catch (error) {
    throw new FormatError(`${source} describes layers that cannot be built: ${(error as Error).message}`);
  }
  try {
    const expected = new Map(rbm.parameters.map((p) => [p.name, p.tensor]));
    for (const name of Object.keys(doc.arrays)) {
      if (!expected.has(name)) throw new FormatError(`${source} has an array "${name}" that the model lacks; its parameters are ${[...expected.keys()].join(', ')}`);
    }
    const params: Record<string, Matrix> = {};
    for (const [name, tensor] of expected) {
      const entry = doc.arrays[name];
      if (entry === undefined) throw new FormatError(`${source} lacks the array "${name}" (${tensor.rows}x${tensor.cols}); its parameters are ${[...expected.keys()].join(', ')}`);
      params[name] = readArray(entry, dirname(path), tensor.rows, tensor.cols, `array "${name}" of ${source}`);
    }
    rbm.setParams(params);
    return rbm;
  } catch (error) {
    rbm.dispose();
    if (error instanceof FormatError) throw error;
    throw new FormatError(`${source}: ${(error as Error).message}`);
  }
}

/**
 * Whether `path` is a raw RBM description (a JSON object whose "format" is RAW_RBM_FORMAT), so
 * that a program taking "a model file" can read either format. False for anything else,
 * unreadable files included (the native loader then reports the problem).
 */
export function isRawRBMDescription(path: string): boolean {
  let text: string;
  try {
    // A description is a few hundred bytes; a bigger file is some other format (not read whole here).
    if (statSync(path).size > 1 << 20) return false;
    text = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  if (!text.trimStart().startsWith('{') || !text.includes(RAW_RBM_FORMAT)) return false;
  try {
    const doc = JSON.parse(text) as { format?: unknown } | null;
    return typeof doc === 'object' && doc !== null && doc.format === RAW_RBM_FORMAT;
  } catch {
    return false;
  }
}

/**
 * Writes an RBM as raw arrays: `<path>` (the JSON description) and one file per parameter
 * beside it, `<name of path without .json>.<parameter>.bin`, in `dtype` (default: float32), with
 * biases as [n] and weights as [visible, hidden], row-major. Each file is written atomically.
 */
export async function saveRawRBM(path: string, rbm: RBM, options: { dtype?: 'float32' | 'float64' } = {}): Promise<void> {
  const dtype = options.dtype ?? 'float32';
  const stem = basename(path).replace(/\.json$/, '');
  const layer = (spec: UnitSpec) => {
    const { name: _name, ...rest } = spec;
    return rest as RawRBMDescription['visible'];
  };
  const doc: RawRBMDescription = { format: RAW_RBM_FORMAT, version: RAW_RBM_VERSION, visible: layer(rbm.visible.spec()), hidden: layer(rbm.hidden.spec()), arrays: {} };
  for (const p of rbm.parameters) {
    const m = await rbm.backend.read(p.tensor);
    const file = `${stem}.${p.name}.bin`;
    const width = dtype === 'float64' ? 8 : 4;
    const bytes = new Uint8Array(m.size * width);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < m.size; i++) {
      if (dtype === 'float64') view.setFloat64(i * width, m.data[i]!, true);
      else view.setFloat32(i * width, m.data[i]!, true);
    }
    writeFileAtomic(join(dirname(path), file), bytes);
    doc.arrays[p.name] = { file, dtype, shape: m.rows === 1 && p.role !== 'weights' ? [m.cols] : [m.rows, m.cols] };
  }
  writeFileAtomic(path, `${JSON.stringify(doc, null, 1)}\n`);
}

function readJson(path: string, source: string): Partial<RawRBMDescription> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FormatError(code === 'ENOENT' ? `${source} does not exist` : `cannot read ${source}: ${(error as Error).message}`);
  }
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc !== 'object' || doc === null) throw new Error('not a JSON object');
    return doc as Partial<RawRBMDescription>;
  } catch (error) {
    throw new FormatError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
}

function layerOptions(x: unknown, side: string): { type: string; size: number } & Record<string, unknown> {
  if (typeof x !== 'object' || x === null) throw new FormatError(`"${side}" must be an object such as { "type": "bernoulli", "size": 784 }`);
  const { name: _name, ...options } = x as Record<string, unknown>;
  return { ...options, type: typeof options.type === 'string' ? options.type : 'bernoulli', size: options.size as number };
}

/** Reads one array file into a rows x cols float64 matrix (transposing when the entry says so). */
function readArray(entry: RawArray, folder: string, rows: number, cols: number, what: string): Matrix {
  if (typeof entry !== 'object' || entry === null || typeof entry.file !== 'string') throw new FormatError(`${what} needs a "file"`);
  if (entry.dtype !== 'float32' && entry.dtype !== 'float64') throw new FormatError(`${what} has dtype ${JSON.stringify(entry.dtype)}; expected "float32" or "float64" (little-endian)`);
  const shape = entry.shape;
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 2 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new FormatError(`${what} has shape ${JSON.stringify(shape)}; expected [n] or [rows, cols] of positive integers`);
  }
  const transpose = entry.transpose === true;
  const [storedRows, storedCols] = shape.length === 1 ? [1, shape[0]!] : [shape[0]!, shape[1]!];
  const [r, c] = transpose ? [storedCols, storedRows] : [storedRows, storedCols];
  if (r !== rows || c !== cols) {
    // Same byte count, other layout: the layer sizes tell a transposed declaration apart (unless they are equal).
    const hint = r === cols && c === rows ? (transpose ? ': drop "transpose": true, the file holds visible x hidden already' : ': that is the transpose; if the file holds hidden x visible weights (scikit-learn\'s components_, PyTorch\'s Linear weight), declare the shape as stored and add "transpose": true') : '';
    throw new FormatError(`${what} has shape ${JSON.stringify(shape)}${transpose ? ' (transposed)' : ''}, but the model needs ${rows}x${cols}${hint}`);
  }
  const offset = entry.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw new FormatError(`${what} has offset ${JSON.stringify(entry.offset)}; expected a whole number of bytes`);
  const file = isAbsolute(entry.file) ? entry.file : join(folder, entry.file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new FormatError(`${what}: cannot read file "${file}": ${(error as Error).message}`);
  }
  const width = entry.dtype === 'float64' ? 8 : 4;
  const need = offset + rows * cols * width;
  if (bytes.length !== need) {
    throw new FormatError(`${what}: file "${file}" holds ${bytes.length} bytes; offset ${offset} + ${rows * cols} ${entry.dtype} values need ${need}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = Matrix.zeros(rows, cols, 'float64');
  for (let i = 0; i < storedRows; i++) {
    for (let j = 0; j < storedCols; j++) {
      const at = offset + (i * storedCols + j) * width;
      const x = width === 8 ? view.getFloat64(at, true) : view.getFloat32(at, true);
      if (!Number.isFinite(x)) throw new FormatError(`${what}: file "${file}" holds ${x} at row ${i}, col ${j} (as stored)`);
      m.data[transpose ? j * cols + i : i * cols + j] = x;
    }
  }
  return m;
}
