import { checkNumber } from '../validation.js';
import type { Schedule, ScheduleSpec } from './schedule.js';

/** The same value throughout. */
export class Constant implements Schedule {
  static readonly type = 'constant';
  constructor(readonly constant: number) {
    checkNumber('schedule value', constant);
  }
  value(): number {
    return this.constant;
  }
  spec(): ScheduleSpec {
    return { type: Constant.type, value: this.constant };
  }
}

