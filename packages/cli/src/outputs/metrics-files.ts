import { existsSync } from 'node:fs';
import type { EpochReport, SplitValue } from '@boltzmann/core';
import { readJsonl, type TrainingSummary } from '@boltzmann/pipeline';
import type { PlotPanel } from './svg-plot.js';

/** The `format` field of metrics.json. */
export const METRICS_FORMAT = 'boltzmann.ts/metrics';

/** One epoch in metrics.json: core's EpochReport fields, plus the extra (plugin) metrics by name. */
export interface EpochRecord {
  epoch: number;
  step: number;
  seconds: number;
  learningRate: number;
  momentum: number;
  reconstructionError: number;
  meanHiddenActivation: number;
  freeEnergy?: SplitValue;
  pseudoLogLikelihood?: SplitValue;
  /** Metrics from `training.metrics` that core's trainer does not score (a plugin's), train and held-out. */
  extra?: Record<string, SplitValue>;
}

/** metrics.json: what the run was, one record per epoch (resumed runs included), and how it ended. */
export interface MetricsDocument {
  format: typeof METRICS_FORMAT;
  version: 1;
  model: string;
  data: string;
  trainRows: number;
  validationRows: number;
  backend: string;
  seed: number;
  epochs: EpochRecord[];
  /** The last epoch's record (null when no epoch ran). */
  final: EpochRecord | null;
  summary: TrainingSummary | null;
}

/** An EpochReport (and extras) as a metrics.json record. */
export function epochRecord(r: EpochReport, extra?: Record<string, SplitValue>): EpochRecord {
  const record: EpochRecord = {
    epoch: r.epoch,
    step: r.step,
    seconds: r.seconds,
    learningRate: r.learningRate,
    momentum: r.momentum,
    reconstructionError: r.reconstructionError,
    meanHiddenActivation: r.meanHiddenActivation,
  };
  if (r.freeEnergy) record.freeEnergy = { ...r.freeEnergy };
  if (r.pseudoLogLikelihood) record.pseudoLogLikelihood = { ...r.pseudoLogLikelihood };
  if (extra && Object.keys(extra).length > 0) record.extra = extra;
  return record;
}

/**
 * The epoch reports a metrics.jsonl file holds ("epoch-end" lines), the last one of each epoch
 * up to `throughEpoch`: a resumed run appends to the log of the run it continues, so earlier
 * epochs come from there (and epochs past the checkpoint it resumed from are dropped).
 */
export function previousReports(jsonl: string, throughEpoch: number): EpochReport[] {
  if (!existsSync(jsonl) || throughEpoch === 0) return [];
  const byEpoch = new Map<number, EpochReport>();
  for (const line of readJsonl(jsonl)) {
    if (line['type'] !== 'epoch-end') continue;
    const report = line['report'] as EpochReport | undefined;
    if (report && typeof report.epoch === 'number' && report.epoch <= throughEpoch) byEpoch.set(report.epoch, report);
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** The panels of metrics.svg: reconstruction error, free energy and PLL (train vs held-out), hidden activity, extras. */
export function metricsPanels(records: readonly EpochRecord[]): PlotPanel[] {
  const pts = (f: (r: EpochRecord) => number | undefined) =>
    records.flatMap((r): [number, number][] => {
      const y = f(r);
      return y === undefined ? [] : [[r.epoch, y]];
    });
  const split = (title: string, f: (r: EpochRecord) => SplitValue | undefined): PlotPanel => ({
    title,
    series: [
      { name: 'training subset', points: pts((r) => f(r)?.train) },
      { name: 'held-out', points: pts((r) => f(r)?.validation) },
    ].filter((s) => s.points.length > 0),
  });
  const panels: PlotPanel[] = [{ title: 'Reconstruction error (mean squared, training batches)', series: [{ name: 'training', points: pts((r) => r.reconstructionError) }] }];
  if (records.some((r) => r.freeEnergy)) panels.push(split('Mean free energy', (r) => r.freeEnergy));
  if (records.some((r) => r.pseudoLogLikelihood)) panels.push(split('Pseudo-log-likelihood', (r) => r.pseudoLogLikelihood));
  panels.push({ title: 'Mean hidden activation', series: [{ name: 'training', points: pts((r) => r.meanHiddenActivation) }] });
  const extras = [...new Set(records.flatMap((r) => Object.keys(r.extra ?? {})))];
  for (const name of extras) panels.push(split(name, (r) => r.extra?.[name]));
  return panels;
}
