import { Matrix, ShapeError } from '@boltzmann/tensor';
import type { Chain } from '../samplers/chain.js';
import type { GibbsSampler } from '../samplers/gibbs.js';

/**
 * Persistent chains restored from an estimator's checkpoint: `rows` new chains of `sampler`
 * whose states of layer l are `state[prefix + layer name]` ("chain.visible", "chain.0.hidden").
 * An entry that is missing or not a rows x layer-size Matrix is a ShapeError naming `what` and
 * the entry; the new chains are then disposed.
 */
export function chainFromState(sampler: GibbsSampler, state: Readonly<Record<string, Matrix>>, prefix: string, rows: number, what: string): Chain {
  const model = sampler.model;
  const chain = sampler.createChain(rows);
  try {
    model.layers.forEach((layer, l) => {
      const name = `${prefix}${layer.name}`;
      const m = state[name];
      if (!(m instanceof Matrix) || m.rows !== rows || m.cols !== layer.size) {
        throw new ShapeError(`${what} "${name}" must be ${rows}x${layer.size}, got ${m instanceof Matrix ? `${m.rows}x${m.cols}` : 'nothing'}`);
      }
      model.backend.write(chain.states[l]!, m);
    });
  } catch (error) {
    chain.dispose();
    throw error;
  }
  return chain;
}
