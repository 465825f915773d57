import { Matrix, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from './energy-model.js';

/** Rows per chunk when host data passes through the backend: bounds scratch memory for any data size. */
export const CHUNK_ROWS = 1024;

/**
 * Runs `fn` on `data` in chunks of at most `chunkRows` rows uploaded into scratch tensors and
 * gathers its rows x outCols results into one host matrix (the backend's precision). `fn` may be
 * async (it is awaited before its chunk's result is read).
 */
export async function mapRows(
  model: EnergyModel,
  data: Matrix,
  outCols: number,
  fn: (chunk: Tensor, out: Tensor) => void | Promise<void>,
  chunkRows = CHUNK_ROWS,
): Promise<Matrix> {
  const be = model.backend;
  const result = Matrix.zeros(data.rows, outCols, be.precision);
  for (let start = 0; start < data.rows; start += chunkRows) {
    const rows = Math.min(chunkRows, data.rows - start);
    const input = model.workspace.get('host:chunk-in', rows, data.cols);
    const out = model.workspace.get('host:chunk-out', rows, outCols);
    be.write(input, rowsView(data, start, rows));
    await fn(input, out);
    result.data.set((await be.read(out)).data, start * outCols);
  }
  return result;
}

/** Calls `fn` on each chunk of `data` uploaded to the backend, one after the other (for streaming metrics). */
export async function forEachChunk(
  model: EnergyModel,
  data: Matrix,
  fn: (chunk: Tensor, start: number) => void | Promise<void>,
  chunkRows = CHUNK_ROWS,
): Promise<void> {
  for (let start = 0; start < data.rows; start += chunkRows) {
    const rows = Math.min(chunkRows, data.rows - start);
    const input = model.workspace.get('host:chunk', rows, data.cols);
    model.backend.write(input, rowsView(data, start, rows));
    await fn(input, start);
  }
}

/** Rows [start, start + rows) of `m` as a matrix sharing its storage (no copy). */
export function rowsView(m: Matrix, start: number, rows: number): Matrix {
  return new Matrix(rows, m.cols, m.data.subarray(start * m.cols, (start + rows) * m.cols));
}
