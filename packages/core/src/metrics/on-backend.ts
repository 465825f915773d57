import type { Backend } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { buildModel } from '../models/registry.js';

/**
 * Runs `fn` on the model itself, or, for another `backend` (a float64 one for float64 numbers
 * of a float32 model), on a copy of the model's spec and parameters there, disposed afterwards.
 */
export async function onBackend<T>(model: EnergyModel, backend: Backend | undefined, fn: (m: EnergyModel) => Promise<T>): Promise<T> {
  if (backend === undefined || backend === model.backend) return fn(model);
  const copy = buildModel(backend, model.spec(), { components: model.components });
  try {
    copy.setParams(await model.getParams());
    return await fn(copy);
  } finally {
    copy.dispose();
  }
}
