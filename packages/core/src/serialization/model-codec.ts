import { BoltzmannError, FormatError, Matrix, assertFinite, rngState, type Backend, type RngState, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel, ModelSpec } from '../models/energy-model.js';
import { RBM } from '../models/rbm.js';
import { RecommenderRBM, checkLevels } from '../models/recommender-rbm.js';
import type { Components } from '../components.js';
import { buildModel } from '../models/registry.js';
import { checkSourcePosition } from '../training/source-position.js';
import { Trainer, type TrainingCheckpoint } from '../training/trainer.js';
import { crc32, decodeArray, encodedByteLength, type EncodedArray } from './array-codec.js';
import {
  MODEL_PREFIX_BYTES,
  aligned,
  checkDeclaredSizes,
  decodeHeader,
  decodePrefix,
  dtypeWidth,
  encodeHeader,
  entryBytes,
  hasModelMagic,
  type ArrayEntry,
  type ModelHeader,
} from './model-format.js';

/** The `format` field of every model file. */
export const MODEL_FORMAT = 'boltzmann.ts/model';
/** The format version this code writes (see FORMAT.md); version 1 files are still read. */
export const MODEL_FORMAT_VERSION = 2;

/** The JSON document of a version 1 model file (one JSON text, arrays in base64; see FORMAT.md). */
export interface ModelDocument {
  format: typeof MODEL_FORMAT;
  version: number;
  /**
   * The graph, plus `levels`: a `recommender-rbm`'s rating values (K, strictly increasing);
   * absent for other kinds (and in files written before the key: levels 1..K).
   */
  model: ModelSpec & { levels?: number[] };
  sampleRng: RngState;
  parameters: Record<string, EncodedArray>;
  training?: TrainingCheckpoint<EncodedArray>;
}

/** What `loadModel` gives back: the model and, when the file holds one, a trainer ready to resume. */
export interface LoadedModel<M extends EnergyModel = EnergyModel> {
  model: M;
  trainer?: Trainer;
}

/** Where an encoder puts bytes: `write(bytes, position)` (positions may be written twice: the header is rewritten last). */
export interface ByteSink {
  write(bytes: Uint8Array, position: number): void | Promise<void>;
}

