import { InvalidValueError } from '@boltzmann/tensor';
import { defaultComponents } from '../components.js';
import { Registry } from '../registry.js';
import { checkNumber, checkSpec } from '../validation.js';
import { Constant } from './constant.js';
import { EpochList } from './epoch-list.js';
import { ExponentialDecay, type ExponentialDecayOptions } from './exponential-decay.js';
import { LinearRamp, type LinearRampOptions } from './linear-ramp.js';
import { isSchedule, type Schedule, type ScheduleSpec } from './schedule.js';
import { StepDecay, type StepDecayOptions } from './step-decay.js';

/**
 * `spec` without its "type", once every other key is one of `options` (a misspelt option is an
 * error, not ignored).
 */
function optionsOf<T>(spec: ScheduleSpec, options: readonly string[]): T {
  const { type: _type, ...rest } = checkSpec<ScheduleSpec>('schedule', spec, options);
  return rest as T;
}

/** Builds a schedule from its spec. */
export type ScheduleFactory = (spec: ScheduleSpec) => Schedule;

/** The built-in schedules by name (a fresh registry): "constant", "linear", "list" (one value per epoch), "step-decay", "exponential". */
export const builtinSchedules = (): Registry<ScheduleFactory> => new Registry<ScheduleFactory>('schedule')
  .register(Constant.type, (spec) => new Constant(optionsOf<{ value: number }>(spec, ['value']).value))
  .register(LinearRamp.type, (spec) => new LinearRamp(optionsOf<LinearRampOptions>(spec, ['from', 'to', 'start', 'end', 'unit'])))
  .register(EpochList.type, (spec) => new EpochList(optionsOf<{ values: number[] }>(spec, ['values']).values))
  .register(StepDecay.type, (spec) => new StepDecay(optionsOf<StepDecayOptions>(spec, ['initial', 'factor', 'every', 'unit'])))
  .register(ExponentialDecay.type, (spec) => new ExponentialDecay(optionsOf<ExponentialDecayOptions>(spec, ['initial', 'rate', 'unit'])));

/**
 * A number (constant), an array (one value per epoch: an `EpochList`), a schedule, or a
 * schedule's JSON spec (built through `schedules`, default the built-ins), as a schedule. `what`
 * names the hyperparameter in errors.
 */
export function toSchedule(x: number | readonly number[] | Schedule | ScheduleSpec, what: string, schedules: Registry<ScheduleFactory> = defaultComponents().schedules): Schedule {
  if (typeof x === 'number') return new Constant(checkNumber(what, x));
  if (Array.isArray(x)) return new EpochList(x as readonly number[]);
  if (isSchedule(x)) return x;
  if (x && typeof (x as ScheduleSpec).type === 'string') return schedules.get((x as ScheduleSpec).type)(x as ScheduleSpec);
  throw new InvalidValueError(`${what} must be a number, an array of per-epoch values, a Schedule or a schedule spec`);
}

/**
 * Throws unless `schedule` has values for every epoch before `endEpoch` (exclusive, counted
 * from 0), naming the hyperparameter and both lengths: a short per-epoch list is an error, never
 * silently repeated.
 */
export function checkScheduleCovers(what: string, schedule: Schedule, endEpoch: number): void {
  const defined = schedule.definedEpochs;
  if (defined !== undefined && endEpoch > defined) {
    throw new InvalidValueError(
      `the ${what} schedule ("${schedule.spec().type}") has values for ${defined} epochs, but training runs to epoch ${endEpoch} (${endEpoch} epochs in all); give at least ${endEpoch} values`,
    );
  }
}

/** The keys of the built-in schedules' specs that hold values of the hyperparameter itself. */
const VALUE_KEYS = ['value', 'from', 'to', 'initial'];

/**
 * Throws unless every value a schedule's spec names (a constant's `value`, a ramp's `from` and
 * `to`, a decay's `initial`, each entry of a list) lies in [lo, hi]: a learning rate of -1 or a
 * momentum of 2 is refused, whether it comes from a run spec, an option or a model file.
 * (Decays only shrink towards 0 from `initial`: a step decay's factor above 1 grows, and is
 * refused when hi is finite.)
 */
export function checkScheduleRange(what: string, schedule: Schedule, lo: number, hi: number): void {
  const spec = schedule.spec();
  const values: [string, unknown][] = VALUE_KEYS.filter((k) => k in spec).map((k) => [k, spec[k]]);
  if (Array.isArray(spec['values'])) (spec['values'] as unknown[]).forEach((v, i) => values.push([`values[${i}]`, v]));
  for (const [key, v] of values) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
      throw new InvalidValueError(`${what} schedule ("${spec.type}") has ${key} ${String(v)}; ${what} values must lie in [${lo}, ${hi}]`);
    }
  }
  const factor = spec['factor'];
  if (Number.isFinite(hi) && typeof factor === 'number' && factor > 1) {
    throw new InvalidValueError(`${what} schedule ("${spec.type}") has factor ${factor} > 1, which grows past ${hi}`);
  }
}
