import { resolve } from 'node:path';
import { buildSampler } from '@boltzmann/container';
import type { ParsedArgs } from '../args.js';
import { UsageError } from '../args.js';
import type { Command } from '../command.js';
import { Options, evaluationRows, numberOption, openModel, parseSamplerOption, precisionOption, prepareSpec, specFileFor, stringOption } from '../common.js';
import type { CliIO } from '../io.js';
import { imageShapeFor, parseImageShape, writeSamples } from '../outputs/images.js';
import { prepareOutputFile } from '../run-folder.js';

export const sampleCommand: Command = {
  def: {
    name: 'sample',
    brief: 'write samples of a saved model as a PNG grid (block Gibbs, or --sampler)',
    summary: 'Draw samples of the visible units of a saved model with the run spec\'s sampler (block Gibbs unless output.samples.sampler or --sampler says otherwise) and write them as a PNG grid.',
    positionals: ['<model.json>'],
    options: [
      { name: 'count', kind: 'integer', value: 'N', help: 'number of chains / images (default 100)' },
      { name: 'steps', kind: 'integer', value: 'N', help: 'sweeps per chain (default 1000)' },
      Options.sampler,
      { name: 'out', kind: 'string', value: 'FILE', help: 'the PNG to write (default samples.png)' },
      { name: 'binary', kind: 'boolean', help: 'draw binary visible states instead of their probabilities' },
      { name: 'image-shape', kind: 'string', value: 'HxW', help: 'height x width of one image (default: the data\'s, else square when the visible size is a square)' },
      { name: 'init', kind: 'string', value: 'FROM', help: 'start the chains at "random" units (default) or at "data" rows (see --data, --split)' },
      Options.data,
      Options.split,
      Options.seed,
      Options.backend,
      Options.precision,
      Options.plugin,
      Options.trustPlugins,
    ],
    details: [
      'With --init data the chains start at the rows `evaluate` would score (the held-out rows of the run\'s spec, or --data).',
      'Samplers: "gibbs" needs layers that split into two blocks (RBMs, DBMs); "glauber" samples any graph of binary units, lateral weights included, at "temperature" (default 1); "parallel-dynamics" updates every unit at once (fast, but not guaranteed to reach the model\'s distribution). See packages/container/SPEC.md, Samplers.',
      'Examples:\n  boltzmann sample out/model.json --count 64 --steps 2000 --init data --out out/more-samples.png\n  boltzmann sample bm.json --sampler glauber\n  boltzmann sample bm.json --sampler \'{"type":"glauber","temperature":0.5}\' --binary',
    ],
  },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const modelFile = args.positionals[0]!;
    const count = numberOption(args, 'count') ?? 100;
    const steps = numberOption(args, 'steps') ?? 1000;
    if (count < 1 || count > 10000) throw new UsageError(`--count must be in [1, 10000], got ${count}`);
    if (steps < 0) throw new UsageError(`--steps must be >= 0, got ${steps}`);
    const init = stringOption(args, 'init') ?? 'random';
    if (init !== 'random' && init !== 'data') throw new UsageError(`--init must be random or data, got "${init}"`);
    const samplerText = stringOption(args, 'sampler');
    const prepared = await prepareSpec(
      specFileFor(modelFile, undefined, io),
      { backend: stringOption(args, 'backend'), precision: precisionOption(args), ...(samplerText === undefined ? {} : { sampler: parseSamplerOption(samplerText) }) },
      args,
      io,
      { besideModel: true },
    );
    const opened = openModel(modelFile, prepared, io);
    try {
      const model = opened.model;
      const sampler = buildSampler(prepared.container, model, prepared.spec);
      const rows = init === 'data' ? await evaluationRows(prepared, args, io) : undefined;
      const given = stringOption(args, 'image-shape');
      const shape = imageShapeFor(model.layers[0]!.size, given === undefined ? rows?.imageShape : parseImageShape(given));
      const out = resolve(io.cwd, stringOption(args, 'out') ?? 'samples.png');
      const cleaned = prepareOutputFile(out);
      if (cleaned !== undefined) io.stderr.write(`boltzmann: ${cleaned}\n`);
      const seed = numberOption(args, 'seed');
      await writeSamples(out, sampler, { count, steps, ...(seed === undefined ? {} : { seed }), binary: args.options['binary'] === true, ...(rows ? { init: rows.rows } : {}) }, shape);
      io.stdout.write(`wrote ${out} (${count} samples after ${sampler.describe(steps)} from ${rows ? rows.description : 'random units'})\n`);
      return 0;
    } finally {
      opened.dispose();
    }
  },
};
