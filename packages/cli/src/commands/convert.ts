import { resolve } from 'node:path';
import { isRawRBMDescription, saveModel, saveRawRBM } from '@boltzmann/core';
import type { ParsedArgs } from '../args.js';
import { UsageError } from '../args.js';
import type { Command } from '../command.js';
import { Options, describeModel, openModel, prepareSpec, requireRBM, stringOption } from '../common.js';
import type { CliIO } from '../io.js';
import { prepareOutputFile } from '../run-folder.js';

/** `boltzmann convert`: a native model file to the raw interop format (INTEROP.md), or back. */
export const convertCommand: Command = {
  def: {
    name: 'convert',
    brief: 'convert a model between the native file and the raw interop format',
    summary:
      'Read a model in either format and write it in the other: a native model file becomes a raw RBM description (JSON) with one little-endian array file per parameter beside it, for numpy, scikit-learn or PyTorch; a raw RBM description (weights trained elsewhere) becomes a native model file that every command reads.',
    positionals: ['<in.json>', '<out.json>'],
    options: [
      { name: 'dtype', kind: 'string', value: 'T', help: 'raw output: float32 or float64 values (default float64, no rounding)' },
      Options.plugin,
    ],
    details: [
      'The parameters are read in float64, so nothing is rounded on the way unless --dtype float32 asks for it. Only an RBM has a raw form.',
      'Example: boltzmann convert sklearn/rbm.json model.json    (then: boltzmann logz model.json --data fashion-mnist)',
    ],
  },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const [input, output] = [args.positionals[0]!, args.positionals[1]!];
    const dtype = stringOption(args, 'dtype') ?? 'float64';
    if (dtype !== 'float32' && dtype !== 'float64') throw new UsageError(`--dtype must be float32 or float64, got "${dtype}"`);
    const toRaw = !isRawRBMDescription(resolve(io.cwd, input));
    if (!toRaw && args.options['dtype'] !== undefined) throw new UsageError('--dtype chooses the values of raw output; this input is raw already and becomes a native model file');
    const prepared = await prepareSpec(undefined, { backend: 'cpu', precision: 'float64' }, args, io);
    const opened = openModel(input, prepared, io);
    try {
      const out = resolve(io.cwd, output);
      const cleaned = prepareOutputFile(out);
      if (cleaned !== undefined) io.stderr.write(`boltzmann: ${cleaned}\n`);
      if (toRaw) await saveRawRBM(out, requireRBM(opened.model, 'convert'), { dtype });
      else await saveModel(out, opened.model);
      io.stdout.write(`wrote ${out}: ${toRaw ? `raw RBM description (${dtype} arrays beside it)` : 'model file'} of ${describeModel(opened.model)}\n`);
      return 0;
    } finally {
      opened.dispose();
    }
  },
};
