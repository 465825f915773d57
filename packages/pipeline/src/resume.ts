import { loadModel, type LoadModelOptions } from '@boltzmann/core';
import { FormatError, type Backend } from '@boltzmann/tensor';
import type { TrainingSession } from './session.js';

/**
 * A session that continues the run saved in a checkpoint (written by `train`'s `checkpoint`
 * option or `saveModel(path, model, trainer)`): the model, and a trainer with the saved
 * optimizer state, persistent chains, RNG states and counters. Give it the same data and epoch
 * count as the interrupted session and `train` ends with exactly the parameters the
 * uninterrupted run would have had. A file without training state is a FormatError.
 * `options.components`: the set its types come from (default the built-ins).
 */
export function resumeSession(path: string, backend: Backend, rest: Omit<TrainingSession, 'model' | 'trainer'>, options: LoadModelOptions = {}): TrainingSession {
  const { model, trainer } = loadModel(path, backend, options);
  if (trainer === undefined) {
    model.dispose();
    throw new FormatError(`model file "${path}" holds no training state to resume from (it was saved without a trainer)`);
  }
  return { ...rest, model, trainer };
}
