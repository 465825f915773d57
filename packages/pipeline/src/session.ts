import { EnergyModel, Trainer, type TrainingRows } from '@boltzmann/core';
import { InvalidValueError, Matrix, ShapeError } from '@boltzmann/tensor';
import { isObservable, type Observable } from 'rxjs';
import { isBrokerSource, type BrokerSource } from './brokers/broker-source.js';

/** Where a stream should start: the trainer's counters when the data is requested. */
export interface StreamPosition {
  /** Completed epochs. */
  epoch: number;
  /** Completed steps. */
  step: number;
}

/**
 * Makes the batch stream for a position: called at the start of every epoch (or once, with
 * `stepsPerEpoch`) so each epoch can reshuffle (e.g. `shuffle({ seed, stream: epoch })`) and a
 * resumed run gets the data the interrupted one would have seen (e.g. `generatorStream(f, { start: step })`).
 */
export type DataFactory = (position: StreamPosition) => Observable<Matrix | TrainingRows>;

/**
 * What to train: the model, its trainer, the data and how long.
 *
 * - `data` a Matrix: every epoch trains on all rows in minibatches of the trainer's batch size,
 *   shuffled by the trainer's seeded stream; the same steps as `Trainer.fit`.
 * - `data` TrainingRows (core): the same, rows with missing values (a mask) or with the values
 *   of the model's given layers (a conditional RBM's past), as a model's `rowsForTraining` makes them.
 * - `data` an Observable: every emitted Matrix is one step's batch (use `batch(n)` to group rows);
 *   an emitted TrainingRows is one step's batch with its mask and given values (a recommender's
 *   ratings with their mask, a conditional RBM's frames with their past).
 *   Without `stepsPerEpoch` one epoch is one subscription, from subscribe to complete (a cold
 *   source is subscribed again each epoch); with it, one subscription feeds all epochs.
 * - `data` a DataFactory: as an Observable, made afresh for each epoch (or once) from the position.
 * - `data` a BrokerSource (a Redis stream, a JetStream consumer): one batch of the trainer's
 *   batch size per step, read only when the trainer takes it, exactly once with respect to the
 *   checkpoints (its position is saved in them; messages are acknowledged once a checkpoint
 *   holding them is durable). Needs `stepsPerEpoch` (the stream has no end); `epochs` counts
 *   those, Infinity trains until cancelled.
 */
export interface TrainingSession {
  model: EnergyModel;
  trainer: Trainer;
  data: Matrix | TrainingRows | Observable<Matrix | TrainingRows> | DataFactory | BrokerSource;
  /** Held-out rows scored at each epoch end (free energy, pseudo-log-likelihood); early stopping watches them. */
  validation?: Matrix;
  /**
   * Train until the trainer has completed this many epochs in all: a trainer resumed after k
   * epochs runs `epochs - k` more, so resuming is running the same session again. Infinity
   * trains until cancelled, stopped early or the data ends.
   */
  epochs: number;
  /** Steps per epoch for stream data (required for an unbounded stream to have epoch ends). */
  stepsPerEpoch?: number;
}

/** The kinds of session data, told apart. */
export type SessionData =
  | { kind: 'matrix'; matrix: Matrix | TrainingRows }
  | { kind: 'stream'; open: DataFactory }
  | { kind: 'broker'; source: BrokerSource };

/**
 * Checks a session and says what is wrong in words: a trainer for another model, a negative or
 * fractional epoch count, a per-epoch schedule (learning rate, momentum, CD's k) with fewer values
 * than `epochs`, data that is not a Matrix/Observable/function, a matrix or validation set with
 * the wrong number of columns or NaN/Inf or values outside the visible units' range.
 */
export function validateSession(session: TrainingSession): SessionData {
  if (typeof session !== 'object' || session === null) throw new InvalidValueError('train() needs a session { model, trainer, data, epochs }');
  const { model, trainer, data, validation, epochs, stepsPerEpoch } = session;
  if (!(model instanceof EnergyModel)) throw new InvalidValueError('session.model must be an EnergyModel (an RBM, ...)');
  if (!(trainer instanceof Trainer)) throw new InvalidValueError('session.trainer must be a Trainer');
  if (trainer.model !== model) throw new InvalidValueError('session.trainer trains another model than session.model');
  if (typeof epochs !== 'number' || Number.isNaN(epochs) || epochs < 0 || (epochs !== Infinity && !Number.isInteger(epochs))) {
    throw new InvalidValueError(`session.epochs must be a non-negative integer or Infinity, got ${String(epochs)}`);
  }
  // A per-epoch list schedule too short for the run fails now, not after hours of training (an endless run may stop early: not checked).
  if (epochs !== Infinity) trainer.checkSchedules(epochs);
  if (stepsPerEpoch !== undefined && (!Number.isInteger(stepsPerEpoch) || stepsPerEpoch < 1)) {
    throw new InvalidValueError(`session.stepsPerEpoch must be a positive integer, got ${String(stepsPerEpoch)}`);
  }
  const visible = model.layers[0]!;
  if (validation !== undefined) {
    if (!(validation instanceof Matrix)) throw new InvalidValueError('session.validation must be a Matrix');
    visible.validate(validation, 'validation data');
  }
  if (data instanceof Matrix) {
    if (stepsPerEpoch !== undefined) throw new InvalidValueError('session.stepsPerEpoch is for stream data; matrix data has ceil(rows / batch size) steps per epoch');
    if (data.cols !== visible.size) throw new ShapeError(`training data has ${data.cols} columns but the visible layer has ${visible.size} units`);
    visible.validate(data, 'training data');
    return { kind: 'matrix', matrix: data };
  }
  if (typeof data === 'object' && data !== null && (data as TrainingRows).visible instanceof Matrix) {
    const rows = data as TrainingRows;
    if (stepsPerEpoch !== undefined) throw new InvalidValueError('session.stepsPerEpoch is for stream data; training rows have ceil(rows / batch size) steps per epoch');
    if (rows.visible.cols !== visible.size) throw new ShapeError(`training data has ${rows.visible.cols} columns but the visible layer has ${visible.size} units`);
    return { kind: 'matrix', matrix: rows };
  }
  if (isBrokerSource(data)) {
    if (stepsPerEpoch === undefined) throw new InvalidValueError(`session.stepsPerEpoch is required with a broker source (${data.description}): its stream has no end, so epochs are counted in steps`);
    if (data.columns !== visible.size) throw new ShapeError(`the rows of ${data.description} have ${data.columns} columns but the visible layer has ${visible.size} units`);
    return { kind: 'broker', source: data };
  }
  if (isObservable(data)) return { kind: 'stream', open: () => data as Observable<Matrix | TrainingRows> };
  if (typeof data === 'function') return { kind: 'stream', open: data };
  throw new InvalidValueError('session.data must be a Matrix, training rows { visible, mask?, given? }, an Observable of batches (Matrix or training rows), a function (position) => Observable of batches, or a broker source');
}
