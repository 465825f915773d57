/** Where training stands: completed epochs and completed steps (minibatches), both from 0. */
export interface ScheduleClock {
  readonly epoch: number;
  readonly step: number;
}

/** The JSON description of a schedule. */
export interface ScheduleSpec {
  type: string;
  [option: string]: unknown;
}

/** A hyperparameter as a function of training time (learning rate, momentum, CD's k...). */
export interface Schedule {
  value(clock: ScheduleClock): number;
  spec(): ScheduleSpec;
  /**
   * How many epochs the schedule has values for (a per-epoch list), or undefined when it is
   * defined for every epoch. `Trainer.fit` refuses to run past it rather than repeat values.
   */
  readonly definedEpochs?: number;
}

/** Whether `x` is a Schedule object (has `value` and `spec` methods) rather than a number or a spec. */
export function isSchedule(x: unknown): x is Schedule {
  return typeof x === 'object' && x !== null && typeof (x as Schedule).value === 'function' && typeof (x as Schedule).spec === 'function';
}
