import { CpuBackend } from '@boltzmann/backend-cpu';
import { RBM, Trainer } from '@boltzmann/core';
import { MetricsCollector, ProgressBar, batch, generatorStream, train, type TextSink } from '@boltzmann/pipeline';
import { lastValueFrom, share } from 'rxjs';
import { DriftingPatterns } from './drifting-patterns.js';

/** Options of `onlineLearning` (all have defaults sized for a run of a few seconds). */
export interface OnlineLearningOptions {
  /** Visible units; default 48. */
  visible?: number;
  /** Hidden units; default 16. */
  hidden?: number;
  /** Rows per minibatch; default 10. */
  batchSize?: number;
  /** Steps before the patterns drift (and after, until the end); default 400. */
  stepsPerPhase?: number;
  /** Steps in the sliding window of the metrics; default 25. */
  window?: number;
  /** Steps per (pseudo-)epoch of the unbounded stream; default 50. */
  stepsPerEpoch?: number;
  /** Seed of the data and of the training; default 1. */
  seed?: number;
  /** Where the progress bar goes; default none. */
  progress?: TextSink;
}

/** The sliding-window reconstruction error at the moments that tell the story. */
export interface OnlineLearningResult {
  /** Just before the drift (the model knows the first patterns). */
  beforeDrift: number;
  /** The worst value after the drift (the new patterns are unknown), and its step. */
  peakAfterDrift: number;
  peakStep: number;
  /** At the end (the model has learned the new patterns). */
  atEnd: number;
  /** The window's reconstruction error per step, for a plot. */
  series: { x: number[]; y: number[] };
  /** The window's free energy per step. */
  freeEnergy: { x: number[]; y: number[] };
  steps: number;
}

/**
 * Continual learning from an unbounded stream whose planted patterns change half way: an RBM
 * trains on each batch once, as it arrives (the trainer pulls rows from a seeded generator),
 * and the sliding-window reconstruction error, measured on each batch before training on it,
 * falls, jumps at the drift, and falls again as the model learns the new patterns.
 */
export async function onlineLearning(options: OnlineLearningOptions = {}): Promise<OnlineLearningResult> {
  const visible = options.visible ?? 48;
  const hidden = options.hidden ?? 16;
  const batchSize = options.batchSize ?? 10;
  const stepsPerPhase = options.stepsPerPhase ?? 400;
  const stepsPerEpoch = options.stepsPerEpoch ?? 50;
  const seed = options.seed ?? 1;
  const totalSteps = 2 * stepsPerPhase;

  const stream = new DriftingPatterns({ cols: visible, patterns: 4, rowsPerPhase: stepsPerPhase * batchSize, noise: 0.05, seed });
  const backend = new CpuBackend();
  const model = RBM.create(backend, { visible, hidden, seed });
  // Constant momentum and no weight decay: a continual learner must be free to move.
  const trainer = new Trainer(model, { batchSize, learningRate: 0.1, momentum: 0.5, weightDecay: 0, seed });
  // The data as a function of the position, so a resumed run would see the rows it had not seen.
  const data = ({ step }: { step: number }) => generatorStream((i, rng) => stream.row(i, rng), { seed, start: step * batchSize }).pipe(batch(batchSize));

  const run$ = train(
    { model, trainer, data, epochs: Math.ceil(totalSteps / stepsPerEpoch), stepsPerEpoch },
    { window: { size: options.window ?? 25 }, monitor: { pseudoLikelihood: false } },
  ).pipe(share());
  const collector = new MetricsCollector();
  run$.subscribe(collector);
  if (options.progress) run$.subscribe(new ProgressBar({ stream: options.progress }));
  await lastValueFrom(run$);
  model.dispose();
  trainer.dispose();

  const series = collector.stepSeries('window.reconstructionError');
  const at = (step: number) => series.y[series.x.indexOf(step)]!;
  let peak = stepsPerPhase + 1;
  for (let i = 0; i < series.x.length; i++) if (series.x[i]! > stepsPerPhase && series.y[i]! > at(peak)) peak = series.x[i]!;
  return {
    beforeDrift: at(stepsPerPhase),
    peakAfterDrift: at(peak),
    peakStep: peak,
    atEnd: at(series.x.at(-1)!),
    series,
    freeEnergy: collector.stepSeries('window.freeEnergy'),
    steps: series.x.at(-1)!,
  };
}
