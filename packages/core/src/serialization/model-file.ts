import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FormatError, writeAll, writeFileAtomicWith, type Backend } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import type { RBM } from '../models/rbm.js';
import type { Trainer } from '../training/trainer.js';
import { asRBM, decodeModel, writeModel, type ByteReader, type LoadedModel, type LoadModelOptions } from './model-codec.js';

/**
 * Saves the model - layer types and sizes, every parameter, the sampling RNG - and, given a
 * trainer, its optimizer state, persistent chains, counters and RNG states, as a binary model
 * file (FORMAT.md, version 2), streamed one array at a time and written atomically (a reader
 * sees the old file or the new one, never half of one). Models of any size that fits in memory
 * save; host memory beyond the model is the largest single array.
 */
export async function saveModel(path: string, model: EnergyModel, trainer?: Trainer): Promise<void> {
  await writeFileAtomicWith(path, (fd) => writeModel({ write: (bytes, position) => writeAll(fd, bytes, position) }, model, trainer).then(() => undefined));
}

/**
 * Reads a model file (version 2, or a version 1 JSON file) onto `backend`. A missing file, a
 * truncated or corrupt one (bad header, wrong sizes, failed checksums), another format version,
 * parameters whose shapes do not fit the layers, or training state holding NaN/Inf give a
 * FormatError naming the file and the problem. Sizes are checked before anything is
 * allocated; arrays are read one at a time from the file. The layer, model and training
 * component types are looked up in `options.components` (default the built-ins; pass the
 * container's set for a model with plugin types).
 */
export function loadModel(path: string, backend: Backend, options: LoadModelOptions = {}): LoadedModel {
  const source = `model file "${path}"`;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FormatError(`${source} does not exist`);
    throw new FormatError(`cannot read ${source}: ${(error as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new FormatError(`${source} is a directory`);
    if (!stat.isFile()) throw new FormatError(`${source} is not a regular file`);
    const reader: ByteReader = {
      size: stat.size,
      owned: true,
      read: (position, length) => {
        const out = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const n = readSync(fd, out, done, length - done, position + done);
          if (n === 0) throw new FormatError(`${source} ended at byte ${position + done} while reading (changed while being read?)`);
          done += n;
        }
        return out;
      },
    };
    return decodeModel(reader, backend, source, options);
  } catch (error) {
    if (error instanceof FormatError) throw error;
    throw new FormatError(`cannot read ${source}: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/** `loadModel` for a file that must hold an RBM. */
export function loadRBM(path: string, backend: Backend, options: LoadModelOptions = {}): LoadedModel<RBM> {
  return asRBM(loadModel(path, backend, options), `model file "${path}"`);
}
