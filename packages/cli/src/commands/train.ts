import { copyFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { resolveRun, type ResolvedRun, type RunData, type RunSpec, type StreamRunData } from '@boltzmann/container';
import { evenlySpaced, saveModel, type SplitValue } from '@boltzmann/core';
import { JsonlLogger, ProgressBar, eventAddress, openEventSink, train, type EventPublisher, type TrainOptions, type TrainingEvent, type TrainingSession, type TrainingSummary } from '@boltzmann/pipeline';
import { Matrix, writeFileAtomic, type Tensor } from '@boltzmann/tensor';
import { UsageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { Options, describeBackend, describeModel, noteNativeFallback, numberOption, parseDataOption, parseEventsOption, parseSamplerOption, precisionOption, prepareSpec, specFileFor, stringOption, type PreparedSpec } from '../common.js';
import type { CliIO } from '../io.js';
import { imageShapeFor, writeFilters, writeReconstructions, writeSamples } from '../outputs/images.js';
import { METRICS_FORMAT, epochRecord, metricsPanels, previousReports, type EpochRecord, type MetricsDocument } from '../outputs/metrics-files.js';
import { plotSvg } from '../outputs/svg-plot.js';
import { RunFolder, folderOfModel } from '../run-folder.js';

/** The files `train` writes into the output directory. */
export const TRAIN_OUTPUTS = {
  model: 'model.json',
  spec: 'spec.json',
  jsonl: 'metrics.jsonl',
  metrics: 'metrics.json',
  plot: 'metrics.svg',
  filters: 'filters.png',
  reconstructions: 'reconstructions.png',
  samples: 'samples.png',
} as const;

export const trainCommand: Command = {
  def: {
    name: 'train',
    brief: 'train a model from a run spec (default: an RBM on the bundled MNIST digits)',
    summary: 'Train the model a run spec describes (default: a Bernoulli RBM on the 10,000 bundled MNIST digits), with a progress bar on stderr, and write the model, metrics and pictures to the output directory.',
    positionals: ['[spec.json|spec.yaml]'],
    options: [
      { name: 'out', kind: 'string', value: 'DIR', help: 'output directory (default: the spec\'s output.dir, "out")' },
      { name: 'epochs', kind: 'integer', value: 'N', help: 'total epochs (training.epochs)' },
      { name: 'batch-size', kind: 'integer', value: 'N', help: 'rows per minibatch (training.batchSize)' },
      { name: 'learning-rate', kind: 'number', value: 'X', help: 'constant learning rate (training.learningRate)' },
      { name: 'hidden', kind: 'integer', value: 'N', help: 'size of the layer named "hidden" (model.layers)' },
      Options.data,
      { name: 'limit', kind: 'integer', value: 'N', help: 'use only N rows of the data (data.limit)' },
      Options.seed,
      Options.backend,
      Options.precision,
      Options.sampler,
      Options.plugin,
      Options.trustPlugins,
      { name: 'events', kind: 'string', value: 'ADDRESS', help: 'publish the run\'s events to a broker as it trains (output.events): redis://HOST:PORT/STREAM or nats://HOST:PORT/SUBJECT; follow them with "boltzmann watch ADDRESS"' },
      { name: 'resume', kind: 'string', value: 'FILE', help: 'continue the run saved in FILE (a model.json written by train) up to the spec\'s epochs (or --epochs), writing beside FILE (or into --out)' },
      { name: 'allow-changes', kind: 'boolean', help: 'with --resume: let --data, --limit, --backend and --precision differ from the resumed run (recorded in the new spec.json)' },
      { name: 'quiet', kind: 'boolean', help: 'no progress output' },
      { name: 'dry-run', kind: 'boolean', help: 'check the spec and print it in full (defaults filled in) without training' },
    ],
    details: [
      `Writes to the output directory (each file atomically): ${TRAIN_OUTPUTS.model} (the model with its training state; resumable), ${TRAIN_OUTPUTS.spec} (the full spec), ${TRAIN_OUTPUTS.jsonl} (one line per event), ${TRAIN_OUTPUTS.metrics} (per-epoch reconstruction error, free energy train vs held-out, pseudo-log-likelihood), ${TRAIN_OUTPUTS.plot} (those over epochs), ${TRAIN_OUTPUTS.filters}, ${TRAIN_OUTPUTS.reconstructions} and ${TRAIN_OUTPUTS.samples}.`,
      'The spec format is documented in packages/container/SPEC.md; options given here replace its fields.',
      'Examples:\n  boltzmann train\n  boltzmann train spec.json --epochs 5 --out runs/a\n  boltzmann train --resume out/model.json --epochs 20\n  boltzmann train examples/custom-unit-plugin/spec.json --plugin ./examples/custom-unit-plugin',
    ],
  },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const resume = stringOption(args, 'resume');
    if (resume !== undefined) checkResumeOptions(args);
    const specFile = resume !== undefined ? specFileFor(resume, args.positionals[0], io) : args.positionals[0];
    const data = stringOption(args, 'data');
    const sampler = stringOption(args, 'sampler');
    const events = stringOption(args, 'events');
    const prepared = await prepareSpec(
      specFile,
      {
        out: stringOption(args, 'out'),
        epochs: numberOption(args, 'epochs'),
        batchSize: numberOption(args, 'batch-size'),
        learningRate: numberOption(args, 'learning-rate'),
        hidden: numberOption(args, 'hidden'),
        limit: numberOption(args, 'limit'),
        seed: numberOption(args, 'seed'),
        backend: stringOption(args, 'backend'),
        precision: precisionOption(args),
        ...(data === undefined ? {} : { data: parseDataOption(data) }),
        ...(sampler === undefined ? {} : { sampler: parseSamplerOption(sampler) }),
        ...(events === undefined ? {} : { events: parseEventsOption(events) }),
      },
      args,
      io,
      { besideModel: resume !== undefined },
    );
    const spec = savedSpec(prepared);
    if (args.options['dry-run'] === true) {
      io.stdout.write(`${JSON.stringify(spec, null, 2)}\n`);
      return 0;
    }
    // A resumed run writes beside the model it resumes (or where --out says), never into the output.dir its old spec names.
    const resumePath = resume === undefined ? undefined : resolve(io.cwd, resume);
    const outOption = stringOption(args, 'out');
    const out = resumePath !== undefined && outOption === undefined ? folderOfModel(resumePath) : resolve(io.cwd, spec.output.dir);
    const recorded: RunSpec = { ...spec, output: { ...spec.output, dir: resumePath !== undefined && outOption === undefined ? relative(io.cwd, out) || '.' : spec.output.dir } };
    const folder = RunFolder.acquire(out, `boltzmann train${resume === undefined ? '' : ' --resume'}`, { keepStaging: resumePath !== undefined && resumePath.startsWith(join(out, '.partial')) });
    try {
      const run = await resolveRun(prepared.container, prepared.spec, { ...(resumePath === undefined ? {} : { resume: resumePath }), baseDir: prepared.baseDir, streams: true });
      try {
        return await trainRun(run, recorded, folder, args, io);
      } finally {
        run.dispose();
      }
    } finally {
      folder.release();
    }
  },
};

/** The spec as saved beside the model: plugins as loaded (paths absolute), so evaluate/sample find them. */
function savedSpec(prepared: PreparedSpec): RunSpec {
  return { ...prepared.spec, plugins: prepared.container.plugins.map((p) => p.specifier) };
}

/**
 * Options that would make a resumed run another run: the training config comes from the model
 * file (so --learning-rate, --batch-size, --seed, --hidden and a spec file are refused), and the
 * data and backend stay those of the run unless --allow-changes says otherwise.
 */
function checkResumeOptions(args: ParsedArgs): void {
  const fixed = ['learning-rate', 'batch-size', 'seed', 'hidden', 'sampler'].filter((o) => args.options[o] !== undefined);
  if (fixed.length > 0) {
    throw new UsageError(`--resume continues the run saved in the model file, whose training settings it keeps: ${fixed.map((o) => `--${o}`).join(', ')} would make it another run (start a new run instead)`);
  }
  if (args.positionals[0] !== undefined) throw new UsageError('--resume takes the spec saved beside the model (spec.json); a spec file argument would make it another run');
  const changes = ['data', 'limit', 'backend', 'precision'].filter((o) => args.options[o] !== undefined);
  if (changes.length > 0 && args.options['allow-changes'] !== true) {
    throw new UsageError(`${changes.map((o) => `--${o}`).join(', ')} would change the resumed run (the same minibatches no longer follow); add --allow-changes to do it anyway (the new spec.json records it)`);
  }
}

async function trainRun(run: ResolvedRun<RunData | StreamRunData>, spec: RunSpec, folder: RunFolder, args: ParsedArgs, io: CliIO): Promise<number> {
  // Everything is written into the staging folder and moved into the output folder together at the end.
  const file = (name: string) => folder.staged(name);
  const show = (p: string) => {
    const r = relative(io.cwd, p);
    return r === '' ? '.' : r.startsWith('..') ? p : r;
  };
  const quiet = args.options['quiet'] === true;
  const say = (line: string) => {
    if (!quiet) io.stderr.write(`${line}\n`);
  };
  for (const note of folder.notes) say(`${show(folder.dir)}: ${note}`);
  writeFileAtomic(file(TRAIN_OUTPUTS.spec), `${JSON.stringify(spec, null, 2)}\n`);
  const jsonl = file(TRAIN_OUTPUTS.jsonl);
  // A resumed run continues the log of the run it resumes (a fresh run starts a fresh one).
  const previousLog = folder.final(TRAIN_OUTPUTS.jsonl);
  if (run.resumed && !existsSync(jsonl) && existsSync(previousLog)) copyFileSync(previousLog, jsonl);
  const earlier = previousReports(jsonl, run.trainer.epoch).map((r) => epochRecord(r));

  noteNativeFallback(run.backend, io);
  say(`model: ${describeModel(run.model)}; backend ${describeBackend(run.backend)}`);
  const stream = run.data.stream;
  const stepsPerEpoch = spec.training.stepsPerEpoch;
  if (stream !== undefined) say(`data: ${run.data.description}: epochs of ${stepsPerEpoch} steps of ${spec.training.batchSize} rows, read as the trainer takes them`);
  else say(`data: ${run.data.description}: ${run.data.train!.rows} training rows, ${run.data.validation?.rows ?? 0} held out`);
  if (run.resumed) say(`resuming at epoch ${run.trainer.epoch} of ${spec.training.epochs}`);
  for (const { name, reason } of run.skippedMetrics) say(`not scoring ${name}: ${reason}`);
  if (run.samplesSkipped !== undefined) say(`not drawing ${TRAIN_OUTPUTS.samples}: ${run.samplesSkipped}`);

  const options: TrainOptions = { monitor: run.monitor };
  // A stream's messages are acknowledged by the run's checkpoints, its last one included.
  if (spec.training.checkpointEvery > 0) options.checkpoint = { path: file(TRAIN_OUTPUTS.model), everyEpochs: spec.training.checkpointEvery, final: stream !== undefined };
  // A refused message is said even with --quiet: it is data that did not train.
  if (stream !== undefined) options.onRefused = (m) => io.stderr.write(`refused entry ${m.id} of ${stream.description}: ${m.reason}; moved to "${m.deadLetter}"\n`);
  if (spec.training.earlyStopping !== null) options.earlyStopping = { ...spec.training.earlyStopping };
  // Live metrics on the bar: a sliding window scored every 10 steps (only drawn on a terminal).
  if (!quiet && io.stderr.isTTY === true) options.window = { size: 20, every: 10 };
  // An interrupt (io.signal) stops the run between two steps; it still writes its checkpoint and says so.
  if (io.signal !== undefined) options.signal = io.signal;
  const session: TrainingSession =
    stream !== undefined
      ? { model: run.model, trainer: run.trainer, data: stream, stepsPerEpoch: stepsPerEpoch!, epochs: spec.training.epochs }
      : { model: run.model, trainer: run.trainer, data: run.data.trainRows!, ...(run.data.validation ? { validation: run.data.validation } : {}), epochs: spec.training.epochs };
  const events$ = train(session, options);

  // Events to a broker: one that cannot be reached fails the run here, before training.
  const sink = spec.output.events;
  const publisher: EventPublisher | undefined = sink === null ? undefined : await openEventSink(sink);
  if (sink !== null && publisher !== undefined) say(`events: publishing to ${eventAddress(sink)} (run ${publisher.run}); follow with: boltzmann watch ${eventAddress(sink)}`);
  const logger = new JsonlLogger(jsonl, { mode: 'atomic' });
  const bar = quiet ? undefined : new ProgressBar({ stream: io.stderr });
  const extras = new ExtraMetricScorer(run);
  const records: EpochRecord[] = [...earlier];
  const pending: Promise<void>[] = [];
  let summary: TrainingSummary | null = null;
  let lastCheckpoint: string | undefined;

  let outcome: 'done' | 'interrupted';
  // SIGINT/SIGTERM abort io.signal while the loop runs (a second one exits at once); afterwards they end the process.
  const uncatchSignals = io.catchSignals?.();
  try {
    outcome = await new Promise<'done' | 'interrupted'>((resolveRun, reject) => {
      events$.subscribe({
        next: (event: TrainingEvent) => {
          if (event.type === 'epoch-end') {
            // Capture the extra metrics now, on this epoch's parameters; read them back later.
            const scored = extras.capture();
            const index = records.push(epochRecord(event.report)) - 1;
            pending.push(scored.then((extra) => void (records[index] = epochRecord(event.report, extra))));
          }
          if (event.type === 'checkpoint-written') lastCheckpoint = event.path;
          if (event.type === 'finished') summary = event.summary;
          logger.next(event);
          bar?.next(event);
          publisher?.next(event);
        },
        error: (error: unknown) => {
          logger.error(error);
          bar?.error(error);
          publisher?.error(error);
          reject(error);
        },
        complete: () => {
          logger.complete();
          bar?.complete();
          resolveRun((summary as TrainingSummary | null)?.reason === 'cancelled' ? 'interrupted' : 'done');
        },
      });
    });
    await Promise.all(pending);
  } finally {
    uncatchSignals?.();
    await Promise.allSettled(pending);
    extras.dispose();
    if (publisher !== undefined) {
      const sent = await publisher.close();
      say(`events: ${sent.published} published${sent.dropped > 0 ? `, ${sent.dropped} dropped` : ''}${sent.firstError === undefined ? '' : ` (the broker said: ${sent.firstError})`}`);
    }
  }

  const written: string[] = [];
  const writeMetrics = () => {
    const doc: MetricsDocument = {
      format: METRICS_FORMAT,
      version: 1,
      model: describeModel(run.model),
      data: run.data.description,
      trainRows: run.data.train?.rows ?? 0,
      validationRows: run.data.validation?.rows ?? 0,
      backend: describeBackend(run.backend),
      seed: spec.seed,
      epochs: records,
      final: records[records.length - 1] ?? null,
      summary,
    };
    writeFileAtomic(file(TRAIN_OUTPUTS.metrics), `${JSON.stringify(doc, null, 2)}\n`);
    writeFileAtomic(file(TRAIN_OUTPUTS.plot), plotSvg(metricsPanels(records)));
    written.push(TRAIN_OUTPUTS.jsonl, TRAIN_OUTPUTS.metrics, TRAIN_OUTPUTS.plot);
  };
  const modelFile = folder.final(TRAIN_OUTPUTS.model);
  if (outcome === 'interrupted') {
    logger.close();
    const reason = io.signal?.reason;
    let saved = false;
    if (run.trainer.step > 0) {
      try {
        // The loop stopped between two steps: a final checkpoint of that state resumes exactly there (mid-epoch included).
        await saveModel(file(TRAIN_OUTPUTS.model), run.model, run.trainer);
        saved = true;
      } catch (error) {
        say(`could not save a final checkpoint: ${(error as Error).message}`);
      }
    }
    writeMetrics();
    folder.commit();
    const resumable = saved || lastCheckpoint !== undefined;
    say(`interrupted${typeof reason === 'string' ? ` (${reason})` : ''} at step ${run.trainer.step}; ${resumable ? `resume with: boltzmann train --resume ${show(modelFile)}` : 'no checkpoint was written'}`);
    return reason === 'SIGTERM' ? 143 : 130;
  }

  await saveModel(file(TRAIN_OUTPUTS.model), run.model, run.trainer);
  written.unshift(TRAIN_OUTPUTS.model, TRAIN_OUTPUTS.spec);
  writeMetrics();
  const shape = imageShapeFor(run.model.layers[0]!.size, run.data.imageShape);
  if (await writeFilters(file(TRAIN_OUTPUTS.filters), run.model, spec.output.filters, shape)) written.push(TRAIN_OUTPUTS.filters);
  // A stream run keeps no rows: no reconstructions, and chains start at random units.
  const resident = run.data.stream === undefined ? run.data : undefined;
  const shown = resident ? (resident.validation ?? resident.train) : undefined;
  if (shown && (await writeReconstructions(file(TRAIN_OUTPUTS.reconstructions), run.model, shown, spec.output.reconstructions, shape))) written.push(TRAIN_OUTPUTS.reconstructions);
  const { count, steps, init } = spec.output.samples;
  if (run.sampler !== undefined) {
    const fromData = init === 'data' && resident !== undefined && resident.trainRows.mask === undefined;
    say(`drawing ${count} samples (${run.sampler.describe(steps)} from ${fromData ? 'held-out examples' : 'random units'})...`);
    // Rows with missing values (a recommender's unrated items) are no states to start chains at.
    const starts = fromData ? startingRows(shown!, resident.train, count) : undefined;
    await writeSamples(file(TRAIN_OUTPUTS.samples), run.sampler, { count, steps, seed: spec.seed, ...(starts ? { init: starts } : {}) }, shape);
    written.push(TRAIN_OUTPUTS.samples);
  }
  folder.commit();
  io.stdout.write(`wrote ${written.map((w) => show(folder.final(w))).join(', ')}\n`);
  return 0;
}

/** `count` rows to start chains at: the held-out ones first, then training rows, cycling when there are fewer. */
function startingRows(first: Matrix, second: Matrix, count: number): Matrix {
  const pool = first === second ? [first] : [first, second];
  const total = pool.reduce((n, m) => n + m.rows, 0);
  const out = Matrix.zeros(count, first.cols, first.data instanceof Float64Array ? 'float64' : 'float32');
  for (let i = 0; i < count; i++) {
    let k = i % total;
    const m = k < pool[0]!.rows ? pool[0]! : pool[1]!;
    if (m !== pool[0]) k -= pool[0]!.rows;
    out.data.set(m.row(k), i * first.cols);
  }
  return out;
}

/**
 * Scores the spec's extra metrics (those core's trainer does not) at each epoch end on the
 * same evenly spaced training and held-out rows the trainer monitors. `capture` runs the
 * device work at once (so it sees this epoch's parameters before the next step) and reads
 * the numbers back later.
 */
class ExtraMetricScorer {
  private readonly train: Tensor | undefined;
  private readonly validation: Tensor | undefined;

  constructor(private readonly run: ResolvedRun<RunData | StreamRunData>) {
    const be = run.model.backend;
    const rows = run.monitor.rows;
    const pick = (m: Matrix) => be.upload(m.gatherRows(evenlySpaced(m.rows, rows)));
    // A stream run has no extra metrics (resolveRun skips them: no rows are kept).
    this.train = run.extraMetrics.length > 0 && run.data.train ? pick(run.data.train) : undefined;
    this.validation = run.extraMetrics.length > 0 && run.data.validation ? pick(run.data.validation) : undefined;
  }

  capture(): Promise<Record<string, SplitValue>> {
    if (this.train === undefined) return Promise.resolve({});
    const sums = this.run.extraMetrics.map(({ name, metric, heldOut }) => {
      metric.reset();
      metric.update(this.train!);
      const train = metric.value();
      let validation: Promise<number> | undefined;
      if (this.validation && heldOut) {
        heldOut.reset();
        heldOut.update(this.validation);
        validation = heldOut.value();
      }
      return { name, train, validation };
    });
    return (async () => {
      const out: Record<string, SplitValue> = {};
      for (const s of sums) out[s.name] = s.validation ? { train: await s.train, validation: await s.validation } : { train: await s.train };
      return out;
    })();
  }

  /** Frees the uploaded rows (after every capture has been read). */
  dispose(): void {
    const be = this.run.model.backend;
    if (this.train) be.dispose(this.train);
    if (this.validation) be.dispose(this.validation);
  }
}
