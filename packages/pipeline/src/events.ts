import type { EpochReport } from '@boltzmann/core';

/** Metrics over the last steps of a run (see `TrainOptions.window`); each value is averaged over rows. */
export interface WindowMetrics {
  /** Steps the window holds now (at most its size). */
  steps: number;
  /** Mean squared error of each batch vs its one-step reconstruction, measured before training on it. */
  reconstructionError: number;
  /** Mean free energy of each batch, measured before training on it. */
  freeEnergy: number;
}

/** The run begins (after a resume: where the checkpoint left off). */
export interface StartedEvent {
  type: 'started';
  /** Epochs the trainer had completed before this run. */
  epoch: number;
  /** Steps the trainer had completed before this run. */
  step: number;
  /** The epoch count the run trains up to (`session.epochs`). */
  epochs: number;
  /** Steps in one epoch where known (matrix data or `stepsPerEpoch`), else undefined. */
  stepsPerEpoch?: number;
}

/** One training step is done. */
export interface BatchEndEvent {
  type: 'batch-end';
  /** The epoch this step belongs to, counted from 1 (the epoch-end of the same epoch reports it). */
  epoch: number;
  /** Steps completed so far in the whole training (the trainer's counter). */
  step: number;
  /** This step's number inside its epoch, from 1. */
  batch: number;
  /** Rows in this step's batch. */
  rows: number;
  /** The hyperparameters this step used. */
  learningRate: number;
  momentum: number;
  /** Sliding-window metrics, when `TrainOptions.window` asks for them. */
  window?: WindowMetrics;
}

/** One epoch is done; `report` holds core's epoch metrics (read back once, here). */
export interface EpochEndEvent {
  type: 'epoch-end';
  report: EpochReport;
  /** The epoch count the run trains up to. */
  epochs: number;
  /** Sliding-window metrics at the epoch's last step, when asked for. */
  window?: WindowMetrics;
}

/** A checkpoint file (model, optimizer state, RNG states, counters) was written atomically. */
export interface CheckpointWrittenEvent {
  type: 'checkpoint-written';
  path: string;
  /** The trainer's counters saved in it. */
  epoch: number;
  step: number;
  /** What made it: the epoch or step interval, or the end of the run. */
  trigger: 'epoch' | 'step' | 'final';
}

/** Early stopping ended the run. */
export interface EarlyStopEvent {
  type: 'early-stop';
  /** Why, in words ("validation pseudoLogLikelihood did not improve by 0.01 for 3 epochs"). */
  reason: string;
  /** The monitored metric's name. */
  metric: string;
  /** Its best value and the epoch (counted from 1) where it was reached. */
  bestValue: number;
  bestEpoch: number;
  /** The epoch where training stopped. */
  epoch: number;
  /** Whether the model's parameters were set back to those of `bestEpoch`. */
  restoredBest: boolean;
}

/** Why a run ended without an error. */
export type StopReason = 'completed' | 'early-stop' | 'data-ended';

/** What a finished run did. */
export interface TrainingSummary {
  reason: StopReason;
  /** The trainer's counters at the end. */
  epochs: number;
  steps: number;
  /** Epochs and steps this run did (not counting those before a resume). */
  epochsRun: number;
  stepsRun: number;
  /** Wall-clock seconds of this run. */
  seconds: number;
  /** The last epoch's report, if an epoch ended. */
  lastReport?: EpochReport;
  /** The best value of the early-stopping metric, when early stopping was on. */
  best?: { metric: string; value: number; epoch: number };
}

/** The run ended (completed, stopped early or ran out of data); the stream completes next. */
export interface FinishedEvent {
  type: 'finished';
  summary: TrainingSummary;
}

/**
 * Everything `train()` emits, told apart by `type`. Errors (a DivergenceError from core, a
 * batch of the wrong width, ...) arrive as the stream's error, not as events.
 */
export type TrainingEvent = StartedEvent | BatchEndEvent | EpochEndEvent | CheckpointWrittenEvent | EarlyStopEvent | FinishedEvent;

/** The `type` tags of `TrainingEvent`. */
export type TrainingEventType = TrainingEvent['type'];
