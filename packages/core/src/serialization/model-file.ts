import { readFileSync } from 'node:fs';
import { BoltzmannError, FormatError, Matrix, rngState, writeFileAtomic, type Backend, type RngState, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel, ModelSpec } from '../models/energy-model.js';
import { RBM } from '../models/rbm.js';
import { RecommenderRBM, checkLevels } from '../models/recommender-rbm.js';
import type { Components } from '../components.js';
import { buildModel } from '../models/registry.js';
import { Trainer, type TrainingCheckpoint } from '../training/trainer.js';
import { decodeArray, encodeArray, type EncodedArray } from './array-codec.js';

/** The `format` field of every model file. */
export const MODEL_FORMAT = 'boltzmann.ts/model';
/** The format version this code writes and reads (see FORMAT.md). */
export const MODEL_FORMAT_VERSION = 1;

/** The JSON document of a model file (see FORMAT.md). */
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

async function encodeTensors(backend: Backend, tensors: Readonly<Record<string, Tensor>>): Promise<Record<string, EncodedArray>> {
  const out: Record<string, EncodedArray> = {};
  for (const name of Object.keys(tensors)) out[name] = encodeArray(await backend.read(tensors[name]!));
  return out;
}

/** The model (and the trainer's state, for resuming) as the JSON text of a model file. */
export async function encodeModel(model: EnergyModel, trainer?: Trainer): Promise<string> {
  if (trainer !== undefined && trainer.model !== model) throw new BoltzmannError('the trainer passed to saveModel trains another model');
  const params: Record<string, Tensor> = {};
  for (const p of model.parameters) params[p.name] = p.tensor;
  const doc: ModelDocument = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    model: model instanceof RecommenderRBM ? { ...model.spec(), levels: [...model.levels] } : model.spec(),
    sampleRng: { ...model.sampleRng },
    parameters: await encodeTensors(model.backend, params),
  };
  if (trainer) {
    const c = trainer.checkpoint();
    doc.training = {
      ...c,
      optimizer: await encodeTensors(model.backend, c.optimizer),
      estimator: await encodeTensors(model.backend, c.estimator),
      regularizers: await encodeTensors(model.backend, c.regularizers ?? {}),
    };
  }
  return `${JSON.stringify(doc, null, 1)}\n`;
}

/** Options of `loadModel` and `decodeModel`. */
export interface LoadModelOptions {
  /** The component set the file's types come from (the model and its trainer keep it); default the built-ins. */
  components?: Components;
}

/**
 * Saves the model - layer types and sizes, every parameter, the sampling RNG - and, given a
 * trainer, its optimizer state, persistent chains, counters and RNG states, as one JSON file
 * written atomically (a reader sees the old file or the new one, never half of one).
 */
export async function saveModel(path: string, model: EnergyModel, trainer?: Trainer): Promise<void> {
  writeFileAtomic(path, await encodeModel(model, trainer));
}

/**
 * Reads a model file onto `backend`. A missing file, a truncated or corrupt one (bad JSON,
 * wrong byte counts, failed checksums), another format version or parameters whose shapes do
 * not fit the layers give a FormatError naming the file and the problem. The layer, model and
 * training component types are looked up in `options.components` (default the built-ins; pass
 * the container's set for a model with plugin types).
 */
export function loadModel(path: string, backend: Backend, options: LoadModelOptions = {}): LoadedModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FormatError(`model file "${path}" does not exist`);
    throw new FormatError(`cannot read model file "${path}": ${(error as Error).message}`);
  }
  return decodeModel(text, backend, `model file "${path}"`, options);
}

/** `loadModel` for a file that must hold an RBM. */
export function loadRBM(path: string, backend: Backend, options: LoadModelOptions = {}): LoadedModel<RBM> {
  const loaded = loadModel(path, backend, options);
  if (!(loaded.model instanceof RBM)) throw new FormatError(`model file "${path}" holds a "${loaded.model.kind}" model, not an RBM`);
  return loaded as LoadedModel<RBM>;
}

/** Parses the text of a model file (see `loadModel`); `source` names it in errors. */
export function decodeModel(text: string, backend: Backend, source = 'model file', options: LoadModelOptions = {}): LoadedModel {
  let doc: Partial<ModelDocument>;
  try {
    doc = JSON.parse(text) as Partial<ModelDocument>;
  } catch (error) {
    throw new FormatError(`${source} is not valid JSON (truncated or corrupt, ${text.length} bytes read): ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || doc.format !== MODEL_FORMAT) {
    throw new FormatError(`${source} is not a boltzmann.ts model file (its "format" field is ${JSON.stringify((doc as { format?: unknown } | null)?.format)})`);
  }
  if (doc.version !== MODEL_FORMAT_VERSION) {
    throw new FormatError(`${source} has format version ${JSON.stringify(doc.version)}; this version of boltzmann.ts reads version ${MODEL_FORMAT_VERSION}`);
  }
  if (typeof doc.parameters !== 'object' || doc.parameters === null) throw new FormatError(`${source} has no "parameters" object`);

  const { levels, ...spec } = (typeof doc.model === 'object' && doc.model !== null ? doc.model : {}) as Partial<ModelDocument['model']>;
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
    const params = decodeAll(doc.parameters, (name) => `parameter "${name}" in ${source}`);
    for (const p of model.parameters) {
      const m = params[p.name];
      if (m === undefined) throw new FormatError(`${source} lacks parameter "${p.name}"`);
      if (m.rows !== p.tensor.rows || m.cols !== p.tensor.cols) {
        throw new FormatError(`parameter "${p.name}" in ${source} is ${m.rows}x${m.cols}, but its layers need ${p.tensor.rows}x${p.tensor.cols}`);
      }
    }
    model.setParams(params); // runs each connection's checkParameters (lateral weights) before writing
    if (doc.sampleRng) model.sampleRng = rngState(doc.sampleRng.seed, doc.sampleRng.stream, doc.sampleRng.counter);
    if (doc.training === undefined) return { model };
    const t = doc.training;
    const checkpoint: TrainingCheckpoint<Matrix> = {
      ...t,
      optimizer: decodeAll(t.optimizer, (name) => `optimizer state "${name}" in ${source}`),
      estimator: decodeAll(t.estimator, (name) => `estimator state "${name}" in ${source}`),
      regularizers: t.regularizers === undefined ? {} : decodeAll(t.regularizers, (name) => `regularizer state "${name}" in ${source}`),
    };
    return { model, trainer: Trainer.restore(model, checkpoint) };
  } catch (error) {
    model.dispose();
    if (error instanceof FormatError) throw error;
    throw new FormatError(`${source}: ${(error as Error).message}`);
  }
}

function decodeAll(arrays: unknown, what: (name: string) => string): Record<string, Matrix> {
  if (typeof arrays !== 'object' || arrays === null) throw new FormatError(`${what('*')} is missing`);
  const out: Record<string, Matrix> = {};
  for (const [name, a] of Object.entries(arrays)) out[name] = decodeArray(a, what(name));
  return out;
}
