import { suggestName } from '@boltzmann/core';
import { eventSinkIssues } from '@boltzmann/pipeline';
import { PRECISION_CHOICES } from '@boltzmann/tensor';
import { backendLoadFailures } from '../builtins/backends.js';
import type { ComponentCatalog } from '../catalog.js';
import { KIND_LABELS, type ComponentKind } from '../tokens.js';
import { defaultSpec, fillOptimizerDefaults } from './defaults.js';
import { isPlainObject, mergeSpec } from './merge.js';
import { SpecError, type SpecIssue } from './spec-error.js';
import type { MetricSpec, RunSpec } from './types.js';

const TOP_KEYS = ['$schema', 'description', 'plugins', 'model', 'training', 'data', 'backend', 'seed', 'output'];
const MODEL_KEYS = ['kind', 'layers', 'connections', 'weightStd'];
const TRAINING_KEYS = Object.keys(defaultSpec().training);
const DATA_KEYS = ['source', 'validationSplit', 'limit'];
const BACKEND_KEYS = ['name', 'precision'];
const OUTPUT_KEYS = ['dir', 'samples', 'filters', 'reconstructions', 'events'];
const EARLY_STOPPING_KEYS = ['metric', 'split', 'patience', 'minDelta', 'restoreBest'];
const STOPPING_METRICS = ['pseudoLogLikelihood', 'freeEnergyGap', 'reconstructionError', 'meanHiddenActivation'];

/** Collects problems with the field path of each. */
class IssueList {
  readonly issues: SpecIssue[] = [];

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  object(x: unknown, path: string, allowed?: readonly string[]): x is Record<string, unknown> {
    if (!isPlainObject(x)) {
      this.add(path, `must be an object, got ${show(x)}`);
      return false;
    }
    if (allowed) {
      for (const key of Object.keys(x)) {
        if (!allowed.includes(key)) this.add(`${join(path, key)}`, `unknown field${suggestName(key, allowed)}; fields: ${allowed.filter((k) => !k.startsWith('$')).join(', ')}`);
      }
    }
    return true;
  }

  integer(x: unknown, path: string, lo: number, hi = Number.MAX_SAFE_INTEGER): void {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < lo || x > hi) {
      this.add(path, `must be an integer ${hi === Number.MAX_SAFE_INTEGER ? `>= ${lo}` : `in [${lo}, ${hi}]`}, got ${show(x)}`);
    }
  }

  number(x: unknown, path: string, lo: number, hi: number, hiOpen = false): void {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < lo || x > hi || (hiOpen && x === hi)) {
      this.add(path, `must be a finite number in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${show(x)}`);
    }
  }

  boolean(x: unknown, path: string): void {
    if (typeof x !== 'boolean') this.add(path, `must be true or false, got ${show(x)}`);
  }

  string(x: unknown, path: string): x is string {
    if (typeof x !== 'string' || x === '') {
      this.add(path, `must be a non-empty string, got ${show(x)}`);
      return false;
    }
    return true;
  }

  oneOf(x: unknown, path: string, values: readonly string[]): void {
    if (typeof x !== 'string' || !values.includes(x)) this.add(path, `must be one of ${values.map((v) => `"${v}"`).join(', ')}, got ${show(x)}`);
  }

  /** A registered name of `kind`; an unknown one lists what is registered. */
  registered(catalog: ComponentCatalog, kind: ComponentKind, x: unknown, path: string): void {
    if (!this.string(x, path)) return;
    if (!catalog.has(kind, x)) this.add(path, `unknown ${KIND_LABELS[kind]} "${x}"${suggestName(x, catalog.names(kind))}; registered: ${catalog.names(kind).join(', ') || 'none'}`);
  }

  /** An object { type: registered name, ...options }. */
  typed(catalog: ComponentCatalog, kind: ComponentKind, x: unknown, path: string): void {
    if (this.object(x, path)) this.registered(catalog, kind, x['type'], join(path, 'type'));
  }

  /** A number or a schedule spec. */
  schedule(catalog: ComponentCatalog, x: unknown, path: string, lo: number, hi: number): void {
    if (typeof x === 'number') this.number(x, path, lo, hi);
    else if (isPlainObject(x)) this.typed(catalog, 'schedule', x, path);
    else this.add(path, `must be a number or a schedule object { "type": ${catalog.names('schedule').map((n) => `"${n}"`).join(' | ')}, ... }, got ${show(x)}`);
  }
}

