import { InvalidValueError, Matrix, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel, LayerStates } from '../models/energy-model.js';
import { computeScaledInput } from '../models/scaled-input.js';
import { componentsOf } from '../components.js';
import type { UnitLayer } from '../units/unit-layer.js';
import { checkNumber } from '../validation.js';
import { Workspace } from '../workspace.js';

/**
 * Where annealing starts: "uniform" sets every bias of the base distribution to zero (Bernoulli
 * and softmax units uniform, Gaussian units centred at 0); "base-rate" also sets the visible
 * layer's bias from the data means (its `initializeFromData`: for Bernoulli units the logit of
 * the pixel means), the base-rate model of Salakhutdinov & Murray (2008).
 */
export type AnnealingStart = 'uniform' | 'base-rate';

/** Options of an {@link AnnealingPath}. */
export interface AnnealingPathOptions {
  start?: AnnealingStart;
  /** Column means of the data (float64, one per visible unit): needed for "base-rate". */
  visibleMeans?: Float64Array;
}

/**
 * The geometric path p_beta(x) proportional to p_A(x)^(1 - beta) p_B(x)^beta from a base
 * distribution A of independent units (the target's layers with zero weights and base biases,
 * its scale parameters kept) to a target model B, for any model graph of layers that declare
 * themselves `annealable`:
 *
 *   E_beta(x) = (1 - beta) sum_l E_A,l(x_l) + beta E_B(x)
 *             = sum_l E_l(x_l; bias (1 - beta) b_A + beta b_B) - beta * (couplings),
 *
 * so at each beta the layers are the target's with interpolated biases (`betaLayers`, rewritten
 * by `setBeta`), and every coupling is scaled by beta: a layer's input is beta * field + its
 * interpolated offset. Fields come from the target's connections; the target is never modified.
 */
export class AnnealingPath {
  /** The target's layer types at the current beta (biases interpolated, scales the target's). */
  readonly betaLayers: readonly UnitLayer[];
  /** The base distribution's layers (beta = 0). */
  readonly baseLayers: readonly UnitLayer[];
  readonly start: AnnealingStart;
  /** Scratch for the path's layers (separate from the target's). */
  readonly workspace: Workspace;
  private betaValue = NaN;

  constructor(readonly target: EnergyModel, options: AnnealingPathOptions = {}) {
    const start = options.start ?? 'uniform';
    if (start !== 'uniform' && start !== 'base-rate') throw new InvalidValueError(`the annealing start must be "uniform" or "base-rate", got ${JSON.stringify(start)}`);
    this.start = start;
    for (const layer of target.layers) {
      if (layer.approximateLogPartition !== undefined) {
        throw new InvalidValueError(`annealed importance sampling needs exact conditionals and log-partitions; layer "${layer.name}" (${layer.type}): ${layer.approximateLogPartition}`);
      }
      if (layer.annealable !== true) {
        throw new InvalidValueError(`annealed importance sampling cannot anneal layer "${layer.name}" of ${layer.type} units: the unit type does not declare itself annealable (an energy affine in its biases)`);
      }
      for (const p of layer.parameters) {
        if (p.role !== 'bias' && p.role !== 'scale') throw new InvalidValueError(`layer "${layer.name}" has a parameter "${p.name}" of role ${p.role}: annealing interpolates biases and keeps scales only`);
      }
    }
    if (start === 'base-rate') {
      // checked before any tensor is made, so a refusal leaves nothing behind
      const visible = target.layers[0]!;
      if (options.visibleMeans === undefined) throw new InvalidValueError('the "base-rate" start needs the data (its column means set the visible biases of the base distribution)');
      if (options.visibleMeans.length !== visible.size) throw new InvalidValueError(`base-rate means have ${options.visibleMeans.length} values, layer "${visible.name}" has ${visible.size} units`);
      if (visible.initializeFromData === undefined) throw new InvalidValueError(`layer "${visible.name}" (${visible.type}) cannot set its biases from data means: use the "uniform" start`);
    }
    const be = target.backend;
    // Fresh layers of the target's types, from the set it was built with (plugin types included).
    const unitTypes = componentsOf(target).unitTypes;
    const copyLayers = () => target.layers.map((l) => unitTypes.get(l.type)(be, l.spec()));
    this.betaLayers = copyLayers();
    this.baseLayers = copyLayers();
    this.workspace = new Workspace(be);
    target.layers.forEach((layer, l) => {
      layer.parameters.forEach((p, i) => {
        // Scales are the target's all along; base biases start at zero (the fresh layers' value).
        if (p.role === 'scale') {
          be.copy(p.tensor, this.betaLayers[l]!.parameters[i]!.tensor);
          be.copy(p.tensor, this.baseLayers[l]!.parameters[i]!.tensor);
        }
      });
    });
    if (start === 'base-rate') this.baseLayers[0]!.initializeFromData!(options.visibleMeans!);
    this.setBeta(0);
  }

  get beta(): number {
    return this.betaValue;
  }

  /** Rewrites the biases of `betaLayers` to (1 - beta) b_A + beta b_B (a few 1 x n rows). */
  setBeta(beta: number): void {
    checkNumber('beta', beta, 0, 1);
    if (beta === this.betaValue) return;
    const be = this.target.backend;
    this.target.layers.forEach((layer, l) => {
      layer.parameters.forEach((p, i) => {
        if (p.role !== 'bias') return;
        be.axpby(1 - beta, this.baseLayers[l]!.parameters[i]!.tensor, beta, p.tensor, this.betaLayers[l]!.parameters[i]!.tensor);
      });
    });
    this.betaValue = beta;
  }

  /** out = the bare field (no offset) the neighbours of layer l send in `states`, through the target's weights. */
  field(l: number, states: LayerStates, out: Tensor): void {
    computeScaledInput(this.target, l, states, out, { withoutOffset: true });
  }

  /** out = beta * field + the offset of layer l at the current beta (field undefined: zero field). */
  inputAt(l: number, field: Tensor | undefined, out: Tensor): void {
    const be = this.target.backend;
    if (field === undefined) be.fill(out, 0);
    else be.affine(field, this.betaValue, 0, out);
    const offset = this.betaLayers[l]!.fieldOffset;
    if (offset !== undefined) be.addRowVector(out, offset, out);
  }

  /** log Z_A = sum over layers of the base layer's log-partition at zero field, in float64 (read with await). */
  async baseLogPartition(): Promise<number> {
    const be = this.target.backend;
    let total = 0;
    for (const layer of this.baseLayers) {
      const input = be.zeros(1, layer.size);
      const out = be.zeros(1, 1);
      try {
        if (layer.fieldOffset !== undefined) be.addRowVector(input, layer.fieldOffset, input);
        layer.addLogPartition(input, out, 1, this.workspace);
        total += (await be.read(out)).data[0]!;
      } finally {
        be.dispose(input);
        be.dispose(out);
      }
    }
    return total;
  }

  /** Host copies of the base distribution's parameters, by qualified name (read with await). */
  async baseParams(): Promise<Record<string, Matrix>> {
    const out: Record<string, Matrix> = {};
    for (const layer of this.baseLayers) {
      for (const p of layer.parameters) out[`${layer.name}.${p.name}`] = await this.target.backend.read(p.tensor);
    }
    return out;
  }

  dispose(): void {
    this.workspace.clear();
    for (const l of [...this.betaLayers, ...this.baseLayers]) l.dispose();
  }
}
