import { InvalidValueError } from '@boltzmann/tensor';
import { Registry } from '../registry.js';
import { checkNumber } from '../validation.js';
import { Constant } from './constant.js';
import { LinearRamp, type LinearRampOptions } from './linear-ramp.js';
import type { Schedule, ScheduleSpec } from './schedule.js';

/** Schedules by name: "constant", "linear". */
export const scheduleTypes = new Registry<(spec: ScheduleSpec) => Schedule>('schedule')
  .register(Constant.type, (spec) => new Constant(spec['value'] as number))
  .register(LinearRamp.type, (spec) => new LinearRamp(spec as unknown as LinearRampOptions));

/** A number (constant), a schedule, or a schedule's JSON spec, as a schedule. */
export function toSchedule(x: number | Schedule | ScheduleSpec, what: string): Schedule {
  if (typeof x === 'number') return new Constant(checkNumber(what, x));
  if (typeof (x as Schedule).value === 'function') return x as Schedule;
  if (x && typeof (x as ScheduleSpec).type === 'string') return scheduleTypes.get((x as ScheduleSpec).type)(x as ScheduleSpec);
  throw new InvalidValueError(`${what} must be a number, a Schedule or a schedule spec`);
}