/**
 * Lays `input` (a parsed spec file, possibly partial; undefined for the defaults) over
 * `defaultSpec()` and checks every field against the catalog: shapes, ranges, layer and
 * connection names, and that every named component (unit types, connection types, model
 * kind, estimator, optimizer, regularizers, schedules, metrics, data source, backend, sampler) is
 * registered. Throws one SpecError listing every problem, each with its field path; unknown
 * names list what is registered. Options of a component are checked when it is built
 * (`resolveRun` names the field in that error too).
 */
export function validateSpec(input: unknown, catalog: ComponentCatalog, options: { source?: string } = {}): RunSpec {
  const source = options.source ?? 'run spec';
  let merged: unknown;
  try {
    merged = mergeSpec(defaultSpec(), input);
  } catch (error) {
    throw new SpecError([{ path: '(root)', message: (error as Error).message }], source);
  }
  const issues = new IssueList();
  const spec = merged as Record<string, unknown>;
  if (typeof spec === 'object' && spec !== null) fillOptimizerDefaults(input, spec);
  issues.object(spec, '(root)', TOP_KEYS);

  if (!Array.isArray(spec['plugins']) || !spec['plugins'].every((p) => typeof p === 'string' && p !== '')) {
    issues.add('plugins', `must be an array of package names or paths, got ${show(spec['plugins'])}`);
  }
  checkModel(spec['model'], catalog, issues);
  checkTraining(spec['training'], catalog, issues, spec['data']);
  checkData(spec['data'], catalog, issues);
  if (issues.object(spec['backend'], 'backend', BACKEND_KEYS)) {
    const b = spec['backend'];
    issues.registered(catalog, 'backend', b['name'], 'backend.name');
    if (typeof b['name'] === 'string' && !catalog.has('backend', b['name'])) {
      for (const [pkg, why] of backendLoadFailures) issues.add('backend.name', `(${pkg} could not be loaded: ${why})`);
    }
    issues.oneOf(b['precision'], 'backend.precision', PRECISION_CHOICES);
  }
  issues.integer(spec['seed'], 'seed', 0, 0xffffffff);
  checkOutput(spec['output'], catalog, issues);

  if (issues.issues.length > 0) throw new SpecError(issues.issues, source);
  return spec as unknown as RunSpec;
}

function checkModel(model: unknown, catalog: ComponentCatalog, issues: IssueList): void {
  if (!issues.object(model, 'model', MODEL_KEYS)) return;
  issues.registered(catalog, 'modelKind', model['kind'], 'model.kind');
  issues.number(model['weightStd'], 'model.weightStd', 0, Infinity);
  const names = new Set<string>();
  if (!Array.isArray(model['layers']) || model['layers'].length === 0) {
    issues.add('model.layers', `must be a non-empty array of layers { "type", "name", "size" }, got ${show(model['layers'])}`);
  } else {
    model['layers'].forEach((layer: unknown, i) => {
      const path = `model.layers[${i}]`;
      if (!issues.object(layer, path)) return;
      issues.registered(catalog, 'unitType', layer['type'], `${path}.type`);
      if (issues.string(layer['name'], `${path}.name`)) {
        if (names.has(layer['name'])) issues.add(`${path}.name`, `two layers are named "${layer['name']}"`);
        names.add(layer['name']);
      }
      issues.integer(layer['size'], `${path}.size`, 1);
    });
  }
  if (!Array.isArray(model['connections'])) {
    issues.add('model.connections', `must be an array of connections { "type", "name", "from", "to" }, got ${show(model['connections'])}`);
    return;
  }
  const layerNames = new Set(names);
  model['connections'].forEach((c: unknown, i) => {
    const path = `model.connections[${i}]`;
    if (!issues.object(c, path)) return;
    issues.registered(catalog, 'connection', c['type'], `${path}.type`);
    if (issues.string(c['name'], `${path}.name`)) {
      if (names.has(c['name'])) issues.add(`${path}.name`, `"${c['name']}" is already the name of a layer or connection`);
      names.add(c['name']);
    }
    for (const end of ['from', 'to'] as const) {
      if (issues.string(c[end], `${path}.${end}`) && !layerNames.has(c[end])) {
        issues.add(`${path}.${end}`, `no layer is named "${c[end]}"; layers: ${[...layerNames].join(', ')}`);
      }
    }
    if (typeof c['from'] === 'string' && c['from'] === c['to']) issues.add(path, `joins layer "${c['from']}" to itself`);
  });
}

