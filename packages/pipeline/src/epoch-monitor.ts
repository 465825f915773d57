import {
  FreeEnergyMetric,
  MeanActivationMetric,
  PseudoLikelihoodMetric,
  ReconstructionErrorMetric,
  TRAINING_DEFAULTS,
  type EnergyModel,
  type EpochReport,
  type Metric,
  type SplitValue,
} from '@boltzmann/core';
import type { Matrix, Tensor } from '@boltzmann/tensor';

/** What to score at each epoch end (as `Trainer.fit`'s `monitor`). */
export interface MonitorOptions {
  /** Mean free energy of the training subset and the held-out set; default true. */
  freeEnergy?: boolean;
  /** Pseudo-log-likelihood (scikit-learn's, fixed flips) of both; default true. */
  pseudoLikelihood?: boolean;
  /** Rows of the training subset and of the held-out set scored; default 1000, evenly spaced. */
  rows?: number;
}

/** The counters and hyperparameters of an epoch report, which the loop knows. */
export type ReportBase = Pick<EpochReport, 'epoch' | 'step' | 'learningRate' | 'momentum'>;

/**
 * Computes the epoch reports of a run. With matrix data every metric is scored at the epoch end
 * on a fixed, evenly spaced subset of the training rows (and of the held-out rows), with the
 * same random draws each time, so reports are comparable across epochs and a resumed run reports
 * what the uninterrupted one would have. With stream data there is no fixed training set: the
 * training values are averaged over the epoch's batches, each scored just before the step that
 * trains on it (test-then-train).
 */
export class EpochMonitor {
  private readonly reconstruction: ReconstructionErrorMetric;
  private readonly activation: MeanActivationMetric;
  private readonly freeEnergy: FreeEnergyMetric | undefined;
  private readonly pll: PseudoLikelihoodMetric | undefined;
  /** Per-batch accumulators of stream mode. */
  private readonly running: Metric[] = [];
  private readonly trainSubset: Tensor | undefined;
  private readonly validationSubset: Tensor | undefined;

  constructor(
    readonly model: EnergyModel,
    seed: number,
    options: MonitorOptions,
    data: { train?: Matrix; validation?: Matrix },
  ) {
    const rows = options.rows ?? TRAINING_DEFAULTS.monitorRows;
    const be = model.backend;
    this.reconstruction = new ReconstructionErrorMetric(model, { seed });
    this.activation = new MeanActivationMetric(model);
    this.freeEnergy = options.freeEnergy === false ? undefined : new FreeEnergyMetric(model);
    this.pll = options.pseudoLikelihood === false ? undefined : new PseudoLikelihoodMetric(model, { seed });
    this.trainSubset = data.train ? be.upload(data.train.gatherRows(evenlySpaced(data.train.rows, rows))) : undefined;
    this.validationSubset = data.validation ? be.upload(data.validation.gatherRows(evenlySpaced(data.validation.rows, rows))) : undefined;
    if (!data.train) {
      this.running.push(this.reconstruction, this.activation);
      if (this.freeEnergy) this.running.push(this.freeEnergy);
      if (this.pll) this.running.push(this.pll);
    }
  }

  /** Starts an epoch (stream mode clears its accumulators). */
  startEpoch(): void {
    for (const m of this.running) m.reset();
    this.reconstruction.rng.counter = 0;
  }

  /** Stream mode: scores a batch before the step trains on it (no readback). */
  observeBatch(batch: Tensor): void {
    for (const m of this.running) m.update(batch);
  }

  /** The epoch's report (the one readback of the epoch). */
  async report(base: ReportBase, started: number): Promise<EpochReport> {
    const report: EpochReport = { ...base, reconstructionError: NaN, meanHiddenActivation: NaN, seconds: 0 };
    if (this.trainSubset) {
      this.reconstruction.reset();
      this.reconstruction.rng.counter = 0;
      report.reconstructionError = await score(this.reconstruction, this.trainSubset);
      report.meanHiddenActivation = await score(this.activation, this.trainSubset);
      if (this.freeEnergy) report.freeEnergy = await this.split(this.freeEnergy, await score(this.freeEnergy, this.trainSubset));
      if (this.pll) report.pseudoLogLikelihood = await this.split(this.pll, await score(this.pll, this.trainSubset));
    } else {
      report.reconstructionError = await this.reconstruction.value();
      report.meanHiddenActivation = await this.activation.value();
      if (this.freeEnergy) report.freeEnergy = await this.split(this.freeEnergy, await this.freeEnergy.value());
      if (this.pll) report.pseudoLogLikelihood = await this.split(this.pll, await this.pll.value());
    }
    report.seconds = (performance.now() - started) / 1000;
    return report;
  }

  dispose(): void {
    const be = this.model.backend;
    if (this.trainSubset) be.dispose(this.trainSubset);
    if (this.validationSubset) be.dispose(this.validationSubset);
    this.reconstruction.dispose();
    this.activation.dispose();
    this.freeEnergy?.dispose();
    this.pll?.dispose();
  }

  private async split(metric: Metric, train: number): Promise<SplitValue> {
    const out: SplitValue = { train };
    if (this.validationSubset) out.validation = await score(metric, this.validationSubset);
    return out;
  }
}

/** The metric over one resident set, from a reset. */
async function score(metric: Metric, data: Tensor): Promise<number> {
  metric.reset();
  metric.update(data);
  return metric.value();
}

/** min(n, count) row indices spread evenly over 0..n-1 (the subset `Trainer.fit` monitors too). */
export function evenlySpaced(n: number, count: number): Uint32Array {
  const k = Math.min(n, count);
  const out = new Uint32Array(k);
  for (let i = 0; i < k; i++) out[i] = Math.floor((i * n) / k);
  return out;
}
