import { InvalidValueError } from '@boltzmann/tensor';

/** The JSON description of a cooling schedule. */
export interface CoolingScheduleSpec {
  type: string;
  [option: string]: unknown;
}

/**
 * The temperatures of a simulated annealing run, one per stage, strictly decreasing and
 * non-negative (0 only as the last one: the zero-temperature limit).
 */
export interface CoolingSchedule {
  readonly type: string;
  temperatures(): Float64Array;
  spec(): CoolingScheduleSpec;
}

/**
 * Throws an InvalidValueError unless `temperatures` is non-empty, finite, >= 0 and strictly
 * decreasing, naming the first stage that is not; returns a float64 copy.
 */
export function checkCooling(temperatures: ArrayLike<number>, what = 'annealing schedule'): Float64Array {
  if (temperatures.length === 0) throw new InvalidValueError(`${what} has no temperatures`);
  const t = Float64Array.from(temperatures);
  for (let k = 0; k < t.length; k++) {
    if (!Number.isFinite(t[k]!) || t[k]! < 0) throw new InvalidValueError(`${what}: temperature ${t[k]} at stage ${k} must be finite and >= 0`);
    if (k > 0 && !(t[k]! < t[k - 1]!)) {
      throw new InvalidValueError(`${what} must decrease: temperature ${t[k]} at stage ${k} is not below ${t[k - 1]} at stage ${k - 1}`);
    }
  }
  return t;
}

/** An explicit list of temperatures (strictly decreasing, >= 0). */
export class TemperatureList implements CoolingSchedule {
  static readonly type = 'list';
  readonly type = TemperatureList.type;
  private readonly values: Float64Array;

  constructor(temperatures: ArrayLike<number>) {
    this.values = checkCooling(temperatures);
  }

  temperatures(): Float64Array {
    return this.values.slice();
  }

  spec(): CoolingScheduleSpec {
    return { type: this.type, temperatures: Array.from(this.values) };
  }
}
