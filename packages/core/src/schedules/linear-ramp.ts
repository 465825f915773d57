import { InvalidValueError } from '@boltzmann/tensor';
import { checkNumber } from '../validation.js';
import type { Schedule, ScheduleClock, ScheduleSpec } from './schedule.js';

/** Options of a linear ramp. */
export interface LinearRampOptions {
  from: number;
  to: number;
  /** Where the ramp starts (value `from` up to here); default 0. */
  start?: number;
  /** Where it ends (value `to` from here on). */
  end: number;
  /** Whether start/end count epochs or steps; default "epoch". */
  unit?: 'epoch' | 'step';
}

/** `from` until `start`, a straight line to `to` at `end`, then `to`. */
export class LinearRamp implements Schedule {
  static readonly type = 'linear';
  readonly options: Required<LinearRampOptions>;

  constructor(options: LinearRampOptions) {
    const o = { start: 0, unit: 'epoch' as const, ...options };
    checkNumber('ramp "from"', o.from);
    checkNumber('ramp "to"', o.to);
    checkNumber('ramp "start"', o.start, 0);
    checkNumber('ramp "end"', o.end, o.start);
    if (o.unit !== 'epoch' && o.unit !== 'step') throw new InvalidValueError(`ramp unit must be "epoch" or "step", got ${String(o.unit)}`);
    this.options = o;
  }

  value(clock: ScheduleClock): number {
    const { from, to, start, end, unit } = this.options;
    const t = unit === 'epoch' ? clock.epoch : clock.step;
    if (t <= start) return from;
    if (t >= end) return to;
    return from + ((to - from) * (t - start)) / (end - start);
  }

  spec(): ScheduleSpec {
    return { type: LinearRamp.type, ...this.options };
  }
}

