import { InvalidValueError } from '@boltzmann/tensor';
import { checkNumber } from '../validation.js';
import type { Schedule, ScheduleClock, ScheduleSpec } from './schedule.js';

/** Options of a step decay. */
export interface StepDecayOptions {
  /** The value before the first drop. */
  initial: number;
  /** Multiplies the value at each drop (0.1: a tenth); in [0, Infinity). */
  factor: number;
  /** A drop every this many epochs (or steps); > 0. */
  every: number;
  /** Whether `every` counts epochs or steps; default "epoch". */
  unit?: 'epoch' | 'step';
}

/** initial * factor^floor(t / every), t in epochs or steps: a staircase. */
export class StepDecay implements Schedule {
  static readonly type = 'step-decay';
  readonly options: Required<StepDecayOptions>;

  constructor(options: StepDecayOptions) {
    const o = { unit: 'epoch' as const, ...options };
    checkNumber('step decay "initial"', o.initial);
    checkNumber('step decay "factor"', o.factor, 0);
    checkNumber('step decay "every"', o.every, Number.MIN_VALUE);
    if (o.unit !== 'epoch' && o.unit !== 'step') throw new InvalidValueError(`step decay unit must be "epoch" or "step", got ${String(o.unit)}`);
    this.options = o;
  }

  value(clock: ScheduleClock): number {
    const { initial, factor, every, unit } = this.options;
    const t = unit === 'epoch' ? clock.epoch : clock.step;
    return initial * factor ** Math.floor(t / every);
  }

  spec(): ScheduleSpec {
    return { type: StepDecay.type, ...this.options };
  }
}
