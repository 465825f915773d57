import { checkOptionKeys } from '@boltzmann/core';
import type { BrokerSource } from '@boltzmann/pipeline';
import type { DataSourceBinding, DataSourceSpec } from '../tokens.js';
import { imageShapeOption } from './image-shape-option.js';

/**
 * The data-source binding of a broker source type: the spec's keys checked against `keys`, its
 * `imageShape` against the visible units, and the rest of its options handed to `make` with the
 * model's column count. Nothing connects until the run starts.
 */
export function brokerSourceBinding(
  name: string,
  keys: readonly string[],
  make: (options: Record<string, unknown>, columns: number) => BrokerSource & { readonly description: string },
): DataSourceBinding {
  return {
    name,
    factory: (spec, context) => {
      checkOptionKeys(`data source "${name}"`, spec, keys);
      const { type: _type, imageShape: shape, ...options } = spec as DataSourceSpec & Record<string, unknown>;
      const imageShape = imageShapeOption(shape, context.columns, 'the visible units');
      const stream = make(options, context.columns);
      return { stream, description: stream.description, ...(imageShape === undefined ? {} : { imageShape }) };
    },
  };
}
