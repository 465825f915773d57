import { InvalidValueError } from '@boltzmann/tensor';
import { checkInteger, checkNumber } from '../validation.js';
import { checkCooling, type CoolingSchedule, type CoolingScheduleSpec } from './cooling-schedule.js';

/** Options of {@link GeometricCooling}: a start and either an end or a factor. */
export interface GeometricCoolingOptions {
  /** First temperature (> 0). */
  start: number;
  /** Last temperature (> 0, below start); or give `factor`. */
  end?: number;
  /** T_{k+1} = factor T_k, in (0, 1); or give `end`. */
  factor?: number;
  /** Number of temperatures (>= 2). */
  steps: number;
}

/** T_k = start * factor^k, k = 0..steps-1 (Kirkpatrick et al.'s exponential cooling). */
export class GeometricCooling implements CoolingSchedule {
  static readonly type = 'geometric';
  readonly type = GeometricCooling.type;
  readonly start: number;
  readonly factor: number;
  readonly steps: number;

  constructor(options: GeometricCoolingOptions) {
    this.start = checkNumber('geometric cooling start', options.start, Number.MIN_VALUE);
    this.steps = checkInteger('geometric cooling steps', options.steps, 2);
    if ((options.end === undefined) === (options.factor === undefined)) throw new InvalidValueError('geometric cooling needs exactly one of "end" and "factor"');
    if (options.end !== undefined) {
      const end = checkNumber('geometric cooling end', options.end, Number.MIN_VALUE);
      if (!(end < this.start)) throw new InvalidValueError(`annealing schedule must decrease: geometric cooling end ${end} is not below its start ${this.start}`);
      this.factor = (end / this.start) ** (1 / (this.steps - 1));
    } else {
      const factor = checkNumber('geometric cooling factor', options.factor, 0);
      if (!(factor > 0 && factor < 1)) throw new InvalidValueError(`annealing schedule must decrease: geometric cooling factor ${factor} must be in (0, 1)`);
      this.factor = factor;
    }
  }

  temperatures(): Float64Array {
    return checkCooling(Array.from({ length: this.steps }, (_, k) => this.start * this.factor ** k));
  }

  spec(): CoolingScheduleSpec {
    return { type: this.type, start: this.start, factor: this.factor, steps: this.steps };
  }
}
