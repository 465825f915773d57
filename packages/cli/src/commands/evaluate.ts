import {
  FreeEnergyMetric,
  MeanActivationMetric,
  PseudoLikelihoodMetric,
  ReconstructionErrorMetric,
  exactLogLikelihood,
  forEachChunk,
  type EnergyModel,
  type Metric,
} from '@boltzmann/core';
import { createBackend, type Matrix } from '@boltzmann/tensor';
import type { ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { Options, describeModel, evaluationRows, numberOption, openModel, precisionOption, prepareSpec, specFileFor, stringOption } from '../common.js';
import type { CliIO } from '../io.js';

/** Default cap on the states enumerated for the exact log-likelihood (20 binary units). */
const EXACT_STATES = 2 ** 20;

/** What `evaluate` measures, by the names metrics.json uses. */
export interface Evaluation {
  rows: number;
  reconstructionError: number;
  freeEnergy: number;
  pseudoLogLikelihood: number;
  meanHiddenActivation: number;
  /** Mean exact log p(v), when the smaller layer is small enough to enumerate. */
  exactLogLikelihood?: number;
}

/** Scores a model on host rows with core's metrics (the exact log-likelihood in float64 on the CPU). */
export async function evaluateModel(model: EnergyModel, rows: Matrix, seed: number, maxStates: number): Promise<Evaluation> {
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
  const result: Evaluation = {
    rows: rows.rows,
    reconstructionError: await score(new ReconstructionErrorMetric(model, { seed })),
    freeEnergy: await score(new FreeEnergyMetric(model)),
    pseudoLogLikelihood: await score(new PseudoLikelihoodMetric(model, { seed })),
    meanHiddenActivation: await score(new MeanActivationMetric(model)),
  };
  const [a, b] = model.bipartition();
  const states = Math.min(...[a!, b!].map((block) => block.reduce((n, l) => n * model.layers[l]!.stateCount, 1)));
  if (states <= maxStates) {
    const float64 = createBackend('cpu', { precision: 'float64' });
    try {
      result.exactLogLikelihood = await exactLogLikelihood(model, rows, { maxStates, backend: float64 });
    } finally {
      float64.destroy();
    }
  }
  return result;
}

export const evaluateCommand: Command = {
  def: {
    name: 'evaluate',
    brief: 'print metrics of a saved model on a data set',
    summary: 'Print metrics of a saved model on a data set: reconstruction error, mean free energy, pseudo-log-likelihood, mean hidden activation, and the exact log-likelihood when the smaller layer can be enumerated.',
    positionals: ['<model.json>', '[spec.json]'],
    options: [
      Options.data,
      Options.split,
      Options.limit,
      { name: 'max-states', kind: 'integer', value: 'N', help: `enumerate at most N states for the exact log-likelihood (default ${EXACT_STATES})` },
      Options.json,
      Options.backend,
      Options.precision,
      Options.seed,
      Options.plugin,
    ],
    details: [
      'Without --data the rows come from the run\'s spec (spec.json beside the model, as `train` writes it, or the given spec, or the defaults), split as in training: the held-out rows unless --split says otherwise.',
      'Example: boltzmann evaluate out/model.json --split train --limit 2000',
    ],
  },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const modelFile = args.positionals[0]!;
    const prepared = await prepareSpec(specFileFor(modelFile, args.positionals[1], io), { backend: stringOption(args, 'backend'), precision: precisionOption(args), seed: numberOption(args, 'seed') }, args, io);
    const opened = openModel(modelFile, prepared, io);
    try {
      const data = await evaluationRows(prepared, args, io);
      const result = await evaluateModel(opened.model, data.rows, prepared.spec.seed, numberOption(args, 'max-states') ?? EXACT_STATES);
      if (args.options['json'] === true) {
        io.stdout.write(`${JSON.stringify({ model: modelFile, data: data.description, ...result }, null, 2)}\n`);
        return 0;
      }
      const lines: [string, string][] = [
        ['model', `${modelFile} (${describeModel(opened.model)})`],
        ['data', data.description],
        ['reconstruction error', fmt(result.reconstructionError)],
        ['free energy', fmt(result.freeEnergy)],
        ['pseudo-log-likelihood', fmt(result.pseudoLogLikelihood)],
        ['mean hidden activation', fmt(result.meanHiddenActivation)],
        ['exact log-likelihood', result.exactLogLikelihood === undefined ? 'n/a (the smaller layer has too many states; see --max-states)' : fmt(result.exactLogLikelihood)],
      ];
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
