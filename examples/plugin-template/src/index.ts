/**
 * A boltzmann.ts plugin (the template to copy): a unit type ("binomial"), a regularizer
 * ("smooth-l1") and a metric ("hiddenEntropy"), bound under the container's tokens in one
 * inversify ContainerModule. The framework loads it by package name (`"plugins":
 * ["boltzmann-plugin-template"]` in a run spec, `--plugin` on the command line) and looks for
 * the export named `containerModule`; the classes are exported too, for use from code.
 */
import { Tokens } from '@boltzmann/container';
import { ContainerModule } from 'inversify';
import { BinomialLayer } from './binomial-layer.js';
import { HiddenEntropyMetric } from './hidden-entropy.js';
import { SmoothL1 } from './smooth-l1.js';

export { BinomialLayer } from './binomial-layer.js';
export { SmoothL1 } from './smooth-l1.js';
export { HiddenEntropyMetric } from './hidden-entropy.js';

/** What the framework loads: one binding per component, under the token of its kind. */
export const containerModule = new ContainerModule(({ bind }) => {
  bind(Tokens.unitType).toConstantValue({ name: BinomialLayer.type, factory: (backend, spec) => new BinomialLayer(backend, spec) });
  bind(Tokens.regularizer).toConstantValue({ name: SmoothL1.type, factory: (spec) => SmoothL1.fromSpec(spec) });
  bind(Tokens.metric).toConstantValue({ name: HiddenEntropyMetric.metricName, factory: (model) => new HiddenEntropyMetric(model) });
});
