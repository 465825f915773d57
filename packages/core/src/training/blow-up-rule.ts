/** The lowest epoch value of a watched metric so far, and the epoch it came in. */
interface Lowest {
  value: number;
  epoch: number;
}

/** The metrics of an epoch report the rule watches, with the words messages use for them. */
const WATCHED = { reconstructionError: 'the reconstruction error' } as const;

/** A lowest value under this counts as this much: a near-perfect fit is not a base for "times higher". */
const FLOOR = 1e-6;

/**
 * The slow blow-up half of the divergence check. Training can run away without any NaN (a
 * Gaussian-visible RBM with PCD on unstandardized data: the reconstruction error climbs from
 * 0.08 to 65 over 20 epochs); this rule catches it. At every epoch end it compares each
 * watched metric with its lowest epoch value so far in this run: one that rose above `factor`
 * times that lowest (default 100: two orders of magnitude; a lowest under 1e-6 counts as
 * 1e-6) is a divergence. It watches the reconstruction error, the monitored metric that is a
 * non-negative loss on every model (free energies change sign, weight norms grow by design);
 * an epoch where it is not scored (NaN) is skipped. The lowest values are this run's: after a
 * resume they count again from the first resumed epoch.
 */
export class BlowUpRule {
  private readonly lowest = new Map<string, Lowest>();

  /** `factor` > 1: how many times its lowest a metric may rise to. */
  constructor(readonly factor: number) {}

  /** The blow-up in an epoch's values, described ("the reconstruction error (reconstructionError) rose to ..."); undefined when there is none. */
  find(values: Readonly<Record<keyof typeof WATCHED, number>>): string | undefined {
    for (const [key, words] of Object.entries(WATCHED) as [keyof typeof WATCHED, string][]) {
      const value = values[key];
      const lowest = this.lowest.get(key);
      if (lowest === undefined || Number.isNaN(value)) continue;
      const ratio = value / Math.max(lowest.value, FLOOR);
      if (ratio > this.factor) {
        return `${words} (${key}) rose to ${format(value)}, ${format(ratio)} times its lowest of this run (${format(lowest.value)} in epoch ${lowest.epoch}); the limit is ${this.factor} times`;
      }
    }
    return undefined;
  }

  /** Records an epoch's values (once they passed `find`). */
  record(epoch: number, values: Readonly<Record<keyof typeof WATCHED, number>>): void {
    for (const key of Object.keys(WATCHED) as (keyof typeof WATCHED)[]) {
      const value = values[key];
      if (Number.isNaN(value)) continue;
      const lowest = this.lowest.get(key);
      if (lowest === undefined || value < lowest.value) this.lowest.set(key, { value, epoch });
    }
  }
}

function format(x: number): string {
  return Number(x.toPrecision(3)).toString();
}
