import {
  DEFAULT_AIS_BETAS,
  logLikelihoodSandwich,
  logPartitionSandwich,
  exactLogLikelihood,
  exactLogPartition,
  exactLogZObstacle,
  variationalLowerBound,
  type AISResult,
  type EnergyModel,
} from '@boltzmann/core';
import { createBackend, type Matrix } from '@boltzmann/tensor';
import type { ParsedArgs } from '../args.js';
import { UsageError } from '../args.js';
import type { Command } from '../command.js';
import { Options, describeModel, evaluationRows, greyLevelWarning, numberOption, openModel, precisionOption, prepareSpec, specFileFor, stringOption } from '../common.js';
import type { CliIO } from '../io.js';

/** Default cap on enumerated states (25 binary units, core's MAX_EXACT_STATES). */
const DEFAULT_MAX_STATES = 2 ** 25;
/** Default number of AIS intermediate distributions (core's default). */
const DEFAULT_BETAS = DEFAULT_AIS_BETAS;
/** Default number of AIS runs (core's default). */
const DEFAULT_RUNS = 100;

/** How `logz` computes log Z. */
export type LogZMethod = 'exact' | 'ais';

/** What `logz --json` prints (infinite interval ends print as null). */
export interface LogZReport {
  model: string;
  method: LogZMethod;
  logZ: number;
  /** AIS: log(Z-hat -+ 3 sigma). */
  logZInterval?: [number, number];
  /** AIS: [lower, upper] ends of log Z between AIS (from below) and reverse AIS (from above). */
  logZSandwich?: [number, number];
  /** AIS: the reverse estimate (errs high). */
  logZReverse?: number;
  /** AIS: whether the two sides agree within 1 nat. */
  sidesAgree?: boolean;
  /** AIS: the effective sample size of the importance weights (1 .. runs). */
  effectiveSampleSize?: number;
  /** AIS: the backend precision the estimate ran in. */
  precision?: string;
  /** AIS: what to read before trusting the numbers (also printed to stderr). */
  warnings?: string[];
  /** AIS, an RBM with --data: the mean log-likelihood between the sandwich's ends. */
  logLikelihoodSandwich?: [number, number];
  /** Grey levels scored under Bernoulli visible units (also printed to stderr). */
  dataWarning?: string;
  /** AIS: the runs, the intermediate distributions, the start ("uniform" or "data") and the layers summed out. */
  runs?: number;
  betas?: number;
  start?: 'uniform' | 'data';
  summedOut?: string[];
  seed?: number;
  /** With --data: what the rows are and how many. */
  data?: string;
  rows?: number;
  /** With --data, a model whose hidden layers all touch the visible layer (an RBM): mean log p(v), exact or the AIS estimate. */
  logLikelihood?: number;
  /** With --data, any other model (a DBM): the mean-field lower bound on the mean log p(v), with this log Z. */
  variationalLowerBound?: number;
  /** AIS: the bound with log Z's sandwich ends; its lower end is a lower bound on the mean log-likelihood. */
  variationalLowerBoundInterval?: [number, number];
}

/**
 * The method the default picks: exact when `exactLogPartition` can enumerate the model with
 * `maxStates` (core's `exactLogZObstacle`: the smaller block of the two-colouring has discrete
 * units with at most that many joint states, and no layer sums out only approximately); else AIS.
 */
export function defaultLogZMethod(model: EnergyModel, maxStates: number): LogZMethod {
  return exactLogZObstacle(model, maxStates) === undefined ? 'exact' : 'ais';
}

