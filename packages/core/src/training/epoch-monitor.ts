import type { Matrix, Tensor } from '@boltzmann/tensor';
import type { StepObserver } from '../estimators/estimator.js';
import { FreeEnergyMetric } from '../metrics/free-energy.js';
import { MeanActivationMetric } from '../metrics/mean-activation.js';
import type { Metric } from '../metrics/metric.js';
import { PseudoLikelihoodMetric } from '../metrics/pseudo-likelihood.js';
import { ReconstructionErrorMetric } from '../metrics/reconstruction-error.js';
import { UpdateNormMetric } from '../metrics/update-norm.js';
import { WeightNormMetric } from '../metrics/weight-norm.js';
import type { EnergyModel } from '../models/energy-model.js';
import { TRAINING_DEFAULTS } from './defaults.js';
import { monitorSupport, resolveMonitor, type MonitorChoice, type MonitorSupport } from './monitoring.js';
import type { EpochReport, SplitValue } from './trainer.js';

/** What to score at each epoch end (see `EpochReport`). */
export interface MonitorOptions extends MonitorChoice {
  /** Rows of the training subset and of the held-out set scored; default 1000, evenly spaced. */
  rows?: number;
}

/** Steps per epoch whose update norm is measured (spread evenly; the others cost nothing extra). */
const UPDATE_NORM_PROBES = 10;

/**
 * The metrics of the epoch reports of one training loop, computed one way for every caller:
 *
 * - reconstruction error and mean hidden activation: averaged over the epoch's batches, from
 *   what each step computed anyway (CD's first reconstruction, the data phase's E[h | v]), else
 *   scored on the batch after its step;
 * - weight norm at the epoch end, update norm over about 10 steps spread over the epoch;
 * - free energy and pseudo-log-likelihood: with resident data on a fixed, evenly spaced subset
 *   of the training rows at the epoch end (and of the held-out rows); with streamed batches
 *   (no fixed training set) averaged over the epoch's batches, each scored before its step
 *   (test-then-train).
 *
 * Everything stays on the backend until `report`, the epoch's one readback.
 */
export class EpochMonitor {
  /** The observer a step reports through (pass it to `Trainer.trainStep`). */
  readonly observer: StepObserver;
  private readonly reconstruction: ReconstructionErrorMetric | undefined;
  private readonly activation: MeanActivationMetric | undefined;
  private readonly weightNorm: WeightNormMetric;
  private readonly updateNorm: UpdateNormMetric;
  private readonly freeEnergy: FreeEnergyMetric | undefined;
  private readonly pll: PseudoLikelihoodMetric | undefined;
  /** Scored on each streamed batch before its step. */
  private readonly running: Metric[] = [];
  private readonly trainSubset: Tensor | undefined;
  private readonly validationSubset: Tensor | undefined;
  /** E[h | v] from the visible units alone, for estimators whose data phase does not report it (wake/dream). */
  private readonly activationFallback: boolean;
  private probeEvery = 1;
  private sawReconstruction = false;
  private sawDataPhase = false;
  private activationSeen = false;
  private probing = false;

  /**
   * `data.train`: the resident training rows (undefined for streamed batches); `data.validation`:
   * held-out rows. Asking (true) for a metric the model does not allow throws here.
   */
  constructor(
    readonly model: EnergyModel,
    seed: number,
    options: MonitorOptions,
    data: { train?: Matrix | undefined; validation?: Matrix | undefined },
    support: MonitorSupport = monitorSupport(model),
  ) {
    const rows = options.rows ?? TRAINING_DEFAULTS.monitorRows;
    const be = model.backend;
    const wanted = resolveMonitor(model, options, support);
    this.reconstruction = support.reconstructionError === undefined ? new ReconstructionErrorMetric(model, { seed }) : undefined;
    this.activation = model.layers.length > 1 ? new MeanActivationMetric(model) : undefined;
    this.activationFallback = support.meanHiddenActivation === undefined;
    this.weightNorm = new WeightNormMetric(model);
    this.updateNorm = new UpdateNormMetric(model);
    this.freeEnergy = wanted.freeEnergy ? new FreeEnergyMetric(model) : undefined;
    this.pll = wanted.pseudoLikelihood ? new PseudoLikelihoodMetric(model, { seed }) : undefined;
    this.trainSubset = data.train ? be.upload(data.train.gatherRows(evenlySpaced(data.train.rows, rows))) : undefined;
    this.validationSubset = data.validation ? be.upload(data.validation.gatherRows(evenlySpaced(data.validation.rows, rows))) : undefined;
    if (!data.train) {
      if (this.freeEnergy) this.running.push(this.freeEnergy);
      if (this.pll) this.running.push(this.pll);
    }
    this.observer = {
      onDataPhase: (means) => {
        if (this.activation) this.activation.addMeans(means[this.activation.layerIndex]!);
        this.sawDataPhase = true;
      },
      onReconstruction: (batch, reconstruction) => {
        this.reconstruction?.addReconstruction(batch, reconstruction);
        this.sawReconstruction = true;
      },
    };
  }

