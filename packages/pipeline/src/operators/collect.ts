import { InvalidValueError, Matrix, ShapeError } from '@boltzmann/tensor';
import { lastValueFrom, reduce, type Observable } from 'rxjs';

/**
 * Gathers a finite stream of matrices (rows or batches) into one matrix, in order: e.g. a
 * held-out set read from a file stream. An empty stream or mismatched columns are errors.
 */
export async function collectRows(source: Observable<Matrix>, options: { maxRows?: number } = {}): Promise<Matrix> {
  const maxRows = options.maxRows ?? 10_000_000;
  const { parts, rows } = await lastValueFrom(
    source.pipe(
      reduce(
        (acc: { parts: Matrix[]; rows: number }, m: Matrix) => {
          if (!(m instanceof Matrix)) throw new InvalidValueError('collectRows: the stream must carry Matrix values');
          if (acc.parts.length > 0 && m.cols !== acc.parts[0]!.cols) {
            throw new ShapeError(`collectRows: a matrix of ${m.cols} columns follows matrices of ${acc.parts[0]!.cols} columns`);
          }
          acc.parts.push(m);
          acc.rows += m.rows;
          if (acc.rows > maxRows) throw new InvalidValueError(`collectRows: the stream holds more than ${maxRows} rows`);
          return acc;
        },
        { parts: [], rows: 0 },
      ),
    ),
  );
  if (parts.length === 0) throw new InvalidValueError('collectRows: the stream is empty');
  const cols = parts[0]!.cols;
  const out = Matrix.zeros(rows, cols, parts[0]!.data instanceof Float64Array ? 'float64' : 'float32');
  let at = 0;
  for (const m of parts) {
    out.data.set(m.data, at);
    at += m.size;
  }
  return out;
}
