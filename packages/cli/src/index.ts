/**
 * @boltzmann/cli: the `boltzmann` command (train / evaluate / sample / transform / logz / convert / watch / info) as a
 * library, so it runs in-process (tests, notebooks) as well as from packages/cli/src/main.ts.
 */
export { runCli, mainHelp, COMMANDS } from './cli.js';
export type { Command } from './command.js';
export type { CliIO, TextSink } from './io.js';
export { processIO } from './io.js';
export { parseArgs, commandHelp, UsageError, type CommandDef, type OptionDef, type ParsedArgs } from './args.js';
export { evaluateModel, type Evaluation } from './commands/evaluate.js';
export { TRAIN_OUTPUTS } from './commands/train.js';
export { infoReport, formatInfo, type InfoReport, type BackendInfo } from './commands/info.js';
export { plotSvg, niceTicks, type PlotPanel, type PlotSeries, type PlotOptions } from './outputs/svg-plot.js';
export { encodeNpy, decodeNpy, encodeCsv } from './outputs/npy.js';
export { imageShapeFor, parseImageShape, writeFilters, writeReconstructions, writeSamples, type ImageShape } from './outputs/images.js';
export { METRICS_FORMAT, type MetricsDocument, type EpochRecord } from './outputs/metrics-files.js';
