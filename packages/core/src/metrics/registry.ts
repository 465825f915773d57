import { InvalidValueError } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { Registry } from '../registry.js';
import { checkMonitorable } from '../training/monitoring.js';
import { FreeEnergyMetric } from './free-energy.js';
import { MeanActivationMetric } from './mean-activation.js';
import type { Metric } from './metric.js';
import { PseudoLikelihoodMetric } from './pseudo-likelihood.js';
import { ReconstructionErrorMetric } from './reconstruction-error.js';

/** Options a metric's spec entry may carry besides its name. */
export interface MetricOptions {
  /** The training seed, for metrics that draw random numbers. */
  seed: number;
  [option: string]: unknown;
}

/** Builds a streaming metric over a model (reset / update with batches / value). */
export type MetricFactory = (model: EnergyModel, options: MetricOptions) => Metric;

/**
 * The built-in metrics (a fresh registry), by the names used in `EpochReport` and metrics.json:
 * reconstructionError, freeEnergy, pseudoLogLikelihood, meanHiddenActivation (option
 * "layer": the hidden layer's name). Each refuses, with the reason, a model it cannot score
 * from visible data alone (core's `monitorSupport`: no pseudo-likelihood without two-valued
 * visible units, no free energy on a DBM, no reconstruction with lateral weights), so the
 * spec error names the metric rather than failing at the first epoch end.
 */
export const builtinMetrics = (): Registry<MetricFactory> =>
  new Registry<MetricFactory>('metric')
    .register('reconstructionError', (model, o) => {
      checkMonitorable(model, 'reconstructionError', 'metric "reconstructionError"');
      return new ReconstructionErrorMetric(model, { seed: o.seed });
    })
    .register('freeEnergy', (model) => {
      checkMonitorable(model, 'freeEnergy', 'metric "freeEnergy"');
      return new FreeEnergyMetric(model);
    })
    .register('pseudoLogLikelihood', (model, o) => {
      checkMonitorable(model, 'pseudoLogLikelihood', 'metric "pseudoLogLikelihood"');
      return new PseudoLikelihoodMetric(model, { seed: o.seed });
    })
    .register('meanHiddenActivation', (model, o) => {
      const layer = typeof o['layer'] === 'string' ? o['layer'] : undefined;
      checkActivationLayer(model, layer);
      return new MeanActivationMetric(model, layer === undefined ? {} : { layer });
    });

/** E[h | v] of the layer from the visible units alone: a hidden layer joined to nothing but layer 0. */
function checkActivationLayer(model: EnergyModel, name: string | undefined): void {
  if (name === undefined) {
    checkMonitorable(model, 'meanHiddenActivation', 'metric "meanHiddenActivation"');
    return;
  }
  const l = model.layerIndex(name);
  if (l === 0) throw new InvalidValueError(`metric "meanHiddenActivation": layer "${name}" is the visible layer; name a hidden layer`);
  const other = model.neighbours(l).find((n) => n !== 0);
  if (other !== undefined) {
    throw new InvalidValueError(`metric "meanHiddenActivation": E[h | v] of layer "${name}" also depends on layer "${model.layers[other]!.name}", not on the visible units alone`);
  }
}
