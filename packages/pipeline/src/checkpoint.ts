import { saveModel, type EnergyModel, type Trainer } from '@boltzmann/core';
import { InvalidValueError } from '@boltzmann/tensor';
import type { CheckpointWrittenEvent } from './events.js';

/** When and where `train` writes checkpoints. */
export interface CheckpointOptions {
  /**
   * The file. "{epoch}" and "{step}" in it are replaced by the trainer's counters (one file per
   * checkpoint); without them one file is rewritten, atomically, each time.
   */
  path: string;
  /** Write after every this many completed epochs (counted by the trainer); default 1 unless `everySteps` is given. */
  everyEpochs?: number;
  /**
   * Write after every this many completed steps (mid-epoch too: a resume continues inside the
   * epoch; one due at an epoch's last step is written after the epoch's end). Resuming inside an
   * epoch needs matrix data or `stepsPerEpoch`: a stream whose epochs end when it completes
   * restarts the epoch in progress, so resume such runs from epoch checkpoints.
   */
  everySteps?: number;
  /**
   * Also write when the run ends without error (completed, stopped early, data ended); default
   * true. A cancelled run (unsubscribed, or `TrainOptions.signal` aborted) always writes one,
   * unless the last checkpoint already holds its counters.
   */
  final?: boolean;
}

/**
 * Writes checkpoints through core's `saveModel`: one JSON file holding the parameters, the
 * optimizer state, persistent chains, the RNG states and the epoch/step counters, written
 * atomically (temp file + fsync + rename), so an interrupted run always leaves the previous
 * complete checkpoint or the new one. `loadModel` (or `resumeSession`) continues the run.
 */
export class Checkpointer {
  readonly path: string;
  readonly everyEpochs: number | undefined;
  readonly everySteps: number | undefined;
  readonly final: boolean;
  private lastStep = -1;
  private lastEpoch = -1;

  constructor(options: CheckpointOptions) {
    if (typeof options?.path !== 'string' || options.path === '') throw new InvalidValueError('checkpoint.path must be a non-empty string');
    for (const key of ['everyEpochs', 'everySteps'] as const) {
      const v = options[key];
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new InvalidValueError(`checkpoint.${key} must be a positive integer, got ${String(v)}`);
    }
    this.path = options.path;
    this.everySteps = options.everySteps;
    this.everyEpochs = options.everyEpochs ?? (options.everySteps === undefined ? 1 : undefined);
    this.final = options.final ?? true;
  }

  /** The file for the trainer's current counters. */
  pathFor(trainer: Trainer): string {
    return this.path.replaceAll('{epoch}', String(trainer.epoch)).replaceAll('{step}', String(trainer.step));
  }

  /** Whether a checkpoint is due after the step just completed. */
  dueAfterStep(trainer: Trainer): boolean {
    return this.everySteps !== undefined && trainer.step % this.everySteps === 0 && !this.isCurrent(trainer);
  }

  /** Whether a checkpoint is due after the epoch just completed. */
  dueAfterEpoch(trainer: Trainer): boolean {
    return this.everyEpochs !== undefined && trainer.epoch % this.everyEpochs === 0 && !this.isCurrent(trainer);
  }

  /** Whether a final checkpoint is wanted (one at the very same counters is not written twice). */
  dueAtEnd(trainer: Trainer): boolean {
    return this.final && !this.isCurrent(trainer);
  }

  /** Writes the checkpoint (atomically) and says what was written. */
  async write(model: EnergyModel, trainer: Trainer, trigger: CheckpointWrittenEvent['trigger']): Promise<CheckpointWrittenEvent> {
    const path = this.pathFor(trainer);
    await saveModel(path, model, trainer);
    this.lastStep = trainer.step;
    this.lastEpoch = trainer.epoch;
    return { type: 'checkpoint-written', path, epoch: trainer.epoch, step: trainer.step, trigger };
  }

  /** Whether the last checkpoint written holds the trainer's current counters. */
  isCurrent(trainer: Trainer): boolean {
    return this.lastStep === trainer.step && this.lastEpoch === trainer.epoch;
  }
}
