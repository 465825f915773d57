/**
 * @boltzmann/container: the framework's front door for configuration. inversify tokens for
 * each pluggable kind, ContainerModules binding the built-ins, plugin loading by package name
 * or path, and a JSON run spec (validated against what is registered) resolved into a
 * backend, a model, a trainer and data. See SPEC.md.
 */
import 'reflect-metadata';

export {
  Tokens,
  COMPONENT_KINDS,
  KIND_LABELS,
  type ComponentKind,
  type BindingOf,
  type FactoryOf,
  type Named,
  type UnitTypeBinding,
  type ConnectionBinding,
  type ModelKindBinding,
  type EstimatorBinding,
  type SamplerBinding,
  type OptimizerBinding,
  type RegularizerBinding,
  type ScheduleBinding,
  type ScheduleFactory,
  type MetricBinding,
  type MetricFactory,
  type MetricOptions,
  type BackendBinding,
  type DataSourceBinding,
  type DataSourceFactory,
  type DataSourceSpec,
  type DataSourceContext,
  type Dataset,
  type StreamDataset,
} from './tokens.js';
export { ComponentCatalog } from './catalog.js';
export { builtinModule } from './builtins/module.js';
export { builtinDataSources } from './builtins/data-sources.js';
export { redisStreamSource } from './builtins/redis-stream.js';
export { natsJetStreamSource } from './builtins/nats-jetstream.js';
export { loadPlugin, isPathSpecifier, PluginError, PLUGIN_EXPORT, type LoadedPlugin } from './plugin-loader.js';
export { BoltzmannContainer, createContainer, type CreateContainerOptions } from './boltzmann-container.js';

export type { RunSpec, ModelSection, TrainingSection, DataSection, BackendSection, OutputSection, MetricSpec, EarlyStoppingSpec } from './spec/types.js';
export { defaultSpec, fillOptimizerDefaults } from './spec/defaults.js';
export { mergeSpec } from './spec/merge.js';
export { validateSpec, metricName } from './spec/validate.js';
export { SpecError, type SpecIssue } from './spec/spec-error.js';
export { readSpecFile } from './spec/read.js';
export { resolveRun, loadRunData, createRunBackend, buildSampler, scoreExtraMetrics, type ResolveOptions, type ResolvedRun, type RunData, type StreamRunData, type ExtraMetric } from './resolve.js';
