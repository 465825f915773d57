import { DenseConnection, RBM, type EnergyModel, type Sampler } from '@boltzmann/core';
import { imageGrid, writePng, type RasterImage } from '@boltzmann/data';
import { InvalidValueError, Matrix } from '@boltzmann/tensor';

/** Height and width of one image. */
export type ImageShape = readonly [number, number];

/** The shape of `size`-pixel images: the given one, else a square when `size` is one, else a 1-pixel-high strip. */
export function imageShapeFor(size: number, given?: ImageShape): ImageShape {
  if (given !== undefined) {
    if (given[0] * given[1] !== size) throw new InvalidValueError(`an image shape of ${given[0]}x${given[1]} does not fit ${size} visible units`);
    return given;
  }
  const side = Math.round(Math.sqrt(size));
  return side * side === size ? [side, side] : [1, size];
}

/** Parses "28x28" (height x width). */
export function parseImageShape(text: string): ImageShape {
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new InvalidValueError(`an image shape is HEIGHTxWIDTH, e.g. 28x28; got "${text}"`);
  return [Number(m[1]), Number(m[2])];
}

/** A grid of images (one a row), stretched to [0, 1] only when the values leave it (spins, Gaussian units). */
function grid(images: Matrix, shape: ImageShape, columns: number): RasterImage {
  let inUnitRange = true;
  for (const v of images.data) if (!(v >= 0 && v <= 1)) inUnitRange = false;
  return imageGrid(images, { imageHeight: shape[0], imageWidth: shape[1], columns, normalize: inUnitRange ? 'none' : 'global' });
}

/**
 * filters.png: the weights into each of the first `count` hidden units (columns of the dense
 * connection out of the visible layer), each stretched over its own range, so strokes show
 * as light and dark bars. Returns false when the model has no such connection.
 */
export async function writeFilters(path: string, model: EnergyModel, count: number, shape: ImageShape): Promise<boolean> {
  const connection = model.connections.find((c) => c.from === model.layers[0] && c instanceof DenseConnection) as DenseConnection | undefined;
  if (connection === undefined || count === 0) return false;
  const w = await model.backend.read(connection.weights); // visible x hidden
  const n = Math.min(count, w.cols);
  const filters = Matrix.zeros(n, w.rows, 'float64');
  for (let j = 0; j < n; j++) for (let i = 0; i < w.rows; i++) filters.data[j * w.rows + i] = w.data[i * w.cols + j]!;
  writePng(path, imageGrid(filters, { imageHeight: shape[0], imageWidth: shape[1], normalize: 'per-image', columns: Math.ceil(Math.sqrt(n)) }));
  return true;
}

/**
 * reconstructions.png: each example beside its mean-field reconstruction E[v | h = E[h | v]],
 * in pairs (5 pairs a row). RBMs only; returns false otherwise.
 */
export async function writeReconstructions(path: string, model: EnergyModel, data: Matrix, count: number, shape: ImageShape): Promise<boolean> {
  if (!(model instanceof RBM) || count === 0) return false;
  const rows = data.sliceRows(0, Math.min(count, data.rows));
  const recon = await model.reconstruct(rows);
  const pairs = Matrix.zeros(rows.rows * 2, rows.cols, 'float64');
  for (let r = 0; r < rows.rows; r++) {
    pairs.data.set(rows.row(r), 2 * r * rows.cols);
    pairs.data.set(recon.row(r), (2 * r + 1) * rows.cols);
  }
  writePng(path, grid(pairs, shape, 10));
  return true;
}

/** Options of `writeSamples`. */
export interface SampleImageOptions {
  count: number;
  /** Sweeps per chain (the sampler's). */
  steps: number;
  /** Seed of the chains; default the model's own sampling stream. */
  seed?: number;
  /** Binary visible states instead of their probabilities. */
  binary?: boolean;
  /** Start chain i at row i of this matrix (e.g. held-out examples) instead of at random units. */
  init?: Matrix;
}

/**
 * samples.png: a grid of `count` samples of the sampler's model (core's `Sampler`: "gibbs",
 * "glauber", "parallel-dynamics" or a plugin's), each chain run `steps` sweeps from random
 * units or from the rows of `init`: the last visible probabilities, or states with `binary`.
 */
export async function writeSamples(path: string, sampler: Sampler, options: SampleImageOptions, shape: ImageShape): Promise<void> {
  const samples = await sampler.sample({
    count: options.count,
    sweeps: options.steps,
    binary: options.binary ?? false,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.init === undefined ? {} : { init: options.init }),
  });
  writePng(path, grid(samples, shape, Math.ceil(Math.sqrt(options.count))));
}