function checkTraining(training: unknown, catalog: ComponentCatalog, issues: IssueList, data: unknown): void {
  if (!issues.object(training, 'training', TRAINING_KEYS)) return;
  const t = training;
  issues.integer(t['epochs'], 'training.epochs', 0);
  issues.integer(t['batchSize'], 'training.batchSize', 1);
  issues.schedule(catalog, t['learningRate'], 'training.learningRate', 0, Infinity);
  issues.schedule(catalog, t['momentum'], 'training.momentum', 0, 1);
  issues.typed(catalog, 'estimator', t['estimator'], 'training.estimator');
  issues.typed(catalog, 'optimizer', t['optimizer'], 'training.optimizer');
  issues.number(t['weightDecay'], 'training.weightDecay', 0, Infinity);
  if (!Array.isArray(t['regularizers'])) issues.add('training.regularizers', `must be an array of { "type", ...options }, got ${show(t['regularizers'])}`);
  else t['regularizers'].forEach((r: unknown, i) => issues.typed(catalog, 'regularizer', r, `training.regularizers[${i}]`));
  const metricNames: string[] = [];
  if (!Array.isArray(t['metrics'])) {
    issues.add('training.metrics', `must be an array of metric names (or { "name", ...options }), got ${show(t['metrics'])}`);
  } else {
    t['metrics'].forEach((m: unknown, i) => {
      const path = `training.metrics[${i}]`;
      if (isPlainObject(m)) {
        issues.registered(catalog, 'metric', m['name'], `${path}.name`);
        if (typeof m['name'] === 'string') metricNames.push(m['name']);
      } else {
        issues.registered(catalog, 'metric', m, path);
        if (typeof m === 'string') metricNames.push(m);
      }
    });
  }
  issues.integer(t['monitorRows'], 'training.monitorRows', 1);
  issues.boolean(t['shuffle'], 'training.shuffle');
  issues.boolean(t['initVisibleBiasFromData'], 'training.initVisibleBiasFromData');
  if (t['divergenceFactor'] !== null && !(typeof t['divergenceFactor'] === 'number' && t['divergenceFactor'] > 1 && Number.isFinite(t['divergenceFactor']))) {
    issues.add('training.divergenceFactor', `must be a finite number > 1, or null to turn the rule off, got ${show(t['divergenceFactor'])}`);
  }
  issues.integer(t['checkpointEvery'], 'training.checkpointEvery', 0);
  if (t['stepsPerEpoch'] !== null) issues.integer(t['stepsPerEpoch'], 'training.stepsPerEpoch', 1);
  const es = t['earlyStopping'];
  if (es !== null && issues.object(es, 'training.earlyStopping', EARLY_STOPPING_KEYS)) {
    const path = 'training.earlyStopping';
    const named = es['metric'];
    if (named !== undefined) issues.oneOf(named, `${path}.metric`, STOPPING_METRICS);
    // Whether the model gives the metric (the pseudo-likelihood needs visible units that declare
    // two values; a DBM gives none), and the default metric that follows, depend on the built
    // layers' capabilities: resolveRun checks them.
    const split = es['split'] ?? 'validation';
    issues.oneOf(split, `${path}.split`, ['train', 'validation']);
    if (es['patience'] !== undefined) issues.integer(es['patience'], `${path}.patience`, 1);
    if (es['minDelta'] !== undefined) issues.number(es['minDelta'], `${path}.minDelta`, 0, Infinity);
    if (es['restoreBest'] !== undefined) issues.boolean(es['restoreBest'], `${path}.restoreBest`);
    if (typeof named === 'string' && STOPPING_METRICS.includes(named)) {
      const validationSplit = isPlainObject(data) ? data['validationSplit'] : undefined;
      for (const issue of stoppingMetricIssues(named, split, metricNames, validationSplit)) issues.add(issue.path, issue.message);
    }
  }
}

