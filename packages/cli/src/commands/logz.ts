import {
  aisLogLikelihood,
  annealedImportanceSampling,
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
import { Options, describeModel, evaluationRows, numberOption, openModel, precisionOption, prepareSpec, specFileFor, stringOption } from '../common.js';
import type { CliIO } from '../io.js';

/** Default cap on enumerated states (25 binary units, core's MAX_EXACT_STATES). */
const DEFAULT_MAX_STATES = 2 ** 25;
/** Default number of AIS intermediate distributions (core's default). */
const DEFAULT_BETAS = 10000;
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
  /** AIS: the log-likelihood interval that log Z's interval gives. */
  logLikelihoodInterval?: [number, number];
  /** With --data, any other model (a DBM): the mean-field lower bound on the mean log p(v), with this log Z. */
  variationalLowerBound?: number;
  /** AIS: the bound's interval that log Z's interval gives. */
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
    ],
    details: [
      'Exact log Z is for small models: one whose smaller block of layers (an RBM\'s smaller layer, a DBM\'s odd or even layers) has up to about 25 binary units. AIS (Salakhutdinov & Murray 2008) anneals from independent units to the model; it runs on the model\'s backend (--backend, --precision) and sums the importance weights in float64. The interval is log(Z-hat -+ 3 sigma), sigma the standard error of Z-hat over the runs; its lower end is -Infinity (null in JSON) when Z-hat - 3 sigma <= 0. Too few betas bias log Z low.',
      'With --data (all its rows, or the first --limit): an RBM\'s mean log p(v) = -F(v) - log Z, exact or with the AIS log Z; a DBM\'s mean-field lower bound on it. The seed is --seed, else the spec\'s (spec.json beside the model).',
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
    const prepared = await prepareSpec(specFileFor(modelFile, undefined, io), { backend: stringOption(args, 'backend'), precision: precisionOption(args), seed: numberOption(args, 'seed') }, args, io);
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
      const report = method === 'exact' ? await exactReport(model, modelFile, maxStates, data?.rows) : await aisReport(model, modelFile, { betas, runs, start, seed: prepared.spec.seed }, data?.rows);
      if (data) {
        report.data = data.description;
        report.rows = data.rows.rows;
      }
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
  o: { betas: number; runs: number; start: 'uniform' | 'data'; seed: number },
  rows: Matrix | undefined,
): Promise<LogZReport> {
  const ais: AISResult = await annealedImportanceSampling(model, {
    betas: o.betas,
    runs: o.runs,
    seed: o.seed,
    start: o.start === 'data' ? 'base-rate' : 'uniform',
    ...(o.start === 'data' && rows !== undefined ? { data: rows } : {}),
  });
  const report: LogZReport = {
    model: file,
    method: 'ais',
    logZ: ais.logZ,
    logZInterval: [ais.lower, ais.upper],
    runs: ais.runs,
    betas: ais.betas,
    start: o.start,
    summedOut: ais.summedOut,
    seed: o.seed,
  };
  if (rows === undefined) return report;
  if (freeEnergyLikelihood(model)) {
    const ll = await aisLogLikelihood(model, rows, { logZ: ais });
    report.logLikelihood = ll.mean;
    report.logLikelihoodInterval = [ll.lower, ll.upper];
  } else {
    const bound = await variationalLowerBound(model, rows, { logZ: ais.logZ });
    report.variationalLowerBound = bound;
    // The bound is linear in log Z: log Z's upper end gives the lower end.
    report.variationalLowerBoundInterval = [bound + ais.logZ - ais.upper, bound + ais.logZ - ais.lower];
  }
  return report;
}

/** The text form: log Z first (the exact form is one line), then the interval and the data's score. */
function formatReport(r: LogZReport, model: string): string {
  const lines: string[] = [];
  const interval = (i: [number, number]) => `[${i[0]}, ${i[1]}]`;
  if (r.method === 'exact') lines.push(`log Z = ${r.logZ} (exact, ${model})`);
  else {
    lines.push(`log Z = ${r.logZ} (ais, ${model})`);
    lines.push(`  +-3 sigma interval ${interval(r.logZInterval!)}; ${r.runs} runs, ${r.betas} betas, ${r.start} start, summed out: ${r.summedOut!.join(', ')}, seed ${r.seed}`);
  }
  if (r.logLikelihood !== undefined) {
    lines.push(`log-likelihood = ${r.logLikelihood} (${r.method === 'exact' ? 'exact' : 'ais estimate'}: mean -F(v) - log Z over ${r.data})`);
    if (r.logLikelihoodInterval) lines.push(`  from the log Z interval ${interval(r.logLikelihoodInterval)}`);
  }
  if (r.variationalLowerBound !== undefined) {
    lines.push(`variational lower bound = ${r.variationalLowerBound} (mean-field bound on the mean log p(v) with the ${r.method} log Z, over ${r.data})`);
    if (r.variationalLowerBoundInterval) lines.push(`  from the log Z interval ${interval(r.variationalLowerBoundInterval)}`);
  }
  return `${lines.join('\n')}\n`;
}
