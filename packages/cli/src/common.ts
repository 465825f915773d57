import { existsSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import {
  createContainer,
  defaultSpec,
  fillOptimizerDefaults,
  isPathSpecifier,
  loadRunData,
  mergeSpec,
  readSpecFile,
  validateSpec,
  type BoltzmannContainer,
  type DataSourceSpec,
  type RunSpec,
} from '@boltzmann/container';
import { CpuBackend, nativeGemmUnavailableReason } from '@boltzmann/backend-cpu';
import { BernoulliLayer, RBM, isRawRBMDescription, loadModel, loadRawRBM, type EnergyModel, type SamplerSpec } from '@boltzmann/core';
import { InvalidValueError, Matrix, PRECISION_CHOICES, type Backend, type PrecisionChoice } from '@boltzmann/tensor';
import { parseEventAddress, type EventChannel, type EventSinkSpec } from '@boltzmann/pipeline';
import type { OptionDef, ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import type { CliIO } from './io.js';

/** Options shared by several commands. */
export const Options = {
  backend: { name: 'backend', kind: 'string', value: 'NAME', help: 'compute backend: "cpu", "auto" or a registered gpu.js backend (default: the spec\'s, else "cpu")' },
  precision: { name: 'precision', kind: 'string', value: 'P', help: 'float32, float64, bfloat16-mixed (CPU: bfloat16 matrix products, float32 everything else; an error where the processor lacks bfloat16 instructions) or best-available (bfloat16-mixed where it runs, else float32)' },
  seed: { name: 'seed', kind: 'integer', value: 'N', help: 'seed of every random choice (0 .. 2^32-1)' },
  plugin: { name: 'plugin', kind: 'list', value: 'NAME|PATH', help: 'load a plugin: a package name, or a path to a file or package directory exporting "containerModule"' },
  trustPlugins: { name: 'trust-plugins', kind: 'boolean', help: 'load the plugins listed in the spec.json beside a model (plugins run code: without this flag, or naming each with --plugin, such a model is refused)' },
  data: {
    name: 'data',
    kind: 'string',
    value: 'SOURCE',
    help: 'data source: mnist, bars-and-stripes, csv:FILE, idx:FILE, fashion-mnist[:DIR] or a JSON object {"type": ...}',
  },
  split: { name: 'split', kind: 'string', value: 'WHICH', help: 'rows of the spec\'s data: validation (default when held out), train or all' },
  limit: { name: 'limit', kind: 'integer', value: 'N', help: 'use only the first N rows' },
  json: { name: 'json', kind: 'boolean', help: 'print the result as JSON' },
  sampler: {
    name: 'sampler',
    kind: 'string',
    value: 'NAME|JSON',
    help: 'how the sample chains run (output.samples.sampler): gibbs (block Gibbs; the default), glauber (one unit at a time; any graph of binary units, lateral weights too), parallel-dynamics (every unit at once; not guaranteed to reach the model\'s distribution), a plugin\'s, or a JSON object with options, e.g. \'{"type":"glauber","temperature":0.5}\'',
  },
} as const satisfies Record<string, OptionDef>;

/** A string option's value, if given. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options[name];
  return typeof v === 'string' ? v : undefined;
}

/** A numeric option's value, if given. */
export function numberOption(args: ParsedArgs, name: string): number | undefined {
  const v = args.options[name];
  return typeof v === 'number' ? v : undefined;
}

/** The --precision value, checked. */
export function precisionOption(args: ParsedArgs): PrecisionChoice | undefined {
  const p = stringOption(args, 'precision');
  if (p !== undefined && !(PRECISION_CHOICES as readonly string[]).includes(p)) throw new UsageError(`--precision must be ${PRECISION_CHOICES.join(', ')}; got "${p}"`);
  return p as PrecisionChoice | undefined;
}

/** Plugin specifiers with paths made absolute (relative to `baseDir`); package names unchanged. */
export function absolutePlugins(list: readonly string[], baseDir: string): string[] {
  return list.map((p) => (isPathSpecifier(p) ? resolve(baseDir, p) : p));
}

/** The container with the --plugin plugins (paths relative to the working directory) and `extra` ones (already absolute). */
export async function openContainer(args: ParsedArgs, io: CliIO, extra: readonly string[] = [], backendName?: string): Promise<BoltzmannContainer> {
  const cli = Array.isArray(args.options['plugin']) ? (args.options['plugin'] as string[]) : [];
  return createContainer({
    plugins: [...extra, ...absolutePlugins(cli, io.cwd)],
    baseDir: io.cwd,
    optionalBackends: (backendName ?? 'cpu') !== 'cpu',
  });
}

/** A spec file (or the defaults) with the command line's overrides, checked against the container. */
export interface PreparedSpec {
  readonly spec: RunSpec;
  readonly container: BoltzmannContainer;
  /** Where the spec's relative paths start (its directory, or the working directory). */
  readonly baseDir: string;
  /** The spec file, or undefined for the defaults. */
  readonly file: string | undefined;
}

/** Command-line values that replace fields of the spec. */
export interface SpecOverrides {
  backend?: string;
  precision?: PrecisionChoice;
  seed?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  hidden?: number;
  limit?: number;
  out?: string;
  data?: DataSourceSpec;
  /** Replaces `output.samples.sampler` whole. */
  sampler?: SamplerSpec;
  /** Replaces `output.events` whole. */
  events?: EventSinkSpec;
}

/**
 * Reads `file` (or takes the defaults), lays it over `defaultSpec()`, applies the overrides,
 * loads the spec's plugins (relative to the spec file) and the --plugin ones, and validates.
 */
export async function prepareSpec(file: string | undefined, overrides: SpecOverrides, args: ParsedArgs, io: CliIO, options: { besideModel?: boolean } = {}): Promise<PreparedSpec> {
  const path = file === undefined ? undefined : resolve(io.cwd, file);
  const baseDir = path === undefined ? io.cwd : dirname(path);
  const given = path === undefined ? {} : readSpecFile(path);
  const merged = mergeSpec(defaultSpec(), given) as Record<string, unknown>;
  if (overrides.learningRate === undefined) fillOptimizerDefaults(given, merged);
  applyOverrides(merged, overrides);
  const specPlugins = Array.isArray(merged['plugins']) ? (merged['plugins'] as unknown[]).filter((p): p is string => typeof p === 'string') : [];
  if (options.besideModel === true && path !== undefined) checkTrusted(absolutePlugins(specPlugins, baseDir), args, io, path);
  const backendName = typeof merged['backend'] === 'object' && merged['backend'] !== null ? (merged['backend'] as { name?: unknown }).name : undefined;
  const container = await openContainer(args, io, absolutePlugins(specPlugins, baseDir), typeof backendName === 'string' ? backendName : undefined);
  const spec = validateSpec(merged, container.catalog, { source: file ?? 'default spec' });
  return { spec, container, baseDir, file: path };
}

/** `--events ADDRESS`: redis://HOST:PORT/STREAM or nats://HOST:PORT/SUBJECT. */
export function parseEventsOption(text: string, option = '--events'): EventChannel {
  try {
    return parseEventAddress(text);
  } catch (error) {
    throw new UsageError(`${option}: ${(error as Error).message}`);
  }
}

/** The environment variable listing trusted plugins: package names and paths, separated like PATH. */
export const TRUSTED_PLUGINS_ENV = 'BOLTZMANN_TRUSTED_PLUGINS';

/**
 * Opening a model runs no code unless the user allows it: the plugins a spec beside the model
 * lists load only with --trust-plugins, when each is named with --plugin, or when each is in
 * the trusted list of BOLTZMANN_TRUSTED_PLUGINS (see `isTrusted`).
 */
function checkTrusted(plugins: readonly string[], args: ParsedArgs, io: CliIO, specPath: string): void {
  if (plugins.length === 0 || args.options['trust-plugins'] === true) return;
  const named = absolutePlugins(Array.isArray(args.options['plugin']) ? (args.options['plugin'] as string[]) : [], io.cwd);
  const listed = (io.env?.[TRUSTED_PLUGINS_ENV] ?? '').split(delimiter).filter((entry) => entry.trim() !== '');
  const trusted = [...named, ...absolutePlugins(listed, io.cwd)];
  const untrusted = plugins.filter((p) => !trusted.some((t) => isTrusted(p, t)));
  if (untrusted.length > 0) {
    throw new UsageError(
      `the spec beside the model ("${specPath}") lists plugins, which run code when loaded: ${untrusted.join(', ')}; pass --trust-plugins, name each with --plugin, or list them in ${TRUSTED_PLUGINS_ENV} if you trust them`,
    );
  }
}

/** Whether `trusted` (a package name, or an absolute path: that plugin and every one under it) covers `plugin`. */
function isTrusted(plugin: string, trusted: string): boolean {
  if (!isAbsolute(trusted) || !isAbsolute(plugin)) return plugin === trusted;
  const inside = relative(trusted, plugin);
  return inside === '' || (!inside.startsWith('..') && !isAbsolute(inside));
}

function applyOverrides(spec: Record<string, unknown>, o: SpecOverrides): void {
  const section = (key: string): Record<string, unknown> => {
    const s = spec[key];
    if (typeof s === 'object' && s !== null && !Array.isArray(s)) return s as Record<string, unknown>;
    const fresh: Record<string, unknown> = {};
    spec[key] = fresh;
    return fresh;
  };
  if (o.backend !== undefined) section('backend')['name'] = o.backend;
  if (o.precision !== undefined) section('backend')['precision'] = o.precision;
  if (o.seed !== undefined) spec['seed'] = o.seed;
  if (o.epochs !== undefined) section('training')['epochs'] = o.epochs;
  if (o.batchSize !== undefined) section('training')['batchSize'] = o.batchSize;
  if (o.learningRate !== undefined) section('training')['learningRate'] = o.learningRate;
  if (o.limit !== undefined) section('data')['limit'] = o.limit;
  if (o.data !== undefined) section('data')['source'] = o.data;
  if (o.out !== undefined) section('output')['dir'] = o.out;
  if (o.events !== undefined) section('output')['events'] = o.events;
  if (o.sampler !== undefined) {
    const output = section('output');
    const samples = output['samples'];
    if (typeof samples === 'object' && samples !== null && !Array.isArray(samples)) (samples as Record<string, unknown>)['sampler'] = o.sampler;
    else output['samples'] = { sampler: o.sampler }; // validation reports what else is wrong with output.samples
  }
  if (o.hidden !== undefined) {
    const layers = section('model')['layers'];
    if (!Array.isArray(layers) || layers.length < 2) throw new UsageError('--hidden needs a model with a hidden layer');
    const named = layers.find((l: unknown) => typeof l === 'object' && l !== null && (l as { name?: unknown }).name === 'hidden') ?? layers[1];
    if (typeof named !== 'object' || named === null) throw new UsageError('--hidden: the spec\'s second layer is not an object');
    (named as Record<string, unknown>)['size'] = o.hidden;
  }
}

/** Parses --data: a JSON object, "type", or "type:path" (csv: path, idx: images, fashion-mnist: dir). */
export function parseDataOption(text: string): DataSourceSpec {
  if (text.trim().startsWith('{')) return parseTypedJson<DataSourceSpec>('--data', text, 'a JSON data source is an object with a "type"');
  const colon = text.indexOf(':');
  if (colon < 0) return { type: text };
  const type = text.slice(0, colon);
  const value = text.slice(colon + 1);
  const key = type === 'idx' ? 'images' : type === 'fashion-mnist' ? 'dir' : 'path';
  return { type, [key]: value };
}

/** Parses --sampler: a registered name ("glauber"), or a JSON object with a "type" and options. */
export function parseSamplerOption(text: string): SamplerSpec {
  if (!text.trim().startsWith('{')) {
    if (text.trim() === '') throw new UsageError('--sampler needs a sampler name (gibbs, glauber, parallel-dynamics...) or a JSON object');
    return { type: text.trim() };
  }
  return parseTypedJson<SamplerSpec>('--sampler', text, 'a JSON sampler is an object with a "type", e.g. {"type":"glauber","temperature":0.5}');
}

/** An option's JSON value that must be an object with a string "type"; UsageErrors name the option (`untyped` says what it should be). */
function parseTypedJson<T extends { type: string }>(option: string, text: string, untyped: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${option}: not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof (parsed as { type?: unknown }).type !== 'string') {
    throw new UsageError(`${option}: ${untyped}`);
  }
  return parsed as T;
}

/** The spec that describes a saved model's run: the given file, else spec.json beside the model (written by `train`), else the defaults. */
export function specFileFor(modelPath: string, given: string | undefined, io: CliIO): string | undefined {
  if (given !== undefined) return given;
  const beside = join(dirname(resolve(io.cwd, modelPath)), 'spec.json');
  return existsSync(beside) ? beside : undefined;
}

/** Rows to evaluate or transform, with what they are. */
export interface EvaluationRows {
  readonly rows: Matrix;
  readonly description: string;
  readonly imageShape: readonly [number, number] | undefined;
}

/**
 * The rows a model command works on: --data (all its rows), else the data of the run's spec
 * (see `specFileFor`) split as in training, the held-out part by default (--split).
 */
export async function evaluationRows(prepared: PreparedSpec, args: ParsedArgs, io: CliIO): Promise<EvaluationRows> {
  const { container, spec } = prepared;
  const dataText = stringOption(args, 'data');
  const limit = numberOption(args, 'limit');
  if (limit !== undefined && limit < 1) throw new UsageError(`--limit must be at least 1, got ${limit}`);
  if (dataText !== undefined) {
    if (stringOption(args, 'split') !== undefined) throw new UsageError('--split picks rows of the spec\'s data; with --data every row is used');
    const source = parseDataOption(dataText);
    const set = await container.catalog.factory('dataSource', source.type)(source, { seed: spec.seed, baseDir: io.cwd, columns: spec.model.layers[0]!.size, ...(limit === undefined ? {} : { limit }) });
    if ('stream' in set) {
      await set.stream.close();
      throw new UsageError(`--data ${source.type}: a stream source (${set.description}) holds no rows to work on here; give resident data`);
    }
    const rows = limit === undefined || limit >= set.data.rows ? set.data : set.data.sliceRows(0, limit);
    return { rows, description: rows === set.data ? set.description : `first ${rows.rows} of ${set.description}`, imageShape: set.imageShape };
  }
  const data = await loadRunData(container, spec, { baseDir: prepared.baseDir });
  const split = stringOption(args, 'split') ?? (data.validation ? 'validation' : 'train');
  let rows: Matrix;
  if (split === 'validation') {
    if (!data.validation) throw new UsageError('--split validation: the spec holds no rows out (data.validationSplit is 0)');
    rows = data.validation;
  } else if (split === 'train') rows = data.train;
  else if (split === 'all') rows = data.validation ? concatRows(data.train, data.validation) : data.train;
  else throw new UsageError(`--split must be validation, train or all, got "${split}"`);
  if (limit !== undefined && limit < rows.rows) rows = rows.sliceRows(0, limit);
  return { rows, description: `${rows.rows} ${split} rows of ${data.description}`, imageShape: data.imageShape };
}

function concatRows(a: Matrix, b: Matrix): Matrix {
  const all = new (a.data.constructor as Float32ArrayConstructor)(a.data.length + b.data.length);
  all.set(a.data);
  all.set(b.data, a.data.length);
  return new Matrix(a.rows + b.rows, a.cols, all);
}

/**
 * One line on stderr when a float32 CPU backend runs without the native matrix product (the
 * WebAssembly or TypeScript one is several times slower), with the reason. Each command calls
 * it once, for the backend its model runs on.
 */
export function noteNativeFallback(backend: Backend, io: CliIO): void {
  if (!(backend instanceof CpuBackend) || backend.precision !== 'float32' || backend.gemm.name.startsWith('native-')) return;
  const why = nativeGemmUnavailableReason() || 'the native kernel was not selected';
  io.stderr.write(`boltzmann: note: the CPU backend is not using its native kernel (${why}); it runs ${backend.gemm.name}, several times slower; "boltzmann info" says more\n`);
}

/** A saved model loaded onto the spec's (or --backend's) backend; its training state is freed. */
export interface OpenedModel {
  readonly model: EnergyModel;
  readonly backend: Backend;
  /** Frees the model and the backend. */
  dispose(): void;
}

/** Loads a model file, native or a raw RBM description (INTEROP.md), onto a new backend, its types (plugins' included) from the container's component set. */
export function openModel(file: string, prepared: PreparedSpec, io: CliIO): OpenedModel {
  const { container, spec } = prepared;
  let backend: Backend | undefined;
  try {
    backend = container.catalog.factory('backend', spec.backend.name)({ precision: spec.backend.precision });
    noteNativeFallback(backend, io);
    const path = resolve(io.cwd, file);
    // Either format: the native model file, or a raw RBM description (INTEROP.md) from another program.
    const loaded = isRawRBMDescription(path) ? { model: loadRawRBM(path, backend), trainer: undefined } : loadModel(path, backend, { components: container.components });
    loaded.trainer?.dispose();
    const owned = backend;
    return {
      model: loaded.model,
      backend: owned,
      dispose: () => {
        loaded.model.dispose();
        owned.destroy();
      },
    };
  } catch (error) {
    backend?.destroy();
    throw error;
  }
}

/** The model as an RBM, or an error naming what the command needs. */
export function requireRBM(model: EnergyModel, command: string): RBM {
  if (!(model instanceof RBM)) throw new InvalidValueError(`"${command}" needs an RBM; the model file holds a "${model.kind}" model`);
  return model;
}

/** A backend as logs name it: its name and precision, and which kernels run where it says so. */
export function describeBackend(backend: Backend): string {
  return backend.kernels === undefined ? `${backend.name} (${backend.precision})` : `${backend.name} (${backend.kernels})`;
}

/** "rbm: visible 784 bernoulli, hidden 256 bernoulli". */
export function describeModel(model: EnergyModel): string {
  return `${model.kind}: ${model.layers.map((l) => `${l.name} ${l.size} ${l.type}`).join(', ')}`;
}

/**
 * A warning when rows with grey levels (values strictly between 0 and 1) are scored under
 * Bernoulli visible units: their "log-likelihood" is not that of any binary data, and numbers
 * from such rows are not comparable with published ones. Undefined when nothing to say.
 */
export function greyLevelWarning(model: EnergyModel, rows: Matrix, what: string): string | undefined {
  if (!(model.layers[0] instanceof BernoulliLayer)) return undefined;
  let grey = 0;
  for (const x of rows.data) if (x > 0 && x < 1) grey++;
  if (grey === 0) return undefined;
  return `${what} has grey levels (${grey} of ${rows.data.length} values strictly between 0 and 1) scored under Bernoulli visible units, so its log-likelihood is not that of binary data; binarize it with the data source's "binarize" option, e.g. --data '{"type":"mnist","binarize":0.5}'`;
}
