import { InvalidValueError } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';

/** The metrics an epoch report may hold that are computed from the visible data alone. */
export type MonitoredMetric = 'freeEnergy' | 'pseudoLogLikelihood' | 'reconstructionError' | 'meanHiddenActivation';

/**
 * For each monitored metric, why it cannot be computed on a model from visible data alone (a
 * sentence naming the layer or connection in the way), or undefined when it can.
 */
export type MonitorSupport = Readonly<Record<MonitoredMetric, string | undefined>>;

/**
 * Which epoch-end metrics a model allows, and why not where it does not:
 *
 * - freeEnergy: F(v) has a closed form when every layer besides the visible one can be summed
 *   out given the visible units alone: no connection joins two such layers (a DBM's hidden1 -
 *   hidden2, a lateral hidden-hidden), and none of them holds given inputs (a layer that
 *   declares itself `given`, as "unsampled" does).
 * - pseudoLogLikelihood: scikit-learn's estimate flips a unit to its other value, so visible
 *   units that declare themselves `twoValued`, and it compares free energies, so the free
 *   energy too.
 * - reconstructionError: a one-step reconstruction is a block Gibbs sweep, so the layers must
 *   split into two blocks (a layer with lateral weights cannot).
 * - meanHiddenActivation: E[h | v] of layer 1 from the visible units alone, so a layer 1
 *   joined to nothing but the visible layer. (A Trainer still reports it for a DBM: its
 *   estimator's data phase infers E[h | v].)
 */
export function monitorSupport(model: EnergyModel): MonitorSupport {
  const visible = model.layers[0]!;
  const freeEnergy = freeEnergyObstacle(model);
  let pseudoLogLikelihood: string | undefined;
  if (visible.twoValued === undefined) {
    pseudoLogLikelihood = `the pseudo-log-likelihood flips binary units (v -> 1 - v, or -v for spins), and layer "${visible.name}" holds ${visible.type} units, which declare no two values (twoValued)`;
  } else if (freeEnergy !== undefined) {
    pseudoLogLikelihood = `the pseudo-log-likelihood compares free energies, and ${freeEnergy}`;
  }
  let reconstructionError: string | undefined;
  try {
    model.bipartition();
  } catch (error) {
    reconstructionError = `a one-step reconstruction is a block Gibbs sweep, and ${error instanceof Error ? error.message : String(error)}`;
  }
  let meanHiddenActivation: string | undefined;
  if (model.layers.length < 2) {
    meanHiddenActivation = 'the model has no hidden layer';
  } else {
    const others = model.neighbours(1).filter((n) => n !== 0);
    if (others.length > 0) {
      meanHiddenActivation = `E[h | v] of layer "${model.layers[1]!.name}" also depends on layer "${model.layers[others[0]!]!.name}", not on the visible units alone`;
    }
  }
  return { freeEnergy, pseudoLogLikelihood, reconstructionError, meanHiddenActivation };
}

/**
 * Throws an InvalidValueError when `metric` cannot be computed on `model` (see `monitorSupport`);
 * `what` names what asked for it ("monitor.freeEnergy").
 */
export function checkMonitorable(model: EnergyModel, metric: MonitoredMetric, what: string, support: MonitorSupport = monitorSupport(model)): void {
  const reason = support[metric];
  if (reason !== undefined) throw new InvalidValueError(`${what}: cannot compute ${metric} on this ${model.kind} model: ${reason}`);
}

/** Which of the optional epoch-end metrics to score: true, false, or left out for "where the model allows it". */
export interface MonitorChoice {
  /** Mean free energy of the training subset and the held-out set. */
  freeEnergy?: boolean;
  /** Pseudo-log-likelihood of both. */
  pseudoLikelihood?: boolean;
}

/** A `MonitorChoice` with its defaults filled in. */
export interface ResolvedMonitor {
  readonly freeEnergy: boolean;
  readonly pseudoLikelihood: boolean;
}

/**
 * What to score at each epoch end: each choice given, else whether the model allows it (see
 * `monitorSupport`; pass `support` when you have it). Asking (true) for one the model does not
 * allow throws an InvalidValueError naming the option ("monitor.freeEnergy: cannot compute
 * freeEnergy on this dbm model: ...").
 */
export function resolveMonitor(model: EnergyModel, choice: MonitorChoice = {}, support: MonitorSupport = monitorSupport(model)): ResolvedMonitor {
  const freeEnergy = choice.freeEnergy ?? support.freeEnergy === undefined;
  const pseudoLikelihood = choice.pseudoLikelihood ?? support.pseudoLogLikelihood === undefined;
  if (freeEnergy) checkMonitorable(model, 'freeEnergy', 'monitor.freeEnergy', support);
  if (pseudoLikelihood) checkMonitorable(model, 'pseudoLogLikelihood', 'monitor.pseudoLikelihood', support);
  return { freeEnergy, pseudoLikelihood };
}

function freeEnergyObstacle(model: EnergyModel): string | undefined {
  const visible = model.layers[0]!;
  for (const c of model.connections) {
    if (c.from === visible || c.to === visible) continue;
    const joins = c.from === c.to ? `layer "${c.from.name}" to itself` : `layers "${c.from.name}" and "${c.to.name}"`;
    return `the free energy F(v) has no closed form: connection "${c.name}" joins ${joins}, so they cannot be summed out given the visible units alone`;
  }
  const given = model.layers.find((l, i) => i > 0 && l.given === true);
  if (given !== undefined) return `the free energy F(v) has no closed form: layer "${given.name}" holds given inputs (${given.type}), which cannot be summed out`;
  return undefined;
}