  /** Starts an epoch of `steps` steps (undefined: not known in advance). */
  startEpoch(steps: number | undefined): void {
    this.reconstruction?.reset();
    if (this.reconstruction) this.reconstruction.rng.counter = 0;
    this.activation?.reset();
    this.activationSeen = false;
    this.updateNorm.reset();
    for (const m of this.running) m.reset();
    this.probeEvery = Math.max(1, Math.floor((steps ?? UPDATE_NORM_PROBES * UPDATE_NORM_PROBES) / UPDATE_NORM_PROBES));
  }

  /** Before the step that trains on `batch`, the `index`-th of its epoch (from 1). */
  beforeStep(batch: Tensor, index: number): void {
    for (const m of this.running) m.update(batch);
    this.sawReconstruction = false;
    this.sawDataPhase = false;
    this.probing = index % this.probeEvery === 0;
    if (this.probing) this.updateNorm.beforeStep();
  }

  /** After the step on `batch`: scores what the step did not report. */
  afterStep(batch: Tensor): void {
    if (this.probing) this.updateNorm.update(batch);
    if (!this.sawReconstruction) this.reconstruction?.update(batch);
    if (this.activation && !this.sawDataPhase && this.activationFallback) this.activation.update(batch);
    this.activationSeen ||= this.sawDataPhase || this.activationFallback;
  }

  /** The epoch's report (the one readback of the epoch); `started` is `performance.now()` at its start. */
  async report(base: Pick<EpochReport, 'epoch' | 'step' | 'learningRate' | 'momentum'>, started: number): Promise<EpochReport> {
    const report: EpochReport = {
      ...base,
      reconstructionError: this.reconstruction ? await this.reconstruction.value() : NaN,
      meanHiddenActivation: this.activation && this.activationSeen ? await this.activation.value() : NaN,
      weightNorm: await this.weightNorm.value(),
      updateNorm: await this.updateNorm.value(),
      seconds: 0,
    };
    if (this.freeEnergy) report.freeEnergy = await this.split(this.freeEnergy);
    if (this.pll) report.pseudoLogLikelihood = await this.split(this.pll);
    report.seconds = (performance.now() - started) / 1000;
    return report;
  }

  dispose(): void {
    const be = this.model.backend;
    if (this.trainSubset) be.dispose(this.trainSubset);
    if (this.validationSubset) be.dispose(this.validationSubset);
    this.reconstruction?.dispose();
    this.activation?.dispose();
    this.weightNorm.dispose();
    this.updateNorm.dispose();
    this.freeEnergy?.dispose();
    this.pll?.dispose();
  }

  /** Training value (the subset's, or the running mean of streamed batches) and held-out value. */
  private async split(metric: Metric): Promise<SplitValue> {
    const out: SplitValue = { train: this.trainSubset ? await score(metric, this.trainSubset) : await metric.value() };
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

/** min(n, count) row indices spread evenly over 0..n-1 (the fixed subset an epoch report scores). */
export function evenlySpaced(n: number, count: number): Uint32Array {
  const k = Math.min(n, count);
  const out = new Uint32Array(k);
  for (let i = 0; i < k; i++) out[i] = Math.floor((i * n) / k);
  return out;
}
