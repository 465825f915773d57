import {
  FreeEnergyMetric,
  MeanActivationMetric,
  PseudoLikelihoodMetric,
  ReconstructionErrorMetric,
  DEFAULT_AIS_BETAS,
  exactLogLikelihood,
  exactLogZObstacle,
  logLikelihoodSandwich,
  logPartitionSandwich,
  variationalLowerBound,
  forEachChunk,
  monitorSupport,
  type EnergyModel,
  type Metric,
  type MonitoredMetric,
} from '@boltzmann/core';
import { InvalidValueError, createBackend, type Matrix } from '@boltzmann/tensor';
import type { ParsedArgs } from '../args.js';
import { UsageError } from '../args.js';
import type { Command } from '../command.js';
import { Options, describeModel, evaluationRows, greyLevelWarning, numberOption, openModel, precisionOption, prepareSpec, specFileFor, stringOption } from '../common.js';
import type { CliIO } from '../io.js';

/** Default cap on the states enumerated for the exact log-likelihood (20 binary units). */
const EXACT_STATES = 2 ** 20;

/**
 * What `evaluate` measures, by the names metrics.json uses. A metric the model cannot give is
 * absent, and `skipped` says why (core's `monitorSupport`: no pseudo-likelihood without Bernoulli
 * visible units, no free energy on a DBM, no reconstruction with lateral weights...).
 */
export interface Evaluation {
  rows: number;
  reconstructionError?: number;
  freeEnergy?: number;
  pseudoLogLikelihood?: number;
  meanHiddenActivation?: number;
  /** Mean exact log p(v), when the smaller block of layers is small enough to enumerate. */
  exactLogLikelihood?: number;
  /** With --ais (an RBM too large to enumerate): the mean log p(v) between the ends of the log Z sandwich. */
  logLikelihoodSandwich?: [number, number];
  /**
   * With --ais, a model without -F(v) (a DBM): the mean-field bound on the mean log p(v) with the
   * ends of the log Z sandwich; the lower end is a lower bound on the mean log-likelihood.
   */
  variationalLowerBoundSandwich?: [number, number];
  /** With --ais: log Z from below (AIS) and from above (reverse AIS), their gap in nats and the effective sample size. */
  logZ?: { ais: number; reverse: number; lower: number; upper: number; gap: number; agree: boolean; effectiveSampleSize: number; betas: number; runs: number };
  /** What to read before trusting the numbers (also printed to stderr). */
  warnings?: string[];
  /** Why each metric left out was not computed, by name. */
  skipped: Record<string, string>;
}

/**
 * Scores a model on host rows with core's metrics (the exact log-likelihood in float64 on the
 * CPU); each metric the model does not allow is skipped with the reason rather than failing or
 * scoring nonsense.
 */
export async function evaluateModel(model: EnergyModel, rows: Matrix, seed: number, maxStates: number, ais?: { betas: number; runs: number }): Promise<Evaluation> {
  model.layers[0]!.validate(rows, 'evaluation data');
  const score = async (metric: Metric): Promise<number> => {
    try {
      metric.reset();
      await forEachChunk(model, rows, (chunk) => metric.update(chunk));
      return await metric.value();
    } finally {
      metric.dispose();
    }
  };
  const result: Evaluation = { rows: rows.rows, skipped: {} };
  const support = monitorSupport(model);
  const metrics: [MonitoredMetric, () => Metric][] = [
    ['reconstructionError', () => new ReconstructionErrorMetric(model, { seed })],
    ['freeEnergy', () => new FreeEnergyMetric(model)],
    ['pseudoLogLikelihood', () => new PseudoLikelihoodMetric(model, { seed })],
    ['meanHiddenActivation', () => new MeanActivationMetric(model)],
  ];
  for (const [name, make] of metrics) {
    const reason = support[name];
    if (reason === undefined) result[name] = await score(make());
    else result.skipped[name] = reason;
  }
  const exact = await exactMean(model, rows, maxStates);
  if (typeof exact === 'number') result.exactLogLikelihood = exact;
  else result.skipped['exactLogLikelihood'] = exact.skipped;
  const warnings: string[] = [];
  const grey = greyLevelWarning(model, rows, 'the evaluation data');
  if (grey !== undefined) warnings.push(grey);
  if (ais !== undefined && typeof exact !== 'number') {
    const float64 = createBackend('cpu', { precision: 'float64' });
    try {
      const s = await logPartitionSandwich(model, { baseRate: rows, betas: ais.betas, runs: ais.runs, seed, backend: float64 });
      if (model.bipartition()[0]!.length === 1) {
        const ll = await logLikelihoodSandwich(model, rows, s, { backend: float64 });
        result.logLikelihoodSandwich = [ll.lower, ll.upper];
      } else {
        // No -F(v) for a DBM: the mean-field bound, linear in log Z, between the sandwich's ends.
        const bound = await variationalLowerBound(model, rows, { logZ: 0, backend: float64 });
        result.variationalLowerBoundSandwich = [bound - s.upper, bound - s.lower];
      }
      result.logZ = { ais: s.lowerEstimate, reverse: s.upperEstimate, lower: s.lower, upper: s.upper, gap: s.gap, agree: s.agree, effectiveSampleSize: s.forward.effectiveSampleSize, betas: s.forward.betas, runs: s.forward.runs };
      warnings.push(...s.warnings);
    } finally {
      float64.destroy();
    }
  }
  if (warnings.length > 0) result.warnings = warnings;
  return result;
}

