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

/** A hyperparameter as a function of training time (learning rate, momentum...). */
export interface Schedule {
  value(clock: ScheduleClock): number;
  spec(): ScheduleSpec;
}

