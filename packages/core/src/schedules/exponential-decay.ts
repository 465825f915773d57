import { InvalidValueError } from '@boltzmann/tensor';
import { checkNumber } from '../validation.js';
import type { Schedule, ScheduleClock, ScheduleSpec } from './schedule.js';

/** Options of an exponential decay. */
export interface ExponentialDecayOptions {
  /** The value at t = 0. */
  initial: number;
  /** Multiplies the value per epoch (or step), continuously: 0.9 loses 10% an epoch; in [0, Infinity). */
  rate: number;
  /** Whether t counts epochs or steps; default "epoch". */
  unit?: 'epoch' | 'step';
}

/** initial * rate^t, t in epochs or steps (smooth, unlike the staircase of a step decay). */
export class ExponentialDecay implements Schedule {
  static readonly type = 'exponential';
  readonly options: Required<ExponentialDecayOptions>;

  constructor(options: ExponentialDecayOptions) {
    const o = { unit: 'epoch' as const, ...options };
    checkNumber('exponential decay "initial"', o.initial);
    checkNumber('exponential decay "rate"', o.rate, 0);
    if (o.unit !== 'epoch' && o.unit !== 'step') throw new InvalidValueError(`exponential decay unit must be "epoch" or "step", got ${String(o.unit)}`);
    this.options = o;
  }

  value(clock: ScheduleClock): number {
    const { initial, rate, unit } = this.options;
    return initial * rate ** (unit === 'epoch' ? clock.epoch : clock.step);
  }

  spec(): ScheduleSpec {
    return { type: ExponentialDecay.type, ...this.options };
  }
}
