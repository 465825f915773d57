import type { Backend } from '@boltzmann/tensor';
import { Registry } from '../registry.js';
import type { UnitLayer } from '../units/unit-layer.js';
import { checkSpec } from '../validation.js';
import type { Connection } from './connection.js';
import { DenseConnection, type ConnectionSpec, type WeightInit } from './dense.js';
import { LateralConnection } from './lateral.js';

/** Builds a connection of one type from its spec, its two layers and how to fill its weights. */
export type ConnectionFactory = (backend: Backend, spec: ConnectionSpec, from: UnitLayer, to: UnitLayer, init: WeightInit) => Connection;

/**
 * Throws unless `spec` has only the keys of every connection spec ("type", "name", "from",
 * "to"): neither built-in type takes options, so an extra key is an error, not ignored.
 */
function checkConnectionSpec(spec: ConnectionSpec): void {
  checkSpec('connection', spec, [], ['type', 'name', 'from', 'to'], `connection "${spec.name}" (${spec.type})`);
}

/** The built-in connection types by name (a fresh registry; see `builtinComponents`). */
export const builtinConnectionTypes = (): Registry<ConnectionFactory> => new Registry<ConnectionFactory>('connection type')
  .register(DenseConnection.type, (backend, spec, from, to, init) => {
    checkConnectionSpec(spec);
    return new DenseConnection(backend, spec.name, from, to, init);
  })
  .register(LateralConnection.type, (backend, spec, from, to, init) => {
    checkConnectionSpec(spec);
    return new LateralConnection(backend, spec.name, from, to, init);
  });
