import { CounterRng, InvalidValueError, Matrix, type Backend, type Tensor } from '@boltzmann/tensor';
import type { Hyperparameters } from '../optimizers/optimizer.js';
import type { Workspace } from '../workspace.js';

/** Where training stands: completed epochs and steps (the learner's counters). */
export interface TrainingPosition {
  epoch: number;
  step: number;
}

/**
 * Batches that arrive one at a time (a stream), each one step's batch. `open` is called at the
 * start of every epoch (one epoch = from open to done), or once for all epochs when
 * `stepsPerEpoch` is given (then the data ending is the end of the run). The loop calls the
 * iterator's `return` when it stops early.
 */
export interface BatchStream<B = Matrix> {
  open(position: TrainingPosition): AsyncIterator<B>;
  /** Steps per epoch (required for an endless stream to have epoch ends). */
  stepsPerEpoch?: number;
}

/**
 * What the one epoch loop trains: anything that takes steps on batches of rows. A batch is a
 * list of row-aligned tensors ("parts": the examples, and what goes with each row - labels,
 * a mask of missing values, given values), gathered by the loop from resident rows or made by
 * the learner from a streamed batch. The loop owns the position (`epoch`, a resume inside an
 * epoch), the row order (one permutation of `shuffleRng` per epoch), the divergence check at
 * every epoch end and stopping; the learner owns the step and what an epoch reports.
 */
export interface Learner<Report, B = never> {
  /** Completed epochs (the loop counts them). */
  epoch: number;
  /** Completed steps (`trainBatch` counts them). */
  readonly step: number;
  /** Rows per step of resident data (the last step of an epoch takes the rest). */
  readonly batchSize: number;
  /** Whether each epoch visits the resident rows in a new random order. */
  readonly shuffle: boolean;
  /** The row-order stream: one `permutation` per shuffled epoch, so the state at a step says the order of its epoch. */
  readonly shuffleRng: CounterRng;
  readonly backend: Backend;
  /** Where the loop keeps the gathered batches. */
  readonly workspace: Workspace;
  /** The hyperparameters of the next step. */
  hyperparameters(): Hyperparameters;
  /** Those of the last step. */
  readonly lastHyperparameters: Hyperparameters;
  /** Before the first step of the run (not when there is nothing to train). */
  begin?(): Promise<void>;
  /** At every epoch start; `steps` where known. */
  startEpoch(steps: number | undefined): void;
  /** One step on a batch; done when the promise resolves, the parts untouched until then. */
  trainBatch(parts: readonly Tensor[], index: number): Promise<void>;
  /** Before the first epoch: throws a DivergenceError (with the last good state put back) if the state is not finite. */
  checkFinite(where: string, hint?: string): Promise<void>;
  /** The report of the epoch that just ended (`position.epoch` counted already). */
  report(position: TrainingPosition & Hyperparameters, startedAt: number): Promise<Report>;
  /**
   * At every epoch end, after `report`: throws a DivergenceError (with the last good state put
   * back) if the epoch diverged (NaN/Inf, or its report says so: a loss blown up), else records
   * the state as the last good one. `where` is "in epoch N"; `hint` ends the message.
   */
  checkEpoch(report: Report, where: string, hint: string): Promise<void>;
  /** The parts of a streamed batch on the backend, validated (`label` names it in errors). */
  streamBatch?(batch: B, label: string): Promise<readonly Tensor[]>;
}

/** What the loop trains on: row-aligned resident matrices (shuffled and gathered by the loop), or a stream of batches. */
export type LoopSource<B> = { rows: readonly Matrix[] } | { stream: BatchStream<B> };

/** The loop began (after a resume: where the learner's counters stand). */
export interface LoopStartedEvent {
  type: 'started';
  /** Epochs and steps the learner had completed before. */
  epoch: number;
  step: number;
  /** The epoch count the loop trains up to. */
  epochs: number;
  /** Steps in one epoch where known (resident data or `stepsPerEpoch`). */
  stepsPerEpoch?: number;
}

/** One step is done. */
export interface LoopBatchEndEvent {
  type: 'batch-end';
  /** The epoch this step belongs to, counted from 1. */
  epoch: number;
  /** Steps completed so far (the learner's counter). */
  step: number;
  /** This step's number inside its epoch, from 1. */
  batch: number;
  /** Rows in this step's batch. */
  rows: number;
  /** Whether this is the last step of its epoch (always false for a stream without `stepsPerEpoch`). */
  lastOfEpoch: boolean;
  /** The hyperparameters this step used. */
  learningRate: number;
  momentum: number;
}

