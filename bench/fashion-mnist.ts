/**
 * The benchmark's training data: the 60,000 Fashion-MNIST training images (Debian package
 * dataset-fashion-mnist) scaled to [0, 1], or, where that package is not installed, random
 * binary images of the same size (the time per epoch does not depend on the pixel values).
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { CounterRng } from '@boltzmann/tensor';

export const FASHION_MNIST_TRAIN = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';

export interface TrainingImages {
  rows: number;
  cols: number;
  /** Row-major, values in [0, 1]. */
  data: Float32Array;
  /** "fashion-mnist" or "random-binary". */
  source: string;
}

/** Parses an IDX3 unsigned-byte image file (.gz): magic 0x00000803, counts, then pixels. */
function readIdxImages(path: string): { count: number; pixels: Uint8Array; size: number } {
  const bytes = gunzipSync(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 16 || view.getUint32(0) !== 0x00000803) throw new Error(`${path}: not an IDX3 unsigned-byte image file`);
  const count = view.getUint32(4);
  const size = view.getUint32(8) * view.getUint32(12);
  if (bytes.length !== 16 + count * size) throw new Error(`${path}: holds ${bytes.length - 16} pixel bytes, the header says ${count * size}`);
  return { count, pixels: bytes.subarray(16), size };
}

/** `rows` training images (at most 60,000 from Fashion-MNIST; random ones beyond or without it). */
export function loadTrainingImages(rows = 60000): TrainingImages {
  const cols = 784;
  const data = new Float32Array(rows * cols);
  if (existsSync(FASHION_MNIST_TRAIN)) {
    const { count, pixels, size } = readIdxImages(FASHION_MNIST_TRAIN);
    if (size === cols && count >= rows) {
      for (let i = 0; i < rows * cols; i++) data[i] = pixels[i]! / 255;
      return { rows, cols, data, source: 'fashion-mnist' };
    }
  }
  const rng = new CounterRng(7);
  rng.uniforms(data);
  for (let i = 0; i < data.length; i++) data[i] = data[i]! < 0.3 ? 1 : 0;
  return { rows, cols, data, source: 'random-binary' };
}
