import { Registry } from '../registry.js';
import { checkSpec } from '../validation.js';
import { GibbsModelSampler } from './gibbs-model-sampler.js';
import { GlauberModelSampler, type GlauberModelSamplerOptions } from './glauber-model-sampler.js';
import { ParallelDynamicsModelSampler, type ParallelDynamicsModelSamplerOptions } from './parallel-dynamics-model-sampler.js';
import type { SamplerFactory } from './sampler.js';

/** The option keys of each sampler's spec (besides "type"); any other key is refused. */
const OPTIONS = {
  [GibbsModelSampler.type]: [],
  [GlauberModelSampler.type]: ['temperature'],
  [ParallelDynamicsModelSampler.type]: ['temperature'],
} as const satisfies Record<string, readonly string[]>;

/**
 * The built-in samplers by name (a fresh registry), for drawing samples of a model's visible layer (`boltzmann sample`,
 * samples.png): "gibbs" (block Gibbs; bipartite graphs, any unit types), "glauber" (one unit
 * at a time at `temperature`; Bernoulli layers with dense and lateral connections, any graph)
 * and "parallel-dynamics" (every unit at once at `temperature`; any model, but not guaranteed
 * to reach the Boltzmann distribution). A factory checks its options and refuses a model it
 * cannot sample, with an InvalidValueError saying why.
 */
export const builtinSamplers = (): Registry<SamplerFactory> => new Registry<SamplerFactory>('sampler')
  .register(GibbsModelSampler.type, (model, spec) => {
    checkSpec('sampler', spec, OPTIONS[GibbsModelSampler.type]);
    return new GibbsModelSampler(model);
  })
  .register(GlauberModelSampler.type, (model, spec) => new GlauberModelSampler(model, checkSpec<GlauberModelSamplerOptions>('sampler', spec, OPTIONS[GlauberModelSampler.type])))
  .register(ParallelDynamicsModelSampler.type, (model, spec) =>
    new ParallelDynamicsModelSampler(model, checkSpec<ParallelDynamicsModelSamplerOptions>('sampler', spec, OPTIONS[ParallelDynamicsModelSampler.type])),
  );
