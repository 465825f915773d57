import type { Tensor } from '@boltzmann/tensor';

/**
 * What a parameter is for; regularizers pick by role (weight decay applies to `weights`,
 * not to biases).
 */
export type ParameterRole = 'bias' | 'weights' | 'scale';

/** A learnable tensor of a layer or connection; `name` is local ("bias", "weights"). */
export interface Parameter {
  readonly name: string;
  readonly role: ParameterRole;
  readonly tensor: Tensor;
}

/** A parameter of a model, with its qualified name ("visible.bias", "visible-hidden.weights"). */
export interface ModelParameter extends Parameter {
  /** The layer or connection that owns it. */
  readonly owner: string;
}
