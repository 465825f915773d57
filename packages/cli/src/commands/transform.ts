import { extname, resolve } from 'node:path';
import { writeFileAtomic } from '@boltzmann/tensor';
import type { ParsedArgs } from '../args.js';
import { UsageError } from '../args.js';
import type { Command } from '../command.js';
import { Options, evaluationRows, numberOption, openModel, precisionOption, prepareSpec, requireRBM, specFileFor, stringOption } from '../common.js';
import type { CliIO } from '../io.js';
import { encodeCsv, encodeNpy } from '../outputs/npy.js';
import { prepareOutputFile } from '../run-folder.js';

export const transformCommand: Command = {
  def: {
    name: 'transform',
    brief: 'write the hidden features of a saved RBM (CSV or .npy)',
    summary: 'Write the hidden features E[h | v] of a saved RBM for each row of a data set, as CSV or as a NumPy .npy file.',
    positionals: ['<model.json>', '[spec.json]'],
    options: [
      { name: 'out', kind: 'string', value: 'FILE', help: 'the file to write (default features.csv); a .npy name selects the binary format' },
      { name: 'format', kind: 'string', value: 'F', help: 'csv or npy (default: from the file name)' },
      Options.data,
      Options.split,
      Options.limit,
      Options.backend,
      Options.precision,
      Options.seed,
      Options.plugin,
      Options.trustPlugins,
    ],
    details: [
      'CSV: a header h0,h1,... then one line per example, one column per hidden unit.',
      ".npy: NumPy format 1.0 - magic \\x93NUMPY, bytes 1 0, a little-endian uint16 header length, the header {'descr': '<f4', 'fortran_order': False, 'shape': (rows, hidden), } padded to a multiple of 64 bytes, then rows x hidden little-endian float32 values, row-major (float64 '<f8' with --precision float64). numpy.load reads it.",
      'Rows come from --data, or from the run\'s spec as in `evaluate`.',
    ],
  },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const modelFile = args.positionals[0]!;
    const out = resolve(io.cwd, stringOption(args, 'out') ?? 'features.csv');
    const format = stringOption(args, 'format') ?? (extname(out).toLowerCase() === '.npy' ? 'npy' : 'csv');
    if (format !== 'csv' && format !== 'npy') throw new UsageError(`--format must be csv or npy, got "${format}"`);
    const prepared = await prepareSpec(specFileFor(modelFile, args.positionals[1], io), { backend: stringOption(args, 'backend'), precision: precisionOption(args), seed: numberOption(args, 'seed') }, args, io, { besideModel: args.positionals[1] === undefined });
    const opened = openModel(modelFile, prepared, io);
    try {
      const rbm = requireRBM(opened.model, 'transform');
      const data = await evaluationRows(prepared, args, io);
      const features = await rbm.transform(data.rows);
      const cleaned = prepareOutputFile(out);
      if (cleaned !== undefined) io.stderr.write(`boltzmann: ${cleaned}\n`);
      const names = Array.from({ length: features.cols }, (_, j) => `h${j}`);
      writeFileAtomic(out, format === 'npy' ? encodeNpy(features) : encodeCsv(features, names));
      io.stdout.write(`wrote ${out}: ${features.rows} x ${features.cols} features (${format}) of ${data.description}\n`);
      return 0;
    } finally {
      opened.dispose();
    }
  },
};
