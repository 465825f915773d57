import { InvalidValueError, Matrix, ShapeError, type Precision } from '@boltzmann/tensor';
import { checkInteger } from '../validation.js';

/** Class labels: one integer class index per data row. */
export type Labels = ArrayLike<number>;

/**
 * Throws unless `labels` holds `rows` integers in [0, classes): names the first bad row.
 * Returns the number of classes.
 */
export function checkLabels(labels: Labels, rows: number, classes: number, what = 'labels'): number {
  checkInteger('number of classes', classes, 2);
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') throw new InvalidValueError(`${what} must be an array of class indices`);
  if (labels.length !== rows) throw new ShapeError(`${what} has ${labels.length} entries for ${rows} data rows`);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new InvalidValueError(`${what}[${i}] is ${y}: a class index must be an integer in [0, ${classes - 1}] for ${classes} classes`);
    }
  }
  return classes;
}

/** One plus the largest label (at least 2): the class count implied by the labels. */
export function classCount(labels: Labels): number {
  let max = -1;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0) throw new InvalidValueError(`labels[${i}] is ${y}: class indices are integers >= 0`);
    if (y > max) max = y;
  }
  return Math.max(2, max + 1);
}

/** rows x classes one-hot targets. */
export function oneHot(labels: Labels, classes: number, precision: Precision = 'float32'): Matrix {
  checkLabels(labels, labels.length, classes);
  const m = Matrix.zeros(labels.length, classes, precision);
  for (let i = 0; i < labels.length; i++) m.data[i * classes + labels[i]!] = 1;
  return m;
}

/** The index of the largest value of each row (the predicted class of class probabilities). */
export function argmaxRows(m: Matrix): Int32Array {
  const out = new Int32Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let best = 0;
    for (let c = 1; c < m.cols; c++) if (m.data[r * m.cols + c]! > m.data[r * m.cols + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** Fraction of rows whose predicted class equals the label. */
export function accuracy(predicted: Labels, labels: Labels): number {
  if (predicted.length !== labels.length) throw new ShapeError(`accuracy: ${predicted.length} predictions for ${labels.length} labels`);
  if (labels.length === 0) throw new InvalidValueError('accuracy of no rows is undefined');
  let hits = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) hits += 1;
  return hits / labels.length;
}
