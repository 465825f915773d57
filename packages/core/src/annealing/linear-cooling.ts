import { InvalidValueError } from '@boltzmann/tensor';
import { checkInteger, checkNumber } from '../validation.js';
import { checkCooling, type CoolingSchedule, type CoolingScheduleSpec } from './cooling-schedule.js';

/** Options of {@link LinearCooling}. */
export interface LinearCoolingOptions {
  /** First temperature (> 0). */
  start: number;
  /** Last temperature (>= 0, below start). */
  end: number;
  /** Number of temperatures (>= 2). */
  steps: number;
}

/** T_k = start + (end - start) k / (steps - 1), k = 0..steps-1. */
export class LinearCooling implements CoolingSchedule {
  static readonly type = 'linear';
  readonly type = LinearCooling.type;
  readonly start: number;
  readonly end: number;
  readonly steps: number;

  constructor(options: LinearCoolingOptions) {
    this.start = checkNumber('linear cooling start', options.start, Number.MIN_VALUE);
    this.end = checkNumber('linear cooling end', options.end, 0);
    this.steps = checkInteger('linear cooling steps', options.steps, 2);
    if (!(this.end < this.start)) throw new InvalidValueError(`annealing schedule must decrease: linear cooling end ${this.end} is not below its start ${this.start}`);
  }

  temperatures(): Float64Array {
    return checkCooling(Array.from({ length: this.steps }, (_, k) => this.start + ((this.end - this.start) * k) / (this.steps - 1)));
  }

  spec(): CoolingScheduleSpec {
    return { type: this.type, start: this.start, end: this.end, steps: this.steps };
  }
}
