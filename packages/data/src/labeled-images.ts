import type { Matrix } from '@boltzmann/tensor';

/** A set of labelled images: one image a row of `images`, its class in `labels` at the same index. */
export interface LabeledImages {
  /** One image a row, pixels row-major, values in [0, 1]. */
  images: Matrix;
  /** The class of each row (0..9 for the MNIST family). */
  labels: Uint8Array;
  height: number;
  width: number;
}

/** Which half of a data set: the training part or the held-out test part. */
export type Split = 'train' | 'test';
