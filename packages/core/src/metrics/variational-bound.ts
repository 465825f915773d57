import { InvalidValueError, type Backend, type Matrix, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import type { Chain } from '../samplers/chain.js';
import { MeanField, type MeanFieldOptions } from '../samplers/mean-field.js';
import { checkNumber } from '../validation.js';
import { onBackend } from './on-backend.js';

/**
 * out (rows x 1) = ELBO + log Z for the mean-field state of each row: the variational lower
 * bound on log p(v) before subtracting log Z. For a factorised q(h) = prod_l q_l(h_l), each q_l
 * of its layer's family with the input inputs[l] (field gamma_l = input - offset) and mean
 * E_q[x_l] (interaction m_l), the energies E_l of the hidden layers cancel against their
 * entropies and
 *
 *   ELBO + log Z = -E_0(v) + sum_edges m_a W m_b + sum_{l >= 1} [ A_l(input_l) - m_l . gamma_l ],
 *
 * A_l the layer's log-partition. Valid for any q of that form (not only at convergence), so it
 * also shows the bound rising through the iterations. At a fixed point with one hidden layer it
 * is -F(v): q is then the exact posterior.
 */
export function addVariationalBound(model: EnergyModel, state: Chain, out: Tensor): void {
  const be = model.backend;
  const ws = model.workspace;
  const rows = state.rows;
  be.fill(out, 0);
  model.layers[0]!.addEnergy(state.states[0]!, out, -1, ws);
  for (const c of model.connections) {
    const a = model.layers.indexOf(c.from);
    const b = model.layers.indexOf(c.to);
    c.addInteractionEnergy(c.from.interaction(state.states[a]!, ws), c.to.interaction(state.states[b]!, ws), out, -1, ws);
  }
  model.layers.forEach((layer, l) => {
    if (l === 0) return;
    const input = state.inputs[l]!;
    layer.addLogPartition(input, out, 1, ws);
    const m = layer.interaction(state.means[l]!, ws);
    const t = ws.get(`bound:product:${layer.name}`, rows, layer.size);
    be.binary('mul', m, input, t);
    if (layer.fieldOffset !== undefined) {
      const o = ws.get(`bound:offset:${layer.name}`, rows, layer.size);
      be.mulRowVector(m, layer.fieldOffset, o);
      be.binary('sub', t, o, t);
    }
    be.matmul(t, ws.onesColumn(layer.size), out, { alpha: -1, beta: 1 });
  });
}

/** Options of {@link variationalLowerBoundRows}. */
export interface VariationalBoundOptions extends MeanFieldOptions {
  /** log Z of the model (exact, or an AIS estimate's `logZ`). */
  logZ: number;
  /** Compute on this backend (a copy of the parameters goes there), e.g. a float64 one. */
  backend?: Backend;
}

/**
 * The mean-field variational lower bound on log p(v) of each row of `data` (float64):
 * ELBO(v) = E_q[-E(v, h)] + H(q) - log Z <= log p(v), with q from `MeanField` (maxIterations,
 * tolerance). With the AIS estimate of log Z this is the test-set bound Salakhutdinov & Hinton
 * report for DBMs (in expectation an estimate, since AIS's log Z is itself random).
 */
export async function variationalLowerBoundRows(model: EnergyModel, data: Matrix, options: VariationalBoundOptions): Promise<Float64Array> {
  if (options === undefined || typeof options.logZ !== 'number') throw new InvalidValueError('the variational lower bound needs logZ (exact, or from annealedImportanceSampling)');
  const logZ = checkNumber('logZ', options.logZ);
  model.layers[0]!.validate(data, 'data');
  return onBackend(model, options.backend, async (m) => {
    const bound = await new MeanField(m, options).mapRows(data, 1, (state, out) => addVariationalBound(m, state, out));
    return Float64Array.from(bound.data, (x) => x - logZ);
  });
}

/** The mean over rows of {@link variationalLowerBoundRows}. */
export async function variationalLowerBound(model: EnergyModel, data: Matrix, options: VariationalBoundOptions): Promise<number> {
  const rows = await variationalLowerBoundRows(model, data, options);
  let s = 0;
  for (const x of rows) s += x;
  return s / rows.length;
}
