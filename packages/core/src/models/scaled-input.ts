import { InvalidValueError, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel, LayerStates } from './energy-model.js';

/** Options of {@link computeScaledInput}. */
export interface ScaledInputOptions {
  /** Multiplies the summed connection fields (not the offset); default 1. */
  scale?: number;
  /** Only neighbours for which this returns true send their field; default every neighbour. */
  from?: (neighbour: number) => boolean;
  /** Leave the layer's field offset (its bias) out: `out` is the bare field; default false. */
  withoutOffset?: boolean;
}

/**
 * out (rows x size of layer l) = scale * (sum of the fields the chosen neighbours send) + the
 * layer's field offset. `EnergyModel.computeInput` with two freedoms the deep models need: the
 * recognition pass of a DBM doubles the field from below (the layer above is not inferred yet),
 * greedy DBM pretraining doubles one direction of an RBM, and annealing scales every coupling
 * by beta. With no chosen neighbour the field is zero (out = offset).
 */
export function computeScaledInput(model: EnergyModel, l: number, states: LayerStates, out: Tensor, options: ScaledInputOptions = {}): void {
  const be = model.backend;
  const layer = model.layers[l]!;
  const scale = options.scale ?? 1;
  let added = false;
  for (const c of model.connections) {
    const a = model.layers.indexOf(c.from);
    const b = model.layers.indexOf(c.to);
    if (a !== l && b !== l) continue;
    const neighbour = a === l ? b : a;
    if (options.from !== undefined && !options.from(neighbour)) continue;
    const source = states[neighbour];
    if (source === undefined) throw new InvalidValueError(`the input of layer "${layer.name}" needs a state for layer "${model.layers[neighbour]!.name}"`);
    c.addField(model.layers[neighbour]!.interaction(source, model.workspace), a === l ? 'from' : 'to', out, undefined, added);
    added = true;
  }
  if (!added) be.fill(out, 0);
  else if (scale !== 1) be.affine(out, scale, 0, out);
  if (!options.withoutOffset && layer.fieldOffset !== undefined) be.addRowVector(out, layer.fieldOffset, out);
}
