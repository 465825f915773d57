import { InvalidValueError, type Matrix, ShapeError, assertDimension, assertFinite } from '@boltzmann/tensor';
import type { RasterImage } from './png.js';

/** How pixel values map to gray levels. */
export type GridNormalization = 'per-image' | 'global' | 'none';

/** Options of {@link imageGrid}. */
export interface ImageGridOptions {
  /** Width of one image. Default: sqrt(cols) when the matrix has a square number of columns. */
  imageWidth?: number;
  /** Height of one image. Default: cols / imageWidth. */
  imageHeight?: number;
  /** Images per grid row. Default: ceil(sqrt(number of images)). */
  columns?: number;
  /** Pixels between images and around the border. Default 1. */
  padding?: number;
  /**
   * 'none' (default): values must already lie in [0, 1] (0 black, 1 white).
   * 'per-image': each image stretched from its own min..max (weights of one filter).
   * 'global': every image stretched by the min..max of the whole matrix.
   * A constant image (or matrix) is drawn mid-gray.
   */
  normalize?: GridNormalization;
  /** Gray level of the padding and of empty cells, in [0, 1]. Default 1 (white). */
  paddingValue?: number;
}

/**
 * Tiles the rows of a matrix (one image a row, pixels row-major) into one grayscale picture,
 * left to right and top to bottom: the filters, samples or reconstructions of a model.
 * Encode the result with encodePng or save it with writePng.
 */
export function imageGrid(images: Matrix, options: ImageGridOptions = {}): RasterImage {
  const count = images.rows;
  const { width: w, height: h } = imageSize(images.cols, options);
  const columns = options.columns ?? Math.ceil(Math.sqrt(count));
  assertDimension('imageGrid columns', columns);
  const padding = options.padding ?? 1;
  if (!Number.isInteger(padding) || padding < 0) throw new InvalidValueError(`imageGrid: padding must be an integer >= 0, got ${padding}`);
  const paddingValue = options.paddingValue ?? 1;
  if (!(paddingValue >= 0 && paddingValue <= 1)) throw new InvalidValueError(`imageGrid: paddingValue must lie in [0, 1], got ${paddingValue}`);
  const normalize = options.normalize ?? 'none';
  if (normalize !== 'none' && normalize !== 'per-image' && normalize !== 'global') {
    throw new InvalidValueError(`imageGrid: normalize must be 'per-image', 'global' or 'none', got ${String(normalize)}`);
  }
  assertFinite('imageGrid: images', images);

  const gridRows = Math.ceil(count / columns);
  const width = columns * w + (columns + 1) * padding;
  const height = gridRows * h + (gridRows + 1) * padding;
  const pixels = new Uint8Array(width * height).fill(toByte(paddingValue));

  const global = normalize === 'global' ? valueRange(images.data) : undefined;
  if (normalize === 'none') checkUnitRange(images);
  for (let n = 0; n < count; n++) {
    const row = images.row(n);
    const [lo, hi] = normalize === 'per-image' ? valueRange(row) : global ?? [0, 1];
    const scale = hi > lo ? 1 / (hi - lo) : 0;
    const left = padding + (n % columns) * (w + padding);
    const top = padding + Math.floor(n / columns) * (h + padding);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = row[y * w + x]!;
        pixels[(top + y) * width + left + x] = toByte(scale === 0 ? 0.5 : (v - lo) * scale);
      }
    }
  }
  return { width, height, channels: 1, pixels };
}

function imageSize(cols: number, options: ImageGridOptions): { width: number; height: number } {
  let { imageWidth: width, imageHeight: height } = options;
  if (width === undefined && height === undefined) {
    const side = Math.round(Math.sqrt(cols));
    if (side * side !== cols) throw new ShapeError(`imageGrid: ${cols} columns are not a square image; pass imageWidth and imageHeight`);
    width = height = side;
  }
  width ??= cols / height!;
  height ??= cols / width;
  assertDimension('imageGrid imageWidth', width);
  assertDimension('imageGrid imageHeight', height);
  if (width * height !== cols) throw new ShapeError(`imageGrid: ${width}x${height} images need ${width * height} columns, the matrix has ${cols}`);
  return { width, height };
}

function checkUnitRange(images: Matrix): void {
  const d = images.data;
  for (let i = 0; i < d.length; i++) {
    if (!(d[i]! >= 0 && d[i]! <= 1)) {
      throw new InvalidValueError(
        `imageGrid: with normalize 'none' values must lie in [0, 1], got ${d[i]} in image ${Math.floor(i / images.cols)}, pixel ${i % images.cols}; pass normalize: 'per-image' or 'global'`,
      );
    }
  }
}

function valueRange(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function toByte(v: number): number {
  return Math.round(v * 255);
}
