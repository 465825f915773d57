import type { Schedule, ScheduleClock, ScheduleSpec } from '../schedules/schedule.js';
import { checkInteger } from '../validation.js';

/**
 * A step-count schedule's value (CD's k, parallel tempering's sweeps) at `clock` (default:
 * epoch 0, step 0), checked to be a positive integer; `what` names it in the error, with the
 * epoch and step.
 */
export function stepCountAt(what: string, schedule: Schedule, clock: ScheduleClock = { epoch: 0, step: 0 }): number {
  return checkInteger(`${what} at epoch ${clock.epoch}, step ${clock.step}`, schedule.value(clock));
}

/** A step-count schedule as an estimator's spec gives it: a constant as its number, any other schedule as its spec. */
export function stepCountSpec(schedule: Schedule): number | ScheduleSpec {
  const spec = schedule.spec();
  return spec.type === 'constant' ? (spec['value'] as number) : spec;
}
