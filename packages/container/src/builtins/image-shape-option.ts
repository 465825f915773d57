import { InvalidValueError } from '@boltzmann/tensor';

/**
 * A data source's `imageShape` option: [height, width] of each row, for the pictures a run
 * draws; `columns` is how many values a row has, named in the error by `what`.
 */
export function imageShapeOption(shape: unknown, columns: number, what: string): [number, number] | undefined {
  if (shape === undefined) return undefined;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((s) => Number.isInteger(s) && s > 0) || shape[0] * shape[1] !== columns) {
    throw new InvalidValueError(`"imageShape" must be [height, width] with height * width = ${columns} (${what}), got ${JSON.stringify(shape)}`);
  }
  return [shape[0], shape[1]];
}
