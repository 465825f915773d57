import { checkMonitorable, monitorSupport, type EnergyModel, type EpochReport, type MonitoredMetric, type MonitorSupport } from '@boltzmann/core';
import { InvalidValueError } from '@boltzmann/tensor';
import type { MonitorOptions } from '@boltzmann/core';

/** Metrics of the epoch report that early stopping can watch by name. */
export type EarlyStoppingMetricName = 'pseudoLogLikelihood' | 'freeEnergyGap' | 'reconstructionError' | 'meanHiddenActivation';

/** A metric of your own: its name, how to read it from a report, and whether lower or higher is better. */
export interface CustomStoppingMetric {
  name: string;
  value: (report: EpochReport) => number | undefined;
  mode: 'min' | 'max';
}

/** Options of early stopping. */
export interface EarlyStoppingOptions {
  /**
   * What to watch; default "pseudoLogLikelihood" (higher is better). "freeEnergyGap" is the mean
   * free energy of the held-out set minus that of the training subset (lower is better; it grows
   * when the model overfits). "reconstructionError" (lower is better) needs no held-out data.
   * In `train()` the default follows the model (see `defaultStoppingMetric`): where it has no
   * pseudo-likelihood (non-Bernoulli visible units, a DBM), or `monitor.pseudoLikelihood` is
   * false, the free-energy gap when there is held-out data, else the reconstruction error. A named metric the model cannot give is an
   * error at the call.
   */
  metric?: EarlyStoppingMetricName | CustomStoppingMetric;
  /** For pseudoLogLikelihood: the held-out ("validation", default) or the training value. */
  split?: 'validation' | 'train';
  /** Epochs without an improvement of more than `minDelta` before stopping; default 5. */
  patience?: number;
  /** Smallest change that counts as an improvement; default 0. */
  minDelta?: number;
  /** Put back the parameters of the best epoch when stopping; default true. */
  restoreBest?: boolean;
}

/** What one epoch's value meant. */
export type StoppingDecision = 'improved' | 'waiting' | 'stop';

/**
 * The early-stopping rule on its own (the training loop feeds it each epoch report): tracks the
 * best value of a metric and says stop after `patience` epochs without an improvement larger
 * than `minDelta`.
 */
export class EarlyStopping {
  readonly metric: string;
  readonly mode: 'min' | 'max';
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBest: boolean;
  /** Whether the metric needs held-out data. */
  readonly needsValidation: boolean;
  /** The best value so far (NaN before the first report). */
  best = NaN;
  /** The epoch (counted from 1) of the best value. */
  bestEpoch = 0;
  /** Epochs since the last improvement. */
  wait = 0;
  private readonly read: (report: EpochReport) => number | undefined;

  constructor(options: EarlyStoppingOptions = {}) {
    const metric = options.metric ?? 'pseudoLogLikelihood';
    const split = options.split ?? 'validation';
    if (split !== 'validation' && split !== 'train') throw new InvalidValueError(`earlyStopping.split must be "validation" or "train", got ${String(split)}`);
    this.patience = options.patience ?? 5;
    this.minDelta = options.minDelta ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 1) throw new InvalidValueError(`earlyStopping.patience must be a positive integer, got ${String(this.patience)}`);
    if (typeof this.minDelta !== 'number' || !Number.isFinite(this.minDelta) || this.minDelta < 0) {
      throw new InvalidValueError(`earlyStopping.minDelta must be a finite number >= 0, got ${String(this.minDelta)}`);
    }
    this.restoreBest = options.restoreBest ?? true;
    if (typeof metric === 'object' && metric !== null) {
      if (typeof metric.value !== 'function' || (metric.mode !== 'min' && metric.mode !== 'max') || typeof metric.name !== 'string') {
        throw new InvalidValueError('a custom earlyStopping.metric needs { name, value(report), mode: "min" | "max" }');
      }
      this.metric = metric.name;
      this.mode = metric.mode;
      this.read = metric.value;
      this.needsValidation = false;
      return;
    }
    switch (metric) {
      case 'pseudoLogLikelihood':
        this.metric = `${split} pseudoLogLikelihood`;
        this.mode = 'max';
        this.read = (r) => (split === 'validation' ? r.pseudoLogLikelihood?.validation : r.pseudoLogLikelihood?.train);
        this.needsValidation = split === 'validation';
        break;
      case 'freeEnergyGap':
        this.metric = 'freeEnergyGap';
        this.mode = 'min';
        this.read = (r) => (r.freeEnergy?.validation === undefined ? undefined : r.freeEnergy.validation - r.freeEnergy.train);
        this.needsValidation = true;
        break;
      case 'reconstructionError':
        this.metric = 'reconstructionError';
        this.mode = 'min';
        this.read = (r) => r.reconstructionError;
        this.needsValidation = false;
        break;
      case 'meanHiddenActivation':
        this.metric = 'meanHiddenActivation';
        this.mode = 'max';
        this.read = (r) => r.meanHiddenActivation;
        this.needsValidation = false;
        break;
      default:
        throw new InvalidValueError(
          `unknown earlyStopping.metric "${String(metric)}"; known: pseudoLogLikelihood, freeEnergyGap, reconstructionError, meanHiddenActivation, or { name, value, mode }`,
        );
    }
  }

  /** The watched value in a report; a clear error when the report lacks it. */
  valueOf(report: EpochReport): number {
    const v = this.read(report);
    if (typeof v !== 'number' || Number.isNaN(v)) {
      throw new InvalidValueError(
        `early stopping watches "${this.metric}", which the report of epoch ${report.epoch} does not hold` +
          (this.needsValidation ? ' (give session.validation and keep the metric monitored)' : ''),
      );
    }
    return v;
  }

  /** Feeds one epoch's report. */
  update(report: EpochReport): StoppingDecision {
    const v = this.valueOf(report);
    const improved = Number.isNaN(this.best) || (this.mode === 'min' ? v < this.best - this.minDelta : v > this.best + this.minDelta);
    if (improved) {
      this.best = v;
      this.bestEpoch = report.epoch;
      this.wait = 0;
      return 'improved';
    }
    this.wait += 1;
    return this.wait >= this.patience ? 'stop' : 'waiting';
  }

  /** Why it stopped, in words. */
  reason(): string {
    return `${this.metric} did not ${this.mode === 'min' ? 'fall' : 'rise'} by more than ${this.minDelta} for ${this.wait} epochs (best ${this.best} at epoch ${this.bestEpoch})`;
  }
}

