import { InvalidValueError } from '@boltzmann/tensor';
import type { Schedule, ScheduleClock, ScheduleSpec } from './schedule.js';

/**
 * One value per epoch: `values[e]` during epoch e (0-based: the epoch that starts after e
 * completed ones). It never repeats or extends its last value: asking for an epoch past the
 * list throws, and `Trainer.fit` checks the length before it starts (`definedEpochs`).
 */
export class EpochList implements Schedule {
  static readonly type = 'list';
  readonly values: readonly number[];

  constructor(values: readonly number[]) {
    if (!Array.isArray(values) || values.length === 0) throw new InvalidValueError(`a per-epoch list schedule needs a non-empty array of numbers, got ${JSON.stringify(values)}`);
    values.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidValueError(`per-epoch list schedule: value ${i} must be a finite number, got ${String(v)}`);
    });
    this.values = [...values];
  }

  get definedEpochs(): number {
    return this.values.length;
  }

  value(clock: ScheduleClock): number {
    const v = this.values[clock.epoch];
    if (v === undefined) {
      throw new InvalidValueError(`per-epoch list schedule has ${this.values.length} values (epochs 0..${this.values.length - 1}), but epoch ${clock.epoch} was asked for`);
    }
    return v;
  }

  spec(): ScheduleSpec {
    return { type: EpochList.type, values: [...this.values] };
  }
}