/** `boltzmann logz`: log Z of a saved model, exact or by AIS, and with --data the data's log-likelihood (or a DBM's variational bound). */
export const logzCommand: Command = {
  def: {
    name: 'logz',
    brief: 'print log Z of a saved model: exact, or estimated by AIS (with --data, the log-likelihood too)',
    summary:
      'Print the log partition function log Z of a saved model (RBM or DBM): exactly when the smaller block of layers can be enumerated (in float64, the other block summed out), else estimated by annealed importance sampling with its +-3 sigma interval. With --data, also the mean log-likelihood of those rows (a DBM: its mean-field variational lower bound).',
    positionals: ['<model.json>'],
    options: [
      { name: 'method', kind: 'string', value: 'M', help: 'exact or ais (default: exact when the smaller block has at most --max-states states, else ais)' },
      { name: 'max-states', kind: 'integer', value: 'N', help: `enumerate at most N states for exact log Z (default 2^25 = ${DEFAULT_MAX_STATES})` },
      { name: 'betas', kind: 'integer', value: 'N', help: `ais: number of intermediate distributions (default ${DEFAULT_BETAS})` },
      { name: 'runs', kind: 'integer', value: 'N', help: `ais: number of independent annealing runs, at least 2 (default ${DEFAULT_RUNS})` },
      { name: 'start', kind: 'string', value: 'FROM', help: 'ais: base distribution "uniform" (zero biases) or "data" (visible biases from the --data column means); default data with --data, else uniform' },
      Options.data,
      Options.limit,
      Options.json,
      Options.seed,
      Options.backend,
      Options.precision,
      Options.plugin,
      Options.trustPlugins,
    ],
    details: [
      'Exact log Z is for small models: one whose smaller block of layers (an RBM\'s smaller layer, a DBM\'s odd or even layers) has up to about 25 binary units. AIS follows Salakhutdinov & Murray (2008): an RBM\'s chains move on its visible units with the hidden ones summed out, from the base-rate model of the --data column means, over 14,500 betas dense near 1; a DBM\'s on its odd layers. It runs in float64 on the CPU unless --precision is given (then on the model\'s backend in that precision) and sums the importance weights in float64. AIS errs low, and its +-3 sigma interval (lower end -Infinity, null in JSON, when Z-hat - 3 sigma <= 0) only measures the spread of the weights: an RBM therefore also gets reverse AIS from the forward runs\' final states, which errs high, and log Z is printed between the two sides, with a warning when they differ by more than 1 nat or when the effective sample size of the weights is small.',
      'With --data (all its rows, or the first --limit): an RBM\'s mean log p(v) = -F(v) - log Z, exact or between the ends the log Z sandwich gives; a DBM\'s mean-field lower bound on it. Grey-level data under Bernoulli visible units draws a warning: binarize it with the source\'s "binarize" option. The seed is --seed, else the spec\'s (spec.json beside the model). The model may be a native model file or a raw RBM description (INTEROP.md).',
      'Example: boltzmann logz out/model.json --method ais --betas 20000 --runs 200 --data mnist --limit 1000',
    ],
  },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const given = stringOption(args, 'method');
    if (given !== undefined && given !== 'exact' && given !== 'ais') throw new UsageError(`--method must be exact or ais, got "${given}"`);
    const maxStates = numberOption(args, 'max-states') ?? DEFAULT_MAX_STATES;
    if (maxStates < 1) throw new UsageError(`--max-states must be at least 1, got ${maxStates}`);
    const betas = numberOption(args, 'betas') ?? DEFAULT_BETAS;
    if (betas < 1) throw new UsageError(`--betas must be at least 1 (the number of intermediate distributions), got ${betas}`);
    const runs = numberOption(args, 'runs') ?? DEFAULT_RUNS;
    if (runs < 2) throw new UsageError(`--runs must be at least 2 (the interval needs the spread of the importance weights), got ${runs}`);
    const hasData = stringOption(args, 'data') !== undefined;
    if (!hasData && numberOption(args, 'limit') !== undefined) throw new UsageError('--limit picks the first rows of --data; give --data too');
    const startText = stringOption(args, 'start');
    if (startText !== undefined && startText !== 'uniform' && startText !== 'data') throw new UsageError(`--start must be uniform or data, got "${startText}"`);
    if (startText === 'data' && !hasData) throw new UsageError('--start data sets the base distribution from the data\'s column means: give --data too');
    const start = startText ?? (hasData ? 'data' : 'uniform');

    const modelFile = args.positionals[0]!;
    const prepared = await prepareSpec(specFileFor(modelFile, undefined, io), { backend: stringOption(args, 'backend'), precision: precisionOption(args), seed: numberOption(args, 'seed') }, args, io, { besideModel: true });
    const opened = openModel(modelFile, prepared, io);
    try {
      const model = opened.model;
      const method = given ?? defaultLogZMethod(model, maxStates);
      if (method === 'exact') {
        const aisOnly = ['betas', 'runs', 'start'].filter((o) => args.options[o] !== undefined);
        if (aisOnly.length > 0) {
          const what = `${aisOnly.map((o) => `--${o}`).join(', ')} ${aisOnly.length === 1 ? 'is an option' : 'are options'} of --method ais`;
          const why = given === undefined ? `; this model is small enough for exact log Z, the default (at most --max-states ${maxStates} states): add --method ais` : ', not exact';
          throw new UsageError(`${what}${why}`);
        }
      }
      const data = hasData ? await evaluationRows(prepared, args, io) : undefined;
      if (data) model.layers[0]!.validate(data.rows, `--data ${data.description}`);
      const report =
        method === 'exact'
          ? await exactReport(model, modelFile, maxStates, data?.rows)
          : await aisReport(model, modelFile, { betas, runs, start, seed: prepared.spec.seed, float64: precisionOption(args) === undefined }, data?.rows);
      if (data) {
        report.data = data.description;
        report.rows = data.rows.rows;
        const grey = greyLevelWarning(model, data.rows, '--data');
        if (grey !== undefined) report.dataWarning = grey;
      }
      for (const w of [...(report.warnings ?? []), ...(report.dataWarning ? [report.dataWarning] : [])]) io.stderr.write(`warning: ${w}\n`);
      if (args.options['json'] === true) io.stdout.write(`${JSON.stringify(report)}\n`);
      else io.stdout.write(formatReport(report, describeModel(model)));
      return 0;
    } finally {
      opened.dispose();
    }
  },
};

/** Whether log p(v) = -F(v) - log Z holds: every layer but the visible one hangs off it (an RBM). */
function freeEnergyLikelihood(model: EnergyModel): boolean {
  return model.bipartition()[0]!.length === 1;
}

