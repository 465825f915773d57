import type { EpochReport } from '@boltzmann/core';
import { InvalidValueError } from '@boltzmann/tensor';
import type { Observer } from 'rxjs';
import type { CheckpointWrittenEvent, EarlyStopEvent, TrainingEvent, TrainingSummary, WindowMetrics } from '../events.js';

/** A series for a plot: x (epoch or step) and y, of the same length. */
export interface Series {
  x: number[];
  y: number[];
}

/** Epoch-level quantities `MetricsCollector.series` knows (the fields of EpochReport, split values by ".train"/".validation"). */
export type EpochSeriesName =
  | 'reconstructionError'
  | 'meanHiddenActivation'
  | 'learningRate'
  | 'momentum'
  | 'seconds'
  | 'freeEnergy.train'
  | 'freeEnergy.validation'
  | 'pseudoLogLikelihood.train'
  | 'pseudoLogLikelihood.validation';

/** Step-level quantities `MetricsCollector.stepSeries` knows. */
export type StepSeriesName = 'learningRate' | 'momentum' | 'window.reconstructionError' | 'window.freeEnergy';

/**
 * Collects a run's events into plot-ready series: every epoch report, and per step the
 * hyperparameters and sliding-window metrics (every `stepEvery`-th step). Subscribe it to a run
 * and read it after `done` resolves (or at any time while it runs).
 */
export class MetricsCollector implements Observer<TrainingEvent> {
  readonly reports: EpochReport[] = [];
  readonly steps: { step: number; epoch: number; learningRate: number; momentum: number; window?: WindowMetrics }[] = [];
  readonly checkpoints: CheckpointWrittenEvent[] = [];
  earlyStop: EarlyStopEvent | undefined;
  summary: TrainingSummary | undefined;
  /** The run's error, if it failed. */
  failure: unknown;
  /** Resolves when the run completes or fails. */
  readonly done: Promise<void>;
  private resolve!: () => void;
  private readonly stepEvery: number;

  constructor(options: { stepEvery?: number } = {}) {
    this.stepEvery = options.stepEvery ?? 1;
    if (!Number.isInteger(this.stepEvery) || this.stepEvery < 1) throw new InvalidValueError(`stepEvery must be a positive integer, got ${String(options.stepEvery)}`);
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  next(event: TrainingEvent): void {
    switch (event.type) {
      case 'batch-end':
        if (event.step % this.stepEvery === 0) {
          const { step, epoch, learningRate, momentum, window } = event;
          this.steps.push(window ? { step, epoch, learningRate, momentum, window } : { step, epoch, learningRate, momentum });
        }
        break;
      case 'epoch-end':
        this.reports.push(event.report);
        break;
      case 'checkpoint-written':
        this.checkpoints.push(event);
        break;
      case 'early-stop':
        this.earlyStop = event;
        break;
      case 'finished':
        this.summary = event.summary;
        break;
      default:
        break;
    }
  }

  error(error: unknown): void {
    this.failure = error;
    this.resolve();
  }

  complete(): void {
    this.resolve();
  }

  /** An epoch-level quantity against the epoch number (epochs whose report lacks it are left out). */
  series(name: EpochSeriesName): Series {
    const [field, split] = name.split('.') as [keyof EpochReport, 'train' | 'validation' | undefined];
    const out: Series = { x: [], y: [] };
    for (const r of this.reports) {
      const v = r[field];
      const y = split === undefined ? v : (v as { train: number; validation?: number } | undefined)?.[split];
      if (typeof y === 'number') {
        out.x.push(r.epoch);
        out.y.push(y);
      }
    }
    return out;
  }

  /** A step-level quantity against the step number. */
  stepSeries(name: StepSeriesName): Series {
    const out: Series = { x: [], y: [] };
    for (const s of this.steps) {
      const y = name === 'window.reconstructionError' ? s.window?.reconstructionError : name === 'window.freeEnergy' ? s.window?.freeEnergy : s[name];
      if (typeof y === 'number') {
        out.x.push(s.step);
        out.y.push(y);
      }
    }
    return out;
  }
}
