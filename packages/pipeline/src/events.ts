import type { EpochReport, LoopBatchEndEvent, LoopEpochEndEvent, LoopStartedEvent } from '@boltzmann/core';

/** Metrics over the last steps of a run (see `TrainOptions.window`); each value is averaged over rows. */
export interface WindowMetrics {
  /** Steps the window holds now (at most its size). */
  steps: number;
  /** Mean squared error of each batch vs its one-step reconstruction, measured before training on it. */
  reconstructionError: number;
  /** Mean free energy of each batch, measured before training on it. */
  freeEnergy: number;
}

/** The run begins (after a resume: where the checkpoint left off); core's loop event. */
export type StartedEvent = LoopStartedEvent;

/** One training step is done (core's loop event, plus the sliding window). */
export interface BatchEndEvent extends Omit<LoopBatchEndEvent, 'lastOfEpoch'> {
  /** Sliding-window metrics, when `TrainOptions.window` asks for them. */
  window?: WindowMetrics;
}

/** One epoch is done; `report` holds core's epoch metrics (read back once, here). */
export interface EpochEndEvent extends LoopEpochEndEvent<EpochReport> {
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
  /** What made it: the epoch or step interval, the end of the run, or its cancellation. */
  trigger: 'epoch' | 'step' | 'final' | 'cancelled';
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

/** Why a run ended without an error ("cancelled": `TrainOptions.signal` was aborted). */
export type StopReason = 'completed' | 'early-stop' | 'data-ended' | 'cancelled';

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