/** Where a decoder takes bytes from: the total size and reads of any range. */
export interface ByteReader {
  readonly size: number;
  /** Each read returns a new buffer of its own (kept as the array's storage); otherwise a view that is copied. */
  readonly owned?: boolean;
  read(position: number, length: number): Uint8Array;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The array groups of a file, with the tensors to write and their names in errors. */
interface PlannedArray {
  group: 'parameters' | 'optimizer' | 'estimator' | 'regularizers';
  name: string;
  tensor: Tensor;
  entry: ArrayEntry;
}

/**
 * Writes the model (and a trainer's state, for resuming) as a version 2 model file into `sink`:
 * header first with placeholder checksums, then each array read from the backend one at a
 * time (host memory: the largest array, never the whole file), then the header again with the
 * checksums. Returns the file's size. Refuses state holding NaN/Inf: such a file could not be
 * loaded, so it must not replace a good one.
 */
export async function writeModel(sink: ByteSink, model: EnergyModel, trainer?: Trainer): Promise<number> {
  if (trainer !== undefined && trainer.model !== model) throw new BoltzmannError('the trainer passed to saveModel trains another model');
  const dtype: ArrayEntry['dtype'] = model.backend.precision === 'float64' ? 'float64' : 'float32';
  const planned: PlannedArray[] = [];
  let dataBytes = 0;
  const plan = (group: PlannedArray['group'], tensors: Readonly<Record<string, Tensor>>): Record<string, ArrayEntry> => {
    const entries: Record<string, ArrayEntry> = {};
    for (const name of Object.keys(tensors)) {
      const tensor = tensors[name]!;
      const entry: ArrayEntry = { dtype, shape: [tensor.rows, tensor.cols], offset: dataBytes, crc32: '00000000' };
      dataBytes = aligned(dataBytes + entryBytes(entry));
      entries[name] = entry;
      planned.push({ group, name, tensor, entry });
    }
    return entries;
  };
  const params: Record<string, Tensor> = {};
  for (const p of model.parameters) params[p.name] = p.tensor;
  const header: ModelHeader = {
    format: MODEL_FORMAT,
    version: 2,
    model: model instanceof RecommenderRBM ? { ...model.spec(), levels: [...model.levels] } : model.spec(),
    sampleRng: { ...model.sampleRng },
    parameters: plan('parameters', params),
    dataBytes: 0,
  };
  if (trainer) {
    const c = trainer.checkpoint();
    header.training = {
      ...c,
      optimizer: plan('optimizer', c.optimizer),
      estimator: plan('estimator', c.estimator),
      regularizers: plan('regularizers', c.regularizers ?? {}),
    };
  }
  header.dataBytes = dataBytes;
  const placeholder = encodeHeader(header, crc32);
  await sink.write(placeholder, 0);
  const start = placeholder.length;
  for (const a of planned) {
    const m = await model.backend.read(a.tensor);
    assertFiniteState(m, a);
    const bytes = bytesOf(m, a.entry.dtype);
    a.entry.crc32 = crc32(bytes).toString(16).padStart(8, '0');
    await sink.write(bytes, start + a.entry.offset);
    const padding = aligned(bytes.length) - bytes.length;
    if (padding > 0) await sink.write(new Uint8Array(padding), start + a.entry.offset + bytes.length);
  }
  const final = encodeHeader(header, crc32);
  if (final.length !== placeholder.length) throw new BoltzmannError('internal: the model header changed length when its checksums were filled in');
  await sink.write(final, 0);
  return start + dataBytes;
}

function assertFiniteState(m: Matrix, a: PlannedArray): void {
  try {
    assertFinite(`${a.group === 'parameters' ? 'parameter' : `${a.group} state`} "${a.name}"`, m);
  } catch (error) {
    throw new BoltzmannError(`refusing to save a model whose ${(error as Error).message}: the file would not load`);
  }
}

/** The model file's bytes in memory (for small models and browsers; `saveModel` streams to disk instead). */
export async function encodeModel(model: EnergyModel, trainer?: Trainer): Promise<Uint8Array> {
  const chunks: [Uint8Array, number][] = [];
  const size = await writeModel({ write: (bytes, position) => void chunks.push([new Uint8Array(bytes), position]) }, model, trainer);
  const out = new Uint8Array(size);
  for (const [bytes, position] of chunks) out.set(bytes, position);
  return out;
}

/** The bytes of a host matrix in `dtype`, little-endian. */
function bytesOf(m: Matrix, dtype: ArrayEntry['dtype']): Uint8Array {
  const want = dtype === 'float64' ? Float64Array : Float32Array;
  const data = m.data instanceof want ? m.data : want.from(m.data);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (littleEndian) return bytes;
  const copy = bytes.slice();
  for (let i = 0; i < copy.length; i += data.BYTES_PER_ELEMENT) copy.subarray(i, i + data.BYTES_PER_ELEMENT).reverse();
  return copy;
}

/** A reader over bytes already in memory. */
export function memoryReader(bytes: Uint8Array): ByteReader {
  return { size: bytes.length, read: (position, length) => bytes.subarray(position, position + length) };
}

/** Options of `loadModel` and `decodeModel`. */
export interface LoadModelOptions {
  /** The component set the file's types come from (the model and its trainer keep it); default the built-ins. */
  components?: Components;
}

/**
 * Decodes a model file: version 2 (binary, from `reader` or bytes) or version 1 (a JSON text, as
 * a string or its bytes). `source` names it in errors ("model file "run/model.json"").
 * Sizes are checked against the file before the model is built, every array's checksum and
 * values (finite) before it is used, and the training section rebuilds through the same checks
 * as a new trainer (a negative learning rate is refused).
 */
export function decodeModel(input: string | Uint8Array | ByteReader, backend: Backend, source = 'model file', options: LoadModelOptions = {}): LoadedModel {
  if (typeof input === 'string') return decodeVersion1(input, backend, source, options);
  const reader = input instanceof Uint8Array ? memoryReader(input) : input;
  const head = reader.read(0, Math.min(reader.size, MODEL_PREFIX_BYTES));
  if (hasModelMagic(head)) return decodeVersion2(reader, backend, source, options);
  if (reader.size > VERSION1_LIMIT) throw new FormatError(`${source} is neither a binary model file (no signature) nor a JSON one of a readable size (${reader.size} bytes)`);
  const text = new TextDecoder('utf-8').decode(reader.read(0, reader.size));
  return decodeVersion1(text, backend, source, options);
}

/** The largest version 1 (JSON) file read: a JavaScript string holds at most about 512 MiB. */
const VERSION1_LIMIT = 512 * 1024 * 1024 - 64;

function decodeVersion2(reader: ByteReader, backend: Backend, source: string, options: LoadModelOptions): LoadedModel {
  const { headerBytes, headerCrc } = decodePrefix(reader.read(0, MODEL_PREFIX_BYTES), reader.size, source);
  const headerData = reader.read(MODEL_PREFIX_BYTES, headerBytes);
  const sum = crc32(headerData);
  if (sum !== headerCrc) throw new FormatError(`${source} fails its header checksum (crc32 ${hex(sum)}, file says ${hex(headerCrc)}): the file is corrupt`);
  const header = decodeHeader(headerData, reader.size, source);
  const start = MODEL_PREFIX_BYTES + headerBytes;
  const array = (entry: ArrayEntry, what: string): Matrix => {
    const width = dtypeWidth(entry.dtype);
    const raw = reader.read(start + entry.offset, entryBytes(entry));
    const bytes = reader.owned === true && raw.byteOffset === 0 ? raw : new Uint8Array(raw); // a copy (Buffer.slice would not copy)
    const got = hex(crc32(bytes));
    if (got !== entry.crc32) throw new FormatError(`${what} fails its checksum (crc32 ${got}, header says ${entry.crc32}): the file is corrupt`);
    if (!littleEndian) for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
    const data = entry.dtype === 'float64' ? new Float64Array(bytes.buffer) : new Float32Array(bytes.buffer);
    return new Matrix(entry.shape[0], entry.shape[1], data);
  };
  return assemble(header, (x, what) => array(x as ArrayEntry, what), (x) => (x as ArrayEntry).shape, backend, source, options);
}

function decodeVersion1(text: string, backend: Backend, source: string, options: LoadModelOptions): LoadedModel {
  let doc: Partial<ModelDocument>;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as Partial<ModelDocument>;
  } catch (error) {
    throw new FormatError(`${source} is not valid JSON (truncated or corrupt, ${text.length} bytes read): ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || doc.format !== MODEL_FORMAT) {
    throw new FormatError(`${source} is not a boltzmann.ts model file (its "format" field is ${JSON.stringify((doc as { format?: unknown } | null)?.format)})`);
  }
  if (doc.version !== 1) {
    throw new FormatError(`${source} has format version ${JSON.stringify(doc.version)} in a JSON file; this version of boltzmann.ts reads JSON files of version 1 and binary ones of version ${MODEL_FORMAT_VERSION}`);
  }
  if (typeof doc.parameters !== 'object' || doc.parameters === null) throw new FormatError(`${source} has no "parameters" object`);
  // Shapes as the file declares them, once each matches its data's byte count (so they bound what building the model allocates).
  const shapeOf = (x: unknown, what?: string): [number, number] => {
    const a = x as Partial<EncodedArray> | null;
    const shape = a?.shape;
    const width = a?.dtype === 'float64' ? 8 : 4;
    if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) return [0, 0];
    const bytes = encodedByteLength(a);
    if (what !== undefined && bytes !== shape[0] * shape[1] * width) {
      throw new FormatError(`${what} holds ${bytes} bytes; shape ${shape[0]}x${shape[1]} of ${a?.dtype} needs ${shape[0] * shape[1] * width} (truncated or corrupt)`);
    }
    return shape as [number, number];
  };
  for (const [name, a] of Object.entries(doc.parameters)) shapeOf(a, `parameter "${name}" in ${source}`);
  return assemble(doc as ModelDocument, decodeArray, (x) => shapeOf(x), backend, source, options);
}

/** A file's document whichever the version: the arrays are entries that `array` reads. */
interface AnyDocument {
  model: ModelSpec & { levels?: number[] };
  sampleRng?: RngState;
  parameters: Record<string, unknown>;
  training?: TrainingCheckpoint<unknown>;
}

/** Builds the model and trainer a document describes, reading each array once it is needed. */
function assemble(
  doc: AnyDocument,
  array: (entry: unknown, what: string) => Matrix,
  shape: (entry: unknown) => readonly [number, number],
  backend: Backend,
  source: string,
  options: LoadModelOptions,
): LoadedModel {
  const { levels, ...spec } = (typeof doc.model === 'object' && doc.model !== null ? doc.model : {}) as Partial<ModelDocument['model']>;
  checkDeclaredSizes(spec, new Map(Object.entries(doc.parameters).map(([name, e]) => [name, shape(e)])), source);
  let model: EnergyModel;
  try {
    model = buildModel(backend, spec as ModelSpec, { seed: doc.sampleRng?.seed ?? 0, ...(options.components ? { components: options.components } : {}) });
  } catch (error) {
    throw new FormatError(`${source} describes a model that cannot be built: ${(error as Error).message}`);
  }
  try {
    if (levels !== undefined) {
      const key = `"model.levels" in ${source}`;
      if (!(model instanceof RecommenderRBM)) throw new FormatError(`${key} holds rating levels, which only a "recommender-rbm" model has; this model is a "${model.kind}"`);
      try {
        model.withLevels(checkLevels(levels, model.levelCount, key));
      } catch (error) {
        throw new FormatError((error as Error).message);
      }
    }
    for (const name of Object.keys(doc.parameters)) {
      if (!model.parameters.some((p) => p.name === name)) throw new FormatError(`${source} has a parameter "${name}" that the model lacks; its parameters are ${model.parameters.map((p) => p.name).join(', ')}`);
    }
    for (const p of model.parameters) if (doc.parameters[p.name] === undefined) throw new FormatError(`${source} lacks parameter "${p.name}"`);
    // One array on the host at a time (a connection that vets its parameters together gets them
    // together), so a large model is not held twice; the model is discarded if any is refused.
    const vetted = model.connections.filter((c) => c.checkParameters !== undefined).map((c) => c.parameters.map((q) => `${c.name}.${q.name}`));
    let pending: Record<string, Matrix> = {};
    for (const p of model.parameters) {
      const m = array(doc.parameters[p.name], `parameter "${p.name}" in ${source}`);
      if (m.rows !== p.tensor.rows || m.cols !== p.tensor.cols) {
        throw new FormatError(`parameter "${p.name}" in ${source} is ${m.rows}x${m.cols}, but its layers need ${p.tensor.rows}x${p.tensor.cols}`);
      }
      pending[p.name] = m;
      if (vetted.some((names) => names.some((n) => n in pending) && !names.every((n) => n in pending))) continue;
      model.setParams(pending, { partial: true }); // finite values; each connection's checkParameters (lateral weights) before writing
      pending = {};
    }
    if (doc.sampleRng) model.sampleRng = checkedRng(doc.sampleRng, `"sampleRng" in ${source}`);
    if (doc.training === undefined) return { model };
    const t = doc.training;
    if (typeof t !== 'object' || t === null || typeof t.config !== 'object' || t.config === null) throw new FormatError(`${source} has a "training" section without a "config" object`);
    const state = (group: unknown, label: string): Record<string, Matrix> => {
      if (group === undefined) return {};
      if (typeof group !== 'object' || group === null) throw new FormatError(`${label} state in ${source} is not an object of arrays`);
      const out: Record<string, Matrix> = {};
      for (const [name, entry] of Object.entries(group)) {
        const what = `${label} state "${name}" in ${source}`;
        const m = array(entry, what);
        // Loaded state is checked like data: a NaN velocity or chain would train on silently.
        try {
          assertFinite(what, m);
        } catch (error) {
          throw new FormatError((error as Error).message);
        }
        out[name] = m;
      }
      return out;
    };
    if (typeof t.rng !== 'object' || t.rng === null) throw new FormatError(`${source} has a "training" section without "rng" states`);
    const checkpoint: TrainingCheckpoint<Matrix> = {
      ...t,
      rng: { gibbs: checkedRng(t.rng.gibbs, `"training.rng.gibbs" in ${source}`), shuffle: checkedRng(t.rng.shuffle, `"training.rng.shuffle" in ${source}`) },
      optimizer: state(t.optimizer, 'optimizer'),
      estimator: state(t.estimator, 'estimator'),
      regularizers: state(t.regularizers, 'regularizer'),
    };
    if (t.sourcePosition !== undefined) {
      try {
        checkpoint.sourcePosition = checkSourcePosition(t.sourcePosition, `"training.sourcePosition" in ${source}`);
      } catch (error) {
        throw new FormatError((error as Error).message);
      }
    }
    return { model, trainer: Trainer.restore(model, checkpoint) };
  } catch (error) {
    model.dispose();
    if (error instanceof FormatError) throw error;
    throw new FormatError(`${source}: ${(error as Error).message}`);
  }
}

/** An RNG state from a file: three whole numbers. */
function checkedRng(x: unknown, what: string): RngState {
  const r = x as Partial<RngState> | null;
  const whole = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (typeof r !== 'object' || r === null || !whole(r.seed) || !whole(r.stream) || !whole(r.counter)) {
    throw new FormatError(`${what} must be { "seed", "stream", "counter" } of whole numbers, got ${JSON.stringify(x)}`);
  }
  return rngState(r.seed!, r.stream!, r.counter!);
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** `decodeModel`'s result as an RBM, or an error naming what it holds. */
export function asRBM(loaded: LoadedModel, source: string): LoadedModel<RBM> {
  if (!(loaded.model instanceof RBM)) throw new FormatError(`${source} holds a "${loaded.model.kind}" model, not an RBM`);
  return loaded as LoadedModel<RBM>;
}
