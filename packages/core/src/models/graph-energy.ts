import { InvalidValueError, Matrix } from '@boltzmann/tensor';
import { DenseConnection } from '../connections/dense.js';
import { LateralConnection } from '../connections/lateral.js';
import { BernoulliLayer } from '../units/bernoulli.js';
import type { EnergyModel } from './energy-model.js';
import { QuadraticEnergy } from './quadratic-energy.js';

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
 * Throws unless every layer has 0/1 Bernoulli units (with a bias) and every connection is
 * dense or lateral: the models whose energy is a quadratic form E = -1/2 s^T M s - b^T s.
 */
export function checkQuadraticModel(model: EnergyModel, what: string): void {
  for (const l of model.layers) {
    if (l.type !== BernoulliLayer.type) throw new InvalidValueError(`${what} needs 0/1 (bernoulli) units; layer "${l.name}" has ${l.type} units`);
  }
  for (const c of model.connections) {
    if (c.type !== DenseConnection.type && c.type !== LateralConnection.type) {
      throw new InvalidValueError(`${what} needs dense or lateral connections; "${c.name}" is ${c.type}`);
    }
  }
}

/**
 * The energy of a model of Bernoulli layers joined by dense and lateral connections as one
 * quadratic form over all its units (layer after layer), read from the backend with
 * `await backend.read` (so asynchronous backends work) and assembled in float64. A dense
 * connection fills the two mirrored off-diagonal blocks; a lateral one its diagonal block. Any
 * such graph is a general Boltzmann machine (an RBM, a DBM...).
 */
export async function graphQuadraticEnergy(model: EnergyModel): Promise<QuadraticEnergy> {
  checkQuadraticModel(model, 'a quadratic energy');
  const be = model.backend;
  const [biases, weights] = await Promise.all([
    Promise.all(model.layers.map((layer) => be.read(layer.parameters[0]!.tensor))),
    Promise.all(model.connections.map((c) => be.read(c.parameters[0]!.tensor))),
  ]);
  return assembleQuadraticEnergy(model, biases, weights);
}

/** M and b from host copies of each layer's bias and each connection's weights. */
function assembleQuadraticEnergy(model: EnergyModel, biases: readonly Matrix[], connectionWeights: readonly Matrix[]): QuadraticEnergy {
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
  return new QuadraticEnergy(weights, bias);
}
