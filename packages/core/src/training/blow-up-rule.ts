/** A watched metric's value in the first epoch of the run that scored it. */
interface Reference {
  value: number;
  epoch: number;
}

/** The metrics of an epoch report the rule watches, with the words messages use for them. */
const WATCHED = { reconstructionError: 'the reconstruction error' } as const;

/** A first value under this counts as this much: a near-perfect fit is not a base for "times higher". */
const FLOOR = 1e-6;

/**
 * The slow blow-up half of the divergence check. Training can run away without any NaN (a
 * Gaussian-visible RBM with PCD on unstandardized data: the reconstruction error climbs from
 * 0.08 to 65 over 20 epochs); this rule catches it. At every epoch end it compares each
 * watched metric with its value in the run's first epoch: one that rose above `factor` times
 * that (default 100: two orders of magnitude; a first value under 1e-6 counts as 1e-6) is a
 * divergence. The first epoch is the reference, not the lowest so far: a run that fits its
 * data almost perfectly (an error of 5e-4) may wander back to 0.06 without running away. It
 * watches the reconstruction error, the monitored metric that is a non-negative loss on every
 * model (free energies change sign, weight norms grow by design); an epoch where it is not
 * scored (NaN) is skipped. The reference is this run's: after a resume, the first resumed epoch.
 */
export class BlowUpRule {
  private readonly reference = new Map<string, Reference>();

  /** `factor` > 1: how many times its first value a metric may rise to. */
  constructor(readonly factor: number) {}

  /** The blow-up in an epoch's values, described ("the reconstruction error (reconstructionError) rose to ..."); undefined when there is none. */
  find(values: Readonly<Record<keyof typeof WATCHED, number>>): string | undefined {
    for (const [key, words] of Object.entries(WATCHED) as [keyof typeof WATCHED, string][]) {
      const value = values[key];
      const first = this.reference.get(key);
      if (first === undefined || Number.isNaN(value)) continue;
      const ratio = value / Math.max(first.value, FLOOR);
      if (ratio > this.factor) {
        return `${words} (${key}) rose to ${format(value)}, ${format(ratio)} times its value in the run's first epoch (${format(first.value)} in epoch ${first.epoch}); the limit is ${this.factor} times`;
      }
    }
    return undefined;
  }

  /** Records an epoch's values (once they passed `find`): the first scored value of each metric is its reference. */
  record(epoch: number, values: Readonly<Record<keyof typeof WATCHED, number>>): void {
    for (const key of Object.keys(WATCHED) as (keyof typeof WATCHED)[]) {
      const value = values[key];
      if (!Number.isNaN(value) && !this.reference.has(key)) this.reference.set(key, { value, epoch });
    }
  }
}

function format(x: number): string {
  return Number(x.toPrecision(3)).toString();
}