/** One epoch is done and checked for divergence; `report` holds the learner's report of it. */
export interface LoopEpochEndEvent<Report> {
  type: 'epoch-end';
  report: Report;
  /** The epoch count the loop trains up to. */
  epochs: number;
}

/** What {@link epochLoop} yields. */
export type EpochLoopEvent<Report> = LoopStartedEvent | LoopBatchEndEvent | LoopEpochEndEvent<Report>;

/** How the loop ended: it reached `untilEpoch`, the data ended (a stream with `stepsPerEpoch`), or the signal aborted it. */
export type LoopEnd = 'completed' | 'data-ended' | 'cancelled';

/**
 * The library's one epoch loop: epochs of minibatches through `learner.trainBatch`, as typed
 * events, until the learner has completed `untilEpoch` epochs (Infinity: until the data ends or
 * the loop is stopped). It checks for divergence before the first epoch and at every epoch end;
 * stopping the iteration (`break`, `return()`) or aborting `signal` stops it between two steps.
 * A checkpoint written inside an epoch resumes inside it, with the same row order.
 * `trainingLoop` (energy models) and `FeedForwardNet.fit` (classifiers) run through it.
 */
export async function* epochLoop<Report, B>(learner: Learner<Report, B>, source: LoopSource<B>, untilEpoch: number, signal?: AbortSignal): AsyncGenerator<EpochLoopEvent<Report>, LoopEnd, void> {
  const until = untilEpoch;
  const resident = 'rows' in source ? source.rows : undefined;
  const n = resident?.[0]?.rows ?? 0;
  const batchSize = resident ? Math.min(learner.batchSize, n) : 0;
  const stepsPerEpoch = resident ? Math.ceil(n / batchSize) : (source as { stream: BatchStream<B> }).stream.stepsPerEpoch;
  const started: LoopStartedEvent = { type: 'started', epoch: learner.epoch, step: learner.step, epochs: until };
  if (stepsPerEpoch !== undefined) started.stepsPerEpoch = stepsPerEpoch;
  yield started;
  if (learner.epoch >= until) return 'completed';
  await learner.begin?.();
  if (resident) return yield* residentEpochs(resident);
  return yield* streamEpochs((source as { stream: BatchStream<B> }).stream);

  function aborted(): boolean {
    return signal?.aborted === true;
  }

  /** One step; the event it makes. */
  async function step(parts: readonly Tensor[], index: number, lastOfEpoch: boolean): Promise<LoopBatchEndEvent> {
    const hyper = learner.hyperparameters();
    await learner.trainBatch(parts, index);
    return { type: 'batch-end', epoch: learner.epoch + 1, step: learner.step, batch: index, rows: parts[0]!.rows, lastOfEpoch, ...hyper };
  }

  /** Closes an epoch: the counter, the report, the divergence check. */
  async function endEpoch(startedAt: number): Promise<LoopEpochEndEvent<Report>> {
    learner.epoch += 1;
    const last = learner.lastHyperparameters;
    const report = await learner.report({ epoch: learner.epoch, step: learner.step, ...last }, startedAt);
    await learner.checkEpoch(report, `in epoch ${learner.epoch}`, ` (learning rate ${last.learningRate}, momentum ${last.momentum})`);
    return { type: 'epoch-end', report, epochs: until };
  }

  /**
   * A step's event, and after an epoch's last step the epoch's end. The epoch is closed before
   * either goes out, so a consumer that stops at the step's event (`break`, `return()`) leaves
   * counters that agree with each other: a checkpoint of them resumes at the next epoch, not
   * inside a finished one. A divergence found at the epoch end still follows the step's event.
   */
  async function* stepEvents(done: LoopBatchEndEvent, startedAt: number): AsyncGenerator<EpochLoopEvent<Report>, void, void> {
    if (!done.lastOfEpoch) {
      yield done;
      return;
    }
    let end: LoopEpochEndEvent<Report>;
    try {
      end = await endEpoch(startedAt);
    } catch (error) {
      yield done;
      throw error;
    }
    yield done;
    yield end;
  }

  async function* residentEpochs(matrices: readonly Matrix[]): AsyncGenerator<EpochLoopEvent<Report>, LoopEnd, void> {
    const be = learner.backend;
    const steps = stepsPerEpoch!;
    const uploaded = matrices.map((m) => be.upload(m));
    try {
      let offset = learner.step - learner.epoch * steps;
      if (!(offset > 0 && offset < steps)) offset = 0;
      await learner.checkFinite(`before epoch ${learner.epoch + 1}`);
      while (learner.epoch < until) {
        // Stopped at an epoch boundary: leave before the next epoch draws its row order, or a
        // checkpoint of this state would resume with that order already drawn (a skipped one).
        if (aborted()) return 'cancelled';
        const startedAt = performance.now();
        learner.startEpoch(steps);
        const order = offset > 0 ? orderOfEpochInProgress(learner, n) : learner.shuffle ? learner.shuffleRng.permutation(n) : identity(n);
        for (let b = offset; b < steps; b++) {
          if (aborted()) return 'cancelled';
          const start = b * batchSize;
          const count = Math.min(batchSize, n - start);
          const picked = order.subarray(start, start + count);
          const parts = uploaded.map((t, i) => {
            const part = learner.workspace.get(`epoch-loop:part:${i}`, count, t.cols);
            be.gatherRows(t, picked, part);
            return part;
          });
          yield* stepEvents(await step(parts, b + 1, b + 1 === steps), startedAt);
        }
        offset = 0;
      }
      return 'completed';
    } finally {
      for (const t of uploaded) be.dispose(t);
    }
  }

  async function* streamEpochs(stream: BatchStream<B>): AsyncGenerator<EpochLoopEvent<Report>, LoopEnd, void> {
    if (learner.streamBatch === undefined) throw new InvalidValueError('this learner trains on resident rows only, not on a stream of batches');
    const steps = stream.stepsPerEpoch;
    let iterator: AsyncIterator<B> | undefined;
    const close = () => {
      const it = iterator;
      iterator = undefined;
      void it?.return?.();
    };
    signal?.addEventListener('abort', close);
    let total = 0;
    /** The next batch's parts, validated and on the backend; undefined when the stream is done; null when aborted. */
    const next = async (index: number): Promise<readonly Tensor[] | undefined | null> => {
      if (aborted()) return null;
      const result = await iterator!.next();
      if (aborted()) return null;
      if (result.done) return undefined;
      const parts = await learner.streamBatch!(result.value, `batch ${index} of epoch ${learner.epoch + 1}`);
      total += 1;
      return parts;
    };
    try {
      await learner.checkFinite(`before epoch ${learner.epoch + 1}`);
      if (steps === undefined) {
        // One stream per epoch, from open to done.
        while (learner.epoch < until) {
          if (aborted()) return 'cancelled';
          const startedAt = performance.now();
          learner.startEpoch(undefined);
          iterator = stream.open({ epoch: learner.epoch, step: learner.step });
          let index = 0;
          for (;;) {
            const parts = await next(index + 1);
            if (parts === null) return 'cancelled';
            if (parts === undefined) break;
            index += 1;
            yield await step(parts, index, false);
          }
          close();
          if (index === 0) throw new InvalidValueError(`the data stream completed without a batch in epoch ${learner.epoch + 1}: the data is empty`);
          yield await endEpoch(startedAt);
        }
        return 'completed';
      }
      // One stream for all epochs of `steps` steps.
      iterator = stream.open({ epoch: learner.epoch, step: learner.step });
      let offset = learner.step - learner.epoch * steps;
      if (!(offset > 0 && offset < steps)) offset = 0;
      while (learner.epoch < until) {
        if (aborted()) return 'cancelled';
        const startedAt = performance.now();
        learner.startEpoch(steps);
        for (let b = offset; b < steps; b++) {
          const parts = await next(b + 1);
          if (parts === null) return 'cancelled';
          if (parts === undefined) {
            if (total === 0) throw new InvalidValueError('the data stream completed without a batch: the data is empty');
            return 'data-ended';
          }
          yield* stepEvents(await step(parts, b + 1, b + 1 === steps), startedAt);
        }
        offset = 0;
      }
      return 'completed';
    } finally {
      signal?.removeEventListener('abort', close);
      close();
    }
  }
}

/**
 * The row order of the epoch a mid-epoch checkpoint interrupted: it was drawn with one op of
 * the shuffle stream at the epoch start, so the stream one op back draws it again.
 */
function orderOfEpochInProgress(learner: Learner<unknown, unknown>, n: number): Uint32Array {
  if (!learner.shuffle) return identity(n);
  const state = learner.shuffleRng.snapshot();
  if (state.counter < 1) throw new InvalidValueError(`training is inside epoch ${learner.epoch + 1} (step ${learner.step}) but its shuffle stream has drawn no row order`);
  return CounterRng.fromState({ ...state, counter: state.counter - 1 }).permutation(n);
}

function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
