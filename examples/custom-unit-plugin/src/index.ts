/**
 * An example plugin for boltzmann.ts: a new unit type ("ising": +-1 spins) and a new
 * regularizer ("hidden-max-norm"), bound under the container's tokens in one ContainerModule.
 * The framework loads it with `--plugin ./examples/custom-unit-plugin` (or by its package
 * name) and looks for the export named `containerModule`.
 */
import { Tokens } from '@boltzmann/container';
import { ContainerModule } from 'inversify';
import { HiddenMaxNorm } from './hidden-max-norm.js';
import { IsingLayer } from './ising-layer.js';

export { IsingLayer } from './ising-layer.js';
export { HiddenMaxNorm } from './hidden-max-norm.js';

/** What the framework loads: binds the unit type "ising" and the regularizer "hidden-max-norm". */
export const containerModule = new ContainerModule(({ bind }) => {
  bind(Tokens.unitType).toConstantValue({ name: IsingLayer.type, factory: (backend, spec) => new IsingLayer(backend, spec) });
  bind(Tokens.regularizer).toConstantValue({ name: HiddenMaxNorm.type, factory: (spec) => HiddenMaxNorm.fromSpec(spec) });
});
