import type { Backend } from '@boltzmann/tensor';
import { Registry } from '../registry.js';
import type { UnitLayer } from '../units/unit-layer.js';
import { checkOptionKeys } from '../validation.js';
import type { Connection } from './connection.js';
import { DenseConnection, type ConnectionSpec, type WeightInit } from './dense.js';
import { LateralConnection } from './lateral.js';

/** Builds a connection of one type from its spec, its two layers and how to fill its weights. */
export type ConnectionFactory = (backend: Backend, spec: ConnectionSpec, from: UnitLayer, to: UnitLayer, init: WeightInit) => Connection;

/**
 * Throws unless `spec` has only the keys of every connection spec ("type", "name", "from",
 * "to"): neither built-in type takes options, so an extra key is an error, not ignored.
 */
function checkConnectionSpec(spec: ConnectionSpec, options: readonly string[] = []): void {
  checkOptionKeys(`connection "${spec.name}" (${spec.type})`, spec, options, ['type', 'name', 'from', 'to']);
}

/** Connection types by name (see `unitTypes`). */
export const connectionTypes = new Registry<ConnectionFactory>('connection type')
  .register(DenseConnection.type, (backend, spec, from, to, init) => {
    checkConnectionSpec(spec);
    return new DenseConnection(backend, spec.name, from, to, init);
  })
  .register(LateralConnection.type, (backend, spec, from, to, init) => {
    checkConnectionSpec(spec);
    return new LateralConnection(backend, spec.name, from, to, init);
  });
