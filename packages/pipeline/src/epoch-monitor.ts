import {
  FreeEnergyMetric,
  MeanActivationMetric,
  PseudoLikelihoodMetric,
  ReconstructionErrorMetric,
  TRAINING_DEFAULTS,
  monitorSupport,
  resolveMonitor,
  type EnergyModel,
  type EpochReport,
  type Metric,
  type MonitorSupport,
  type SplitValue,
} from '@boltzmann/core';
import type { Matrix, Tensor } from '@boltzmann/tensor';

/**
 * What to score at each epoch end (as `Trainer.fit`'s `monitor`). Each default is "where the
 * model allows it" (core's `monitorSupport`); asking (true) for one it does not allow is an
 * InvalidValueError saying why, when `train()` is called.
 */
export interface MonitorOptions {
  /** Mean free energy of the training subset and the held-out set; default true where F(v) has a closed form (not a DBM). */
  freeEnergy?: boolean;
  /** Pseudo-log-likelihood (scikit-learn's, fixed flips) of both; default true for Bernoulli visible units (with a closed-form F(v)). */
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
 *
 * The reconstruction error and the mean hidden activation are NaN in the reports of a model
 * that cannot give them from visible data alone: no block Gibbs sweep (lateral weights), no
 * hidden layer, or a first hidden layer joined to other hidden layers (a DBM: E[h | v] needs
 * inference; `Trainer.fit` reports it from the estimator's data phase).
 */
export class EpochMonitor {
  private readonly reconstruction: ReconstructionErrorMetric | undefined;
  private readonly activation: MeanActivationMetric | undefined;
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
    support: MonitorSupport = monitorSupport(model),
  ) {
    const rows = options.rows ?? TRAINING_DEFAULTS.monitorRows;
    const be = model.backend;
    const { freeEnergy: wantFreeEnergy, pseudoLikelihood: wantPll } = resolveMonitor(model, options, support);
    this.reconstruction = support.reconstructionError === undefined ? new ReconstructionErrorMetric(model, { seed }) : undefined;
    this.activation = support.meanHiddenActivation === undefined ? new MeanActivationMetric(model) : undefined;
    this.freeEnergy = wantFreeEnergy ? new FreeEnergyMetric(model) : undefined;
    this.pll = wantPll ? new PseudoLikelihoodMetric(model, { seed }) : undefined;
    this.trainSubset = data.train ? be.upload(data.train.gatherRows(evenlySpaced(data.train.rows, rows))) : undefined;
    this.validationSubset = data.validation ? be.upload(data.validation.gatherRows(evenlySpaced(data.validation.rows, rows))) : undefined;
    if (!data.train) {
      if (this.reconstruction) this.running.push(this.reconstruction);
      if (this.activation) this.running.push(this.activation);
      if (this.freeEnergy) this.running.push(this.freeEnergy);
      if (this.pll) this.running.push(this.pll);
    }
  }

  /** Starts an epoch (stream mode clears its accumulators). */
  startEpoch(): void {
    for (const m of this.running) m.reset();
    if (this.reconstruction) this.reconstruction.rng.counter = 0;
  }

  /** Stream mode: scores a batch before the step trains on it (no readback). */
  observeBatch(batch: Tensor): void {
    for (const m of this.running) m.update(batch);
  }

  /** The epoch's report (the one readback of the epoch). */
  async report(base: ReportBase, started: number): Promise<EpochReport> {
    const report: EpochReport = { ...base, reconstructionError: NaN, meanHiddenActivation: NaN, seconds: 0 };
    if (this.trainSubset) {
      if (this.reconstruction) {
        this.reconstruction.reset();
        this.reconstruction.rng.counter = 0;
        report.reconstructionError = await score(this.reconstruction, this.trainSubset);
      }
      if (this.activation) report.meanHiddenActivation = await score(this.activation, this.trainSubset);
      if (this.freeEnergy) report.freeEnergy = await this.split(this.freeEnergy, await score(this.freeEnergy, this.trainSubset));
      if (this.pll) report.pseudoLogLikelihood = await this.split(this.pll, await score(this.pll, this.trainSubset));
    } else {
      if (this.reconstruction) report.reconstructionError = await this.reconstruction.value();
      if (this.activation) report.meanHiddenActivation = await this.activation.value();
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
    this.reconstruction?.dispose();
    this.activation?.dispose();
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
