import { InvalidValueError, Matrix, ShapeError } from '@boltzmann/tensor';
import type { Observable } from 'rxjs';
import { demandDriven, type MaybeAsyncIterator } from '../demand-driven.js';

/**
 * The values of a (sync or async) iterable as a cold Observable that produces only on demand:
 * under `train` the iterable is asked for the next value only when the trainer is ready for it.
 * Each subscription iterates afresh (an iterable that can be iterated once, like a generator
 * object, gives its values to the first subscriber only).
 */
export function fromIterable<T>(iterable: Iterable<T> | AsyncIterable<T>): Observable<T> {
  return demandDriven<T>(() => {
    if (typeof (iterable as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') {
      return (iterable as AsyncIterable<T>)[Symbol.asyncIterator]() as MaybeAsyncIterator<T>;
    }
    if (typeof (iterable as Iterable<T>)[Symbol.iterator] === 'function') return (iterable as Iterable<T>)[Symbol.iterator]();
    throw new InvalidValueError('fromIterable needs an iterable or an async iterable');
  });
}

/**
 * Rows given as arrays of numbers (each becomes a 1 x n float32 Matrix) or matrices (emitted as
 * they are), on demand. All must have the same number of columns.
 */
export function fromArray(items: ReadonlyArray<Matrix | ArrayLike<number>>): Observable<Matrix> {
  if (!Array.isArray(items)) throw new InvalidValueError('fromArray needs an array of rows or matrices');
  const cols = items.length > 0 ? widthOf(items[0]!) : 0;
  items.forEach((item, i) => {
    if (widthOf(item) !== cols) throw new ShapeError(`fromArray: item ${i} has ${widthOf(item)} columns, item 0 has ${cols}`);
  });
  return demandDriven<Matrix>(function* () {
    for (const item of items) yield item instanceof Matrix ? item : new Matrix(1, item.length, Float32Array.from(item));
  });
}

function widthOf(item: Matrix | ArrayLike<number>): number {
  return item instanceof Matrix ? item.cols : item.length;
}
