import type { Backend, Matrix, Tensor, UnaryOp } from '@boltzmann/tensor';
import type { Parameter } from '../parameter.js';
import type { UnitLayer } from '../units/unit-layer.js';
import type { Workspace } from '../workspace.js';
import type { ConnectionSpec } from './dense.js';

/**
 * An edge of a model's graph: the interaction energy between two layers. The model only
 * talks to connections through this interface, so new kinds (sparse, convolutional...) plug
 * in beside `DenseConnection` (see it for the meaning of each method).
 */
export interface Connection {
  readonly type: string;
  readonly name: string;
  readonly from: UnitLayer;
  readonly to: UnitLayer;
  readonly backend: Backend;
  readonly parameters: readonly Parameter[];
  addField(source: Tensor, towards: 'to' | 'from', out: Tensor, offset: Tensor | undefined, accumulate: boolean): void;
  /**
   * Optional: out = activation(field + offset), the field `addField` would write towards
   * `towards` and the activation fused into the same pass (dense: one `backend.linear` with
   * `{ activation }`). The model uses it for a layer whose only connection this is and whose
   * mean is that activation of its input (`UnitLayer.meanActivation`), when a sampler asks
   * for fused means; a connection without it is never fused.
   */
  addActivatedField?(source: Tensor, towards: 'to' | 'from', out: Tensor, offset: Tensor, activation: UnaryOp): void;
  addInteractionEnergy(xFrom: Tensor, xTo: Tensor, out: Tensor, scale: number, workspace: Workspace): void;
  /** Fills grads (one per parameter) with scale * sum over rows of dE/dparameter. */
  addEnergyGradients(xFrom: Tensor, xTo: Tensor, scale: number, grads: readonly Tensor[], accumulate: boolean): void;
  spec(): ConnectionSpec;
  /**
   * Optional: throws unless host values for its parameters (by local name, "weights"; shapes
   * already checked), e.g. read from a model file, satisfy what the connection type requires
   * beyond shape and finiteness (lateral: symmetric with a zero diagonal). The error names
   * the connection, the entry and its values. `EnergyModel.setParams` calls it (so loading a
   * model file does too), after checking shapes and finiteness, when all its parameters are given.
   */
  checkParameters?(values: Readonly<Record<string, Matrix>>): void;
  dispose(): void;
}
