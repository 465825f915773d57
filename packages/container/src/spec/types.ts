import type { ConnectionSpec, EstimatorSpec, OptimizerSpec, RegularizerSpec, SamplerSpec, ScheduleSpec, UnitSpec } from '@boltzmann/core';
import type { PrecisionChoice } from '@boltzmann/tensor';
import type { EventSinkSpec } from '@boltzmann/pipeline';
import type { DataSourceSpec } from '../tokens.js';

/**
 * A whole training run as JSON: the model's graph, how to train it, on what data, on which
 * backend, with which seed, and where to write the results. Every field has a default
 * (`defaultSpec()`); a spec file gives only what it changes. SPEC.md documents each field.
 */
export interface RunSpec {
  /** Plugins to load before the rest is checked: package names, or paths relative to the spec file. */
  plugins: string[];
  model: ModelSection;
  training: TrainingSection;
  data: DataSection;
  backend: BackendSection;
  /** Seed of the weight initialisation, the Gibbs chains, the minibatch order and the validation split. */
  seed: number;
  output: OutputSection;
}

/** The model's graph: layers (nodes) and connections (edges), as core's `ModelSpec`. */
export interface ModelSection {
  /** A registered model kind: "rbm" (2 layers, 1 connection) or "graph". */
  kind: string;
  /** Layer 0 is the data (visible) layer; each has a registered `type`, a unique `name` and a `size`. */
  layers: UnitSpec[];
  /** Each joins two layers by name (`from`, `to`) with a registered `type`. */
  connections: ConnectionSpec[];
  /** Standard deviation of the N(0, std) initial weights. */
  weightStd: number;
}

/** A metric scored at each epoch end: its registered name, or the name with options. */
export type MetricSpec = string | { name: string; [option: string]: unknown };

/**
 * Stop when a monitored value has not improved for `patience` epochs (the pipeline's early
 * stopping; its defaults fill what is left out).
 */
export interface EarlyStoppingSpec {
  /**
   * "pseudoLogLikelihood" (default; higher is better), "freeEnergyGap" (held-out minus training
   * mean free energy; lower is better), "reconstructionError" or "meanHiddenActivation".
   */
  metric?: 'pseudoLogLikelihood' | 'freeEnergyGap' | 'reconstructionError' | 'meanHiddenActivation';
  /** For pseudoLogLikelihood: the held-out ("validation", default) or the training value. */
  split?: 'train' | 'validation';
  /** Epochs without an improvement larger than `minDelta` before stopping; default 5. */
  patience?: number;
  /** Default 0. */
  minDelta?: number;
  /** Put back the parameters of the best epoch when stopping; default true. */
  restoreBest?: boolean;
}

/** How to train. */
export interface TrainingSection {
  /** Total epochs of the run (a resumed run trains the epochs still missing). */
  epochs: number;
  batchSize: number;
  /** A number or a schedule spec ({ "type": "linear", "from": 0.1, "to": 0.01, "end": 10 }). */
  learningRate: number | ScheduleSpec;
  /** A number or a schedule spec. */
  momentum: number | ScheduleSpec;
  /** { "type": "cd" | "pcd" | a plugin's, ...options } */
  estimator: EstimatorSpec;
  /** { "type": "sgd", "nesterov": false } or a plugin's. */
  optimizer: OptimizerSpec;
  /** L2 weight decay on the weights; 0 for none. */
  weightDecay: number;
  /** Further regularizers ({ "type": ..., ...options }), applied after the weight decay. */
  regularizers: RegularizerSpec[];
  /** Metrics scored at each epoch end on a training subset and the held-out set. */
  metrics: MetricSpec[];
  /** Rows of each set scored at each epoch end. */
  monitorRows: number;
  shuffle: boolean;
  initVisibleBiasFromData: boolean;
  /** The slow blow-up rule: an epoch whose reconstruction error is more than this many times its value in the run's first epoch is a divergence; null: off. */
  divergenceFactor: number | null;
  earlyStopping: EarlyStoppingSpec | null;
  /** Save a resumable checkpoint every this many epochs (0: only at the end). */
  checkpointEvery: number;
  /**
   * Steps in one epoch, for a stream source (a message broker: no end, so epochs are counted in
   * steps of `batchSize` rows); required there, null for resident data (whose epochs are
   * ceil(rows / batchSize) steps).
   */
  stepsPerEpoch: number | null;
}

/** Where the examples come from and how many are held out. */
export interface DataSection {
  /** { "type": "mnist" | "idx" | "csv" | "synthetic" | a plugin's, ...options } */
  source: DataSourceSpec;
  /** Fraction of the rows held out for validation (chosen by a seeded shuffle), in [0, 1). */
  validationSplit: number;
  /** Use only this many rows (after the seeded shuffle); null for all. */
  limit: number | null;
}

/** Which compute backend runs the run. */
export interface BackendSection {
  /** A registered backend ("cpu", "gpu.js:webasm"...) or "auto" (the best available). */
  name: string;
  /** float32, float64, bfloat16-mixed (bfloat16 products, float32 everything else) or best-available. */
  precision: PrecisionChoice;
}

/** What the `train` command writes, and where. */
export interface OutputSection {
  /** Output directory (relative to the working directory). */
  dir: string;
  /**
   * samples.png: `count` chains of `sampler` (default block Gibbs) after `steps` sweeps,
   * started at held-out examples ("data", the training rows when nothing is held out) or at
   * random units ("random"). `boltzmann sample` uses the same sampler unless told otherwise.
   */
  samples: {
    count: number;
    steps: number;
    init: 'data' | 'random';
    /** { "type": "gibbs" | "glauber" | "parallel-dynamics" | a plugin's, ...options } */
    sampler: SamplerSpec;
  };
  /** filters.png: the weights of the first `filters` hidden units. */
  filters: number;
  /** reconstructions.png: this many held-out examples beside their reconstructions. */
  reconstructions: number;
  /**
   * Publish the run's training events to a broker as they happen (null: don't), so
   * `boltzmann watch` or a dashboard follows the run: `{ "type": "redis-stream", "url",
   * "stream" }` or `{ "type": "nats-jetstream", "url", "subject" }`, with `maxLen`, `include`,
   * `buffer` and `run` (the pipeline's `EventSinkSpec`).
   */
  events: EventSinkSpec | null;
}
