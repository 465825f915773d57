import { InvalidValueError, assertDimension, type Backend, type Matrix, type RngState, type Tensor } from '@boltzmann/tensor';
import type { Parameter } from '../parameter.js';
import { checkMatrix } from '../validation.js';
import { checkUnitOptions, type UnitLayer, type UnitSpec } from './unit-layer.js';

/**
 * Conditioning inputs: units whose values are always given, never sampled or summed out (the
 * past frames of a conditional RBM, any real-valued context). They have no parameters and no
 * energy of their own; through dense connections they shift the biases of the layers they
 * join ("dynamic biases"). Asking for their mean, a sample or their log-partition is an error.
 * Registered as "unsampled".
 */
export class UnsampledLayer implements UnitLayer {
  static readonly type = 'unsampled';
  readonly type = UnsampledLayer.type;
  readonly name: string;
  readonly size: number;
  readonly parameters: readonly Parameter[] = [];
  readonly fieldOffset = undefined;
  /** Not enumerable: exact metrics must leave it clamped. */
  readonly stateCount = Infinity;
  readonly given = true;

  constructor(readonly backend: Backend, spec: UnitSpec) {
    if (typeof spec.name !== 'string' || spec.name === '') throw new TypeError('a layer needs a non-empty name');
    assertDimension(`size of layer "${spec.name}"`, spec.size);
    checkUnitOptions(spec, []);
    this.name = spec.name;
    this.size = spec.size;
  }

  interaction(state: Tensor): Tensor {
    return state;
  }

  mean(): void {
    throw this.givenOnly('has no conditional mean');
  }

  sample(_input: Tensor, _mean: Tensor, _rng: RngState, _out: Tensor): void {
    throw this.givenOnly('cannot be sampled');
  }

  addEnergy(): void {
    // no terms of its own
  }

  addLogPartition(): void {
    throw this.givenOnly('cannot be summed out');
  }

  addEnergyGradient(): void {
    // no parameters
  }

  /** Any finite values. */
  validate(data: Matrix, what: string): void {
    checkMatrix(what, data, this.size);
  }

  spec(): UnitSpec {
    return { type: this.type, name: this.name, size: this.size };
  }

  dispose(): void {}

  private givenOnly(what: string): InvalidValueError {
    return new InvalidValueError(`layer "${this.name}" holds conditioning inputs: it ${what}, give its values instead`);
  }
}
