import { exactLogPartition } from '@boltzmann/core';
import { createBackend } from '@boltzmann/tensor';
import type { ParsedArgs } from '../args.js';
import { UsageError } from '../args.js';
import type { Command } from '../command.js';
import { Options, describeModel, numberOption, openModel, prepareSpec, specFileFor } from '../common.js';
import type { CliIO } from '../io.js';

/** Default cap on enumerated states (25 binary units, core's MAX_EXACT_STATES). */
const DEFAULT_MAX_STATES = 2 ** 25;

export const logzCommand: Command = {
  def: {
    name: 'logz',
    brief: 'print the exact log partition function of a small model',
    summary: 'Print the log partition function log Z of a saved model, exactly: every state of the smaller block of layers is enumerated (the other summed out), in float64.',
    positionals: ['<model.json>'],
    options: [
      { name: 'method', kind: 'string', value: 'M', help: 'exact (default); AIS is not available yet' },
      { name: 'max-states', kind: 'integer', value: 'N', help: `refuse to enumerate more than N states (default 2^25 = ${DEFAULT_MAX_STATES})` },
      Options.json,
      Options.plugin,
    ],
    details: ['Exact log Z is for small models: an RBM whose smaller layer has up to about 25 binary units.'],
  },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const method = typeof args.options['method'] === 'string' ? args.options['method'] : 'exact';
    if (method !== 'exact') {
      throw new UsageError(`--method ${method}: only "exact" is available (annealed importance sampling is not in @boltzmann/core yet)`);
    }
    const modelFile = args.positionals[0]!;
    const maxStates = numberOption(args, 'max-states') ?? DEFAULT_MAX_STATES;
    if (maxStates < 1) throw new UsageError(`--max-states must be at least 1, got ${maxStates}`);
    const prepared = await prepareSpec(specFileFor(modelFile, undefined, io), {}, args, io);
    const opened = openModel(modelFile, prepared, io);
    const float64 = createBackend('cpu', { precision: 'float64' });
    try {
      const logZ = await exactLogPartition(opened.model, { maxStates, backend: float64 });
      if (args.options['json'] === true) io.stdout.write(`${JSON.stringify({ model: modelFile, method, logZ })}\n`);
      else io.stdout.write(`log Z = ${logZ} (exact, ${describeModel(opened.model)})\n`);
      return 0;
    } finally {
      float64.destroy();
      opened.dispose();
    }
  },
};
