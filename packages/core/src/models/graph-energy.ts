import { InvalidValueError, Matrix } from '@boltzmann/tensor';
import { DenseConnection } from '../connections/dense.js';
import { LateralConnection } from '../connections/lateral.js';
import type { EnergyModel } from './energy-model.js';
import { QuadraticEnergy, type UnitValues } from './quadratic-energy.js';

/**
 * Index of each layer's first unit when a model's units are numbered layer after layer
 * (layer 0 first): the numbering of its {@link QuadraticEnergy}.
 */
export function unitOffsets(model: EnergyModel): number[] {
  const out: number[] = [];
  let n = 0;
  for (const l of model.layers) {
    out.push(n);
    n += l.size;
  }
  return out;
}

/**
 * Throws unless every layer declares itself `twoValued`, all with the same two values, and
 * every connection is dense or lateral: the models whose energy is a quadratic form
 * E = -1/2 s^T M s - b^T s over 0/1 units or over -1/+1 spins. Returns those values.
 */
export function checkQuadraticModel(model: EnergyModel, what: string): UnitValues {
  const values = model.layers[0]!.twoValued;
  for (const l of model.layers) {
    if (l.twoValued === undefined) throw new InvalidValueError(`${what} needs two-valued units (0/1 or -1/+1 with energy -bias . x, declared as twoValued); layer "${l.name}" has ${l.type} units`);
    if (l.twoValued !== values) throw new InvalidValueError(`${what} needs one kind of two-valued units; layer "${model.layers[0]!.name}" holds ${values} units, layer "${l.name}" ${l.twoValued} ones`);
  }
  for (const c of model.connections) {
    if (c.type !== DenseConnection.type && c.type !== LateralConnection.type) {
      throw new InvalidValueError(`${what} needs dense or lateral connections; "${c.name}" is ${c.type}`);
    }
  }
  return values!;
}

/**
 * The energy of a model of two-valued layers joined by dense and lateral connections as one
 * quadratic form over all its units (layer after layer), read from the backend with
 * `await backend.read` (so asynchronous backends work) and assembled in float64. A dense
 * connection fills the two mirrored off-diagonal blocks; a lateral one its diagonal block. Any
 * such graph is a general Boltzmann machine (an RBM, a DBM...).
 */
export async function graphQuadraticEnergy(model: EnergyModel): Promise<QuadraticEnergy> {
  const values = checkQuadraticModel(model, 'a quadratic energy');
  const be = model.backend;
  const [biases, weights] = await Promise.all([
    Promise.all(model.layers.map((layer) => be.read(layer.parameters[0]!.tensor))),
    Promise.all(model.connections.map((c) => be.read(c.parameters[0]!.tensor))),
  ]);
  return assembleQuadraticEnergy(model, biases, weights, values);
}

/** M and b from host copies of each layer's bias and each connection's weights. */
function assembleQuadraticEnergy(model: EnergyModel, biases: readonly Matrix[], connectionWeights: readonly Matrix[], values: UnitValues): QuadraticEnergy {
  const offsets = unitOffsets(model);
  const n = model.layers.reduce((s, l) => s + l.size, 0);
  const weights = Matrix.zeros(n, n, 'float64');
  const bias = new Float64Array(n);
  biases.forEach((b, l) => bias.set(b.data, offsets[l]));
  model.connections.forEach((c, k) => {
    const w = connectionWeights[k]!;
    const r0 = offsets[model.layers.indexOf(c.from)]!;
    const c0 = offsets[model.layers.indexOf(c.to)]!;
    for (let i = 0; i < w.rows; i++) {
      for (let j = 0; j < w.cols; j++) {
        const x = w.data[i * w.cols + j]!;
        weights.data[(r0 + i) * n + c0 + j]! += x;
        if (c.type === DenseConnection.type) weights.data[(c0 + j) * n + r0 + i]! += x;
      }
    }
  });
  return new QuadraticEnergy(weights, bias, { values });
}
