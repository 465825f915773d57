import { InvalidValueError, type RngState, type Tensor } from '@boltzmann/tensor';
import type { UnitMasks } from '../estimators/estimator.js';
import type { EnergyModel } from '../models/energy-model.js';
import { checkNumber } from '../validation.js';
import type { Regularizer, RegularizerSpec } from './regularizer.js';

/** Options of dropout: the probability of dropping each unit, per step and per row. */
export interface DropoutOptions {
  /** Drop probability of the visible units (layer 0); default 0. */
  visible?: number;
  /** Drop probability of the units of every other layer; default 0.5 (Srivastava et al.). */
  hidden?: number;
}

/**
 * Dropout for RBMs (Srivastava, Hinton et al. 2014, section 8): at each step every unit of every
 * batch row is dropped with its layer's probability; the estimator multiplies the layer's means
 * and states by the 0/1 mask after each update, in the data phase and in the model phase alike
 * (CD's chain starts at the batch and keeps its masks; PCD's chains get masks of their own per
 * step), so a dropped unit is absent from both statistics and its parameters get no gradient
 * from that row.
 *
 * Test time: weight scaling, not inverted dropout. Training leaves the weights as the full
 * model's; a field averaged over the masks is (retain probability of the sending layer) times
 * the full field, so before using the model without dropout call `scaleForInference`: direction
 * "up" (features, p(h | v)) scales the weights by the visible retain probability, "down"
 * (reconstructions and samples, p(v | h)) by the hidden one. With hidden dropout only (the
 * paper's setting) the features need no scaling.
 */
export class Dropout implements Regularizer {
  static readonly type = 'dropout';
  readonly type = Dropout.type;
  readonly visible: number;
  readonly hidden: number;
  readonly unitMasks: UnitMasks;

  constructor(options: DropoutOptions = {}) {
    this.visible = checkNumber('dropout "visible" (drop probability)', options.visible ?? 0, 0, 1 - Number.EPSILON);
    this.hidden = checkNumber('dropout "hidden" (drop probability)', options.hidden ?? 0.5, 0, 1 - Number.EPSILON);
    const masks: (Tensor | undefined)[] = [];
    this.unitMasks = {
      draw: (model: EnergyModel, rows: number, rng: RngState, purpose: 'data' | 'chains') => {
        masks.length = model.layers.length;
        model.layers.forEach((layer, l) => {
          const drop = l === 0 ? this.visible : this.hidden;
          if (drop === 0) {
            masks[l] = undefined;
            return;
          }
          const mask = model.workspace.get(`dropout:${purpose}:${layer.name}`, rows, layer.size);
          model.backend.sampleBernoulli(1 - drop, rng, mask);
          masks[l] = mask;
        });
        return masks;
      },
    };
  }

  /**
   * Scales every connection's weights in place for use without dropout: by the visible retain
   * probability for "up" (p(h | v): transform, features), by the hidden one for "down" (p(v | h):
   * reconstruct, sample). Call it on a copy (`RBM.initFrom`) if training goes on.
   */
  scaleForInference(model: EnergyModel, direction: 'up' | 'down'): void {
    if (direction !== 'up' && direction !== 'down') throw new InvalidValueError(`dropout inference direction must be "up" or "down", got ${JSON.stringify(direction)}`);
    const factor = 1 - (direction === 'up' ? this.visible : this.hidden);
    for (const c of model.connections) for (const p of c.parameters) if (p.role === 'weights') model.backend.affine(p.tensor, factor, 0, p.tensor);
  }

  spec(): RegularizerSpec {
    return { type: this.type, visible: this.visible, hidden: this.hidden };
  }
}