/** The mean exact log-likelihood, or why it was not computed. */
async function exactMean(model: EnergyModel, rows: Matrix, maxStates: number): Promise<number | { skipped: string }> {
  const obstacle = exactLogZObstacle(model, maxStates);
  if (obstacle !== undefined) return { skipped: obstacle };
  const float64 = createBackend('cpu', { precision: 'float64' });
  try {
    return await exactLogLikelihood(model, rows, { maxStates, backend: float64 });
  } catch (error) {
    // Models the exact computation refuses (a DBM, approximate log-partitions) say why.
    if (error instanceof InvalidValueError) return { skipped: error.message };
    throw error;
  } finally {
    float64.destroy();
  }
}

export const evaluateCommand: Command = {
  def: {
    name: 'evaluate',
    brief: 'print metrics of a saved model on a data set',
    summary: 'Print metrics of a saved model on a data set: reconstruction error, mean free energy, pseudo-log-likelihood, mean hidden activation, and the exact log-likelihood when the smaller layer can be enumerated. A metric the model does not allow (the pseudo-likelihood without Bernoulli visible units, the free energy of a DBM...) is shown as n/a with the reason (in --json: "skipped").',
    positionals: ['<model.json>', '[spec.json]'],
    options: [
      Options.data,
      Options.split,
      Options.limit,
      { name: 'max-states', kind: 'integer', value: 'N', help: `enumerate at most N states for the exact log-likelihood (default ${EXACT_STATES})` },
      { name: 'ais', kind: 'boolean', help: 'a model too large to enumerate: also log Z between the two sides of the AIS sandwich and the log-likelihood between them (a DBM: the mean-field bound with its ends) (float64; minutes for a large model)' },
      { name: 'betas', kind: 'integer', value: 'N', help: `--ais: intermediate distributions (default ${DEFAULT_AIS_BETAS})` },
      { name: 'runs', kind: 'integer', value: 'N', help: '--ais: forward runs, each starting one reverse chain (default 100)' },
      Options.json,
      Options.backend,
      Options.precision,
      Options.seed,
      Options.plugin,
      Options.trustPlugins,
    ],
    details: [
      'Without --data the rows come from the run\'s spec (spec.json beside the model, as `train` writes it, or the given spec, or the defaults), split as in training: the held-out rows unless --split says otherwise.',
      'Example: boltzmann evaluate out/model.json --split train --limit 2000',
    ],
  },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const modelFile = args.positionals[0]!;
    const prepared = await prepareSpec(specFileFor(modelFile, args.positionals[1], io), { backend: stringOption(args, 'backend'), precision: precisionOption(args), seed: numberOption(args, 'seed') }, args, io, { besideModel: args.positionals[1] === undefined });
    const opened = openModel(modelFile, prepared, io);
    try {
      const data = await evaluationRows(prepared, args, io);
      const wantsAis = args.options['ais'] === true;
      if (!wantsAis && (args.options['betas'] !== undefined || args.options['runs'] !== undefined)) throw new UsageError('--betas and --runs are options of --ais');
      const betas = numberOption(args, 'betas') ?? DEFAULT_AIS_BETAS;
      const runs = numberOption(args, 'runs') ?? 100;
      if (betas < 1 || runs < 2) throw new UsageError(`--betas must be at least 1 and --runs at least 2, got ${betas} and ${runs}`);
      const result = await evaluateModel(opened.model, data.rows, prepared.spec.seed, numberOption(args, 'max-states') ?? EXACT_STATES, wantsAis ? { betas, runs } : undefined);
      for (const w of result.warnings ?? []) io.stderr.write(`warning: ${w}\n`);
      if (args.options['json'] === true) {
        io.stdout.write(`${JSON.stringify({ model: modelFile, data: data.description, ...result }, null, 2)}\n`);
        return 0;
      }
      const show = (name: keyof Evaluation & string) => {
        const x = result[name];
        return typeof x === 'number' ? fmt(x) : `n/a (${result.skipped[name] ?? 'not computed'})`;
      };
      const lines: [string, string][] = [
        ['model', `${modelFile} (${describeModel(opened.model)})`],
        ['data', data.description],
        ['reconstruction error', show('reconstructionError')],
        ['free energy', show('freeEnergy')],
        ['pseudo-log-likelihood', show('pseudoLogLikelihood')],
        ['mean hidden activation', show('meanHiddenActivation')],
        ['exact log-likelihood', show('exactLogLikelihood')],
      ];
      if (result.logLikelihoodSandwich) lines.push(['log-likelihood (AIS)', `between ${fmt(result.logLikelihoodSandwich[0])} and ${fmt(result.logLikelihoodSandwich[1])}`]);
      if (result.variationalLowerBoundSandwich) {
        const [lo, hi] = result.variationalLowerBoundSandwich;
        lines.push(['log-likelihood (AIS)', `at least ${fmt(lo)} (mean-field bound with log Z's upper end; ${fmt(hi)} with its lower end)`]);
      }
      if (result.logZ) {
        const z = result.logZ;
        lines.push(['log Z', `between ${fmt(z.lower)} and ${fmt(z.upper)} (AIS ${fmt(z.ais)} from below, reverse AIS ${fmt(z.reverse)} from above, ${z.agree ? 'agreeing' : `DISAGREEING by ${fmt(z.gap)} nats`}; effective sample size ${z.effectiveSampleSize.toFixed(1)} of ${z.runs}, ${z.betas} betas)`]);
      }
      for (const [k, v] of lines) io.stdout.write(`${k.padEnd(24)}${v}\n`);
      return 0;
    } finally {
      opened.dispose();
    }
  },
};

function fmt(x: number): string {
  return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(4) : x.toFixed(4);
}