/**
 * What an early-stopping metric (named in the spec, or the default resolveRun picks for the
 * model) still needs from the spec: its metric listed in training.metrics, and held-out rows
 * when it watches them. Each problem is at "training.earlyStopping.metric".
 */
export function stoppingMetricIssues(metric: string, split: unknown, metricNames: readonly string[], validationSplit: unknown): SpecIssue[] {
  const path = 'training.earlyStopping.metric';
  const out: SpecIssue[] = [];
  const needs = metric === 'pseudoLogLikelihood' ? 'pseudoLogLikelihood' : metric === 'freeEnergyGap' ? 'freeEnergy' : undefined;
  if (needs !== undefined && !metricNames.includes(needs)) out.push({ path, message: `"${metric}" needs "${needs}" in training.metrics` });
  const heldOut = metric === 'freeEnergyGap' || (metric === 'pseudoLogLikelihood' && split === 'validation');
  if (heldOut && validationSplit === 0) out.push({ path, message: `"${metric}" watches held-out data, but data.validationSplit is 0` });
  return out;
}

function checkData(data: unknown, catalog: ComponentCatalog, issues: IssueList): void {
  if (!issues.object(data, 'data', DATA_KEYS)) return;
  issues.typed(catalog, 'dataSource', data['source'], 'data.source');
  issues.number(data['validationSplit'], 'data.validationSplit', 0, 1, true);
  if (data['limit'] !== null) issues.integer(data['limit'], 'data.limit', 1);
}

function checkOutput(output: unknown, catalog: ComponentCatalog, issues: IssueList): void {
  if (!issues.object(output, 'output', OUTPUT_KEYS)) return;
  issues.string(output['dir'], 'output.dir');
  if (issues.object(output['samples'], 'output.samples', ['count', 'steps', 'init', 'sampler'])) {
    issues.integer(output['samples']['count'], 'output.samples.count', 1, 10000);
    issues.integer(output['samples']['steps'], 'output.samples.steps', 0);
    issues.oneOf(output['samples']['init'], 'output.samples.init', ['data', 'random']);
    issues.typed(catalog, 'sampler', output['samples']['sampler'], 'output.samples.sampler');
  }
  issues.integer(output['filters'], 'output.filters', 0, 10000);
  issues.integer(output['reconstructions'], 'output.reconstructions', 0, 10000);
  if (output['events'] !== null) for (const issue of eventSinkIssues(output['events'], 'output.events')) issues.add(issue.path, issue.message);
}

/** The name of a metric entry. */
export function metricName(m: MetricSpec): string {
  return typeof m === 'string' ? m : m.name;
}

function join(path: string, key: string): string {
  return path === '(root)' ? key : `${path}.${key}`;
}

function show(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (typeof x === 'number' && !Number.isFinite(x)) return String(x); // NaN, Infinity (.nan, 1e999): JSON would say null
  const s = JSON.stringify(x);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

