import type { Matrix, Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { forEachChunk } from '../models/host-data.js';

/**
 * -F(v) of each row of host data (the visible layer's values), in float64: the free energies
 * come from the model's backend, chunk by chunk. For models whose other layers all hang off the
 * visible layer (an RBM), so that F(v) sums them out exactly.
 */
export async function negativeFreeEnergyRows(model: EnergyModel, data: Matrix): Promise<Float64Array> {
  const out = new Float64Array(data.rows);
  const states: (Tensor | undefined)[] = model.layers.map(() => undefined);
  await forEachChunk(model, data, async (chunk, start) => {
    const f = model.workspace.get('metric:free-energy-rows', chunk.rows, 1);
    states[0] = chunk;
    model.freeEnergy(states, f);
    const values = (await model.backend.read(f)).data;
    for (let i = 0; i < chunk.rows; i++) out[start + i] = -values[i]!;
  });
  return out;
}
