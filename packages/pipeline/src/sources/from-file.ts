import { readCsv, readIdxImages, type CsvOptions } from '@boltzmann/data';
import { InvalidValueError, type Matrix } from '@boltzmann/tensor';
import type { Observable } from 'rxjs';
import { demandDriven } from '../demand-driven.js';

/** Options of `fromFile`. */
export interface FromFileOptions {
  /** "idx" (MNIST-style image files, values byte / 255) or "csv"; default from the name (.csv[.gz] is CSV, else IDX). */
  format?: 'idx' | 'csv';
  /** Rows per emitted matrix; default 1. */
  batchSize?: number;
  /** CSV options (header, label column to leave out, delimiter, precision), passed to @boltzmann/data's readCsv. */
  csv?: CsvOptions;
}

/**
 * The rows of an IDX image file (raw or .gz; values byte / 255 in [0, 1]) or a numeric CSV file
 * (raw or .gz), read through @boltzmann/data when a subscriber arrives (a missing or corrupt file
 * is a FormatError on the stream, naming the file) and then emitted on demand, one row (or
 * `batchSize` rows) at a time.
 */
export function fromFile(path: string, options: FromFileOptions = {}): Observable<Matrix> {
  if (typeof path !== 'string' || path === '') throw new InvalidValueError('fromFile needs a file path');
  const format = options.format ?? (/\.csv(\.gz)?$/i.test(path) ? 'csv' : 'idx');
  if (format !== 'idx' && format !== 'csv') throw new InvalidValueError(`fromFile: format must be "idx" or "csv", got ${String(format)}`);
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidValueError(`fromFile: batchSize must be a positive integer, got ${batchSize}`);
  return demandDriven<Matrix>(function* () {
    const m = format === 'csv' ? readCsv(path, options.csv).data : readIdxImages(path);
    for (let start = 0; start < m.rows; start += batchSize) yield m.sliceRows(start, Math.min(m.rows, start + batchSize));
  });
}