/** The report field behind each named stopping metric, as `monitorSupport` names it. */
const MONITORED: Readonly<Record<EarlyStoppingMetricName, MonitoredMetric>> = {
  pseudoLogLikelihood: 'pseudoLogLikelihood',
  freeEnergyGap: 'freeEnergy',
  reconstructionError: 'reconstructionError',
  meanHiddenActivation: 'meanHiddenActivation',
};

/** What a run offers early stopping besides the model: held-out data, the split asked for, the monitor options. */
export interface StoppingContext {
  validation: boolean;
  split?: 'validation' | 'train';
  monitor?: MonitorOptions;
}

/**
 * The metric early stopping watches in a run of `model` when the options name none: the
 * pseudo-log-likelihood where the model gives it (Bernoulli visible units and a closed-form
 * free energy) and it is not turned off (`monitor.pseudoLikelihood` false). Otherwise the
 * free-energy gap, when there is held-out data (and the split is not "train") and the free
 * energy is computable and not turned off, else the reconstruction error. Throws an
 * InvalidValueError saying why each is out when none is available. Pass `support` (core's
 * `monitorSupport` of the model) when you have it.
 */
export function defaultStoppingMetric(model: EnergyModel, context: StoppingContext, support: MonitorSupport = monitorSupport(model)): EarlyStoppingMetricName {
  const pll = support.pseudoLogLikelihood ?? (context.monitor?.pseudoLikelihood === false ? 'monitor.pseudoLikelihood is false' : undefined);
  if (pll === undefined) return 'pseudoLogLikelihood';
  const gap =
    support.freeEnergy ??
    (!context.validation ? 'it needs held-out data (session.validation)' : context.split === 'train' ? 'the split is "train"' : context.monitor?.freeEnergy === false ? 'monitor.freeEnergy is false' : undefined);
  if (gap === undefined) return 'freeEnergyGap';
  if (support.reconstructionError === undefined) return 'reconstructionError';
  throw new InvalidValueError(
    `early stopping has no default metric for this ${model.kind} model: pseudoLogLikelihood: ${pll}; freeEnergyGap: ${gap}; ` +
      `reconstructionError: ${support.reconstructionError}; give earlyStopping.metric (meanHiddenActivation or { name, value, mode })`,
  );
}

/**
 * Throws an InvalidValueError, naming the metric and why, when `model` cannot give the named
 * stopping metric (custom metrics pass). Pass `support` (core's `monitorSupport` of the model)
 * when you have it.
 */
export function checkStoppingMetric(model: EnergyModel, metric: EarlyStoppingOptions['metric'], support?: MonitorSupport): void {
  if (typeof metric !== 'string' || !(metric in MONITORED)) return;
  checkMonitorable(model, MONITORED[metric], `earlyStopping.metric "${metric}"`, support);
}