async function exactReport(model: EnergyModel, file: string, maxStates: number, rows: Matrix | undefined): Promise<LogZReport> {
  const float64 = createBackend('cpu', { precision: 'float64' });
  try {
    const logZ = await exactLogPartition(model, { maxStates, backend: float64 });
    const report: LogZReport = { model: file, method: 'exact', logZ };
    if (rows === undefined) return report;
    if (freeEnergyLikelihood(model)) report.logLikelihood = await exactLogLikelihood(model, rows, { logZ, backend: float64 });
    else report.variationalLowerBound = await variationalLowerBound(model, rows, { logZ, backend: float64 });
    return report;
  } finally {
    float64.destroy();
  }
}

async function aisReport(
  model: EnergyModel,
  file: string,
  o: { betas: number; runs: number; start: 'uniform' | 'data'; seed: number; float64: boolean },
  rows: Matrix | undefined,
): Promise<LogZReport> {
  // Evaluation in float64 unless --precision asks otherwise: a float32 backend would round every increment.
  const float64 = o.float64 ? createBackend('cpu', { precision: 'float64' }) : undefined;
  try {
    const common = { betas: o.betas, runs: o.runs, seed: o.seed, ...(float64 ? { backend: float64 } : {}) };
    const baseRate = o.start === 'data' ? rows : undefined;
    // Both sides for every model AIS anneals: AIS from below, reverse AIS from its resampled final states above.
    const sandwich = await logPartitionSandwich(model, { ...common, ...(baseRate ? { baseRate } : {}) });
    const ais: AISResult = sandwich.forward;
    const report: LogZReport = {
      model: file,
      method: 'ais',
      logZ: ais.logZ,
      logZInterval: [ais.lower, ais.upper],
      effectiveSampleSize: ais.effectiveSampleSize,
      runs: ais.runs,
      betas: ais.betas,
      start: o.start,
      summedOut: ais.summedOut,
      seed: o.seed,
      precision: o.float64 ? 'float64' : model.backend.precision,
      warnings: sandwich.warnings,
      logZSandwich: [sandwich.lower, sandwich.upper],
      logZReverse: sandwich.upperEstimate,
      sidesAgree: sandwich.agree,
    };
    if (rows === undefined) return report;
    if (freeEnergyLikelihood(model)) {
      const ll = await logLikelihoodSandwich(model, rows, sandwich, float64 ? { backend: float64 } : {});
      report.logLikelihood = ll.upperEstimate;
      report.logLikelihoodSandwich = [ll.lower, ll.upper];
    } else {
      const bound = await variationalLowerBound(model, rows, { logZ: ais.logZ, ...(float64 ? { backend: float64 } : {}) });
      report.variationalLowerBound = bound;
      // The bound is linear in log Z: the sandwich's upper end gives the lower end, a lower bound on the log-likelihood.
      report.variationalLowerBoundInterval = [bound + ais.logZ - sandwich.upper, bound + ais.logZ - sandwich.lower];
    }
    return report;
  } finally {
    float64?.destroy();
  }
}

/** The text form: log Z first (the exact form is one line), then the interval and the data's score. */
function formatReport(r: LogZReport, model: string): string {
  const lines: string[] = [];
  const interval = (i: [number, number]) => `[${i[0]}, ${i[1]}]`;
  if (r.method === 'exact') lines.push(`log Z = ${r.logZ} (exact, ${model})`);
  else {
    lines.push(`log Z = ${r.logZ} (ais, ${model})`);
    if (r.logZSandwich) {
      lines.push(`  between ${r.logZSandwich[0]} and ${r.logZSandwich[1]}: AIS from below, reverse AIS from above (estimate ${r.logZReverse}); ${r.sidesAgree ? 'the sides agree' : 'THE SIDES DISAGREE (see the warning)'}`);
    }
    lines.push(`  +-3 sigma interval ${interval(r.logZInterval!)}; ${r.runs} runs, ${r.betas} betas, ${r.start} start, summed out: ${r.summedOut!.join(', ')}, effective sample size ${r.effectiveSampleSize!.toFixed(1)}, ${r.precision}, seed ${r.seed}`);
  }
  if (r.logLikelihood !== undefined) {
    lines.push(`log-likelihood = ${r.logLikelihood} (${r.method === 'exact' ? 'exact' : 'ais estimate'}: mean -F(v) - log Z over ${r.data})`);
    if (r.logLikelihoodSandwich) lines.push(`  between ${r.logLikelihoodSandwich[0]} and ${r.logLikelihoodSandwich[1]} (from the log Z sandwich)`);
  }
  if (r.variationalLowerBound !== undefined) {
    lines.push(`variational lower bound = ${r.variationalLowerBound} (mean-field bound on the mean log p(v) with the ${r.method} log Z, over ${r.data})`);
    if (r.variationalLowerBoundInterval) lines.push(`  between ${r.variationalLowerBoundInterval[0]} and ${r.variationalLowerBoundInterval[1]} with the log Z sandwich's ends (the lower end is a lower bound on the log-likelihood)`);
  }
  return `${lines.join('\n')}\n`;
}
