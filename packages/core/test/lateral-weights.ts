import { Matrix, type Backend } from '@boltzmann/tensor';
import { buildModel, type EnergyModel } from '@boltzmann/core';

/**
 * A model of `kind` ("graph", "boltzmann-machine") with 3 visible and 2 hidden Bernoulli units,
 * visible-hidden and visible-visible (lateral) weights: N(0, 0.5) weights of seed 2.
 */
export function lateralModel(backend: Backend, kind: string): EnergyModel {
  const spec = {
    kind,
    layers: [
      { type: 'bernoulli', name: 'visible', size: 3 },
      { type: 'bernoulli', name: 'hidden', size: 2 },
    ],
    connections: [
      { type: 'dense', name: 'visible-hidden', from: 'visible', to: 'hidden' },
      { type: 'lateral', name: 'visible-visible', from: 'visible', to: 'visible' },
    ],
  };
  return buildModel(backend, spec, { seed: 2, weightStd: 0.5 });
}

/** 3x3 lateral weights that are not symmetric: (2, 1) is 2.5 but (1, 2) is 2. */
export const asymmetricLateral = Matrix.fromRows([[0, 0.5, -1], [0.5, 0, 2], [-1, 2.5, 0]]).toFloat64();
/** 3x3 symmetric lateral weights with 0.25 on the diagonal at (1, 1). */
export const diagonalLateral = Matrix.fromRows([[0, 0.5, -1], [0.5, 0.25, 2], [-1, 2, 0]]).toFloat64();
/** Valid 3x3 lateral weights: symmetric, zero diagonal. */
export const symmetricLateral = Matrix.fromRows([[0, 0.5, -1], [0.5, 0, 2], [-1, 2, 0]]).toFloat64();
