import { InvalidValueError, Matrix, type Backend, type Precision, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { binaryPairsApply, binaryPairsLogPartition } from './exact-binary-pairs.js';
import { negativeFreeEnergyRows } from './free-energy-rows.js';
import { onBackend } from './on-backend.js';

/** Options of the exact (enumeration) metrics. */
export interface ExactOptions {
  /** Refuse models whose smaller block has more joint states than this; default 2^25 (25 binary units). */
  maxStates?: number;
  /** States per backend call of the general route (through free energies); default 4096. */
  chunkRows?: number;
  /**
   * Binary models (Bernoulli layers only) take the pairwise route by default (the enumerated
   * units split in two halves, combined pair by pair); false forces the general route, one free
   * energy per enumerated state. Both give log Z to float64 rounding.
   */
  pairs?: boolean;
  /**
   * Compute on this backend instead of the model's (a copy of the parameters goes there):
   * pass a float64 backend to get float64 free energies for a float32 model.
   */
  backend?: Backend;
}

/** Default cap on enumerated states: 2^25, about 25 binary units. */
export const MAX_EXACT_STATES = 2 ** 25;

/**
 * log Z = log sum_x exp(-E(x)) exactly: enumerate every joint state of the block of layers
 * with fewer states (for an RBM, the smaller layer) and sum the other block out analytically,
 * log Z = logsumexp_s(-F(s)). A binary model (Bernoulli layers only) takes a faster route with
 * the same result: the enumerated units split into two halves whose tables come from the
 * backend's matrix product, combined pair by pair in float64 (a 784 x 20 RBM in seconds). Free energies come from the model's backend (float64 when the
 * backend is, or pass a float64 `backend`); the log-sum-exp runs in float64 on the host. Refuses, naming the sizes, when the
 * smaller block has more than `maxStates` states or units without a finite state space, and
 * refuses models with a layer whose log-partition is approximate (`approximateLogPartition`, ReLU).
 * Continuous layers (Gaussian) are integrated out exactly, so log Z of a Gaussian-Bernoulli RBM
 * is the log normaliser of its density over R^n.
 */
export async function exactLogPartition(model: EnergyModel, options: ExactOptions = {}): Promise<number> {
  return onBackend(model, options.backend, (m) => logPartitionOn(m, options));
}

/**
 * Why `exactLogPartition` (and so `exactLogLikelihood`) refuses `model` with this `maxStates`, in
 * the words of the error it throws, or undefined when it can enumerate: a layer that sums out only
 * approximately (`approximateLogPartition`, ReLU), layers that do not split into two blocks, a
 * smaller block without a finite set of discrete states, or one with more than `maxStates` joint
 * states (default 2^25). Ask before choosing a method (exact or AIS), or to skip with the reason.
 */
export function exactLogZObstacle(model: EnergyModel, maxStates: number = MAX_EXACT_STATES): string | undefined {
  const found = enumeratedBlock(model, maxStates);
  return typeof found === 'string' ? found : undefined;
}

/** The block `exactLogPartition` enumerates and its joint state count, or why there is none. */
function enumeratedBlock(model: EnergyModel, maxStates: number): { block: number[]; total: number } | string {
  const approximate = approximateLayer(model);
  if (approximate !== undefined) return approximate;
  let blocks: [number[], number[]];
  try {
    blocks = model.bipartition();
  } catch (error) {
    // A general Boltzmann machine (lateral weights, odd cycles): every unit is enumerated instead.
    if (error instanceof InvalidValueError) {
      return `${error.message}; exact log Z of a general Boltzmann machine enumerates all its units: exactBoltzmannLogPartition(await graphQuadraticEnergy(model)) (and exactBoltzmannLogLikelihood for data), up to about 25 units`;
    }
    throw error;
  }
  const counts = blocks.map((b) => b.reduce((n, l) => n * model.layers[l]!.stateCount, 1));
  const which = counts[0]! <= counts[1]! ? 0 : 1;
  const block = blocks[which]!;
  const total = counts[which]!;
  const describe = block.map((l) => `"${model.layers[l]!.name}" (${model.layers[l]!.size} ${model.layers[l]!.type} units)`).join(', ');
  if (!Number.isFinite(total) || block.some((l) => model.layers[l]!.enumerateStates === undefined)) {
    return `exact log Z needs a block of discrete units to enumerate; the smaller block is ${describe}`;
  }
  if (total > maxStates) {
    return `exact log Z would enumerate ${total} states of ${describe}; the limit is ${maxStates} (about 25 binary units): use a smaller model or an estimate such as AIS`;
  }
  return { block, total };
}

async function logPartitionOn(model: EnergyModel, options: ExactOptions): Promise<number> {
  const found = enumeratedBlock(model, options.maxStates ?? MAX_EXACT_STATES);
  if (typeof found === 'string') throw new InvalidValueError(found);
  const { block, total } = found;
  const summed = model.layers.map((_, l) => l).filter((l) => !block.includes(l));
  if (options.pairs !== false && binaryPairsApply(model, block, summed)) {
    const fast = await binaryPairsLogPartition(model, block, summed);
    if (fast !== undefined) return fast;
  }
  const chunkRows = options.chunkRows ?? 4096;

  const be = model.backend;
  const states: (Tensor | undefined)[] = model.layers.map(() => undefined);
  let max = -Infinity;
  let sum = 0;
  for (let start = 0; start < total; start += chunkRows) {
    const rows = Math.min(chunkRows, total - start);
    // Mixed-radix split of the joint index over the block's layers, first layer fastest.
    let radix = 1;
    for (const l of block) {
      const layer = model.layers[l]!;
      const m = enumerateJoint(layer.enumerateStates!.bind(layer), layer.stateCount, radix, start, rows, be.precision);
      radix *= layer.stateCount;
      const t = model.workspace.get(`exact:state:${layer.name}`, rows, layer.size);
      be.write(t, m);
      states[l] = t;
    }
    const f = model.workspace.get('exact:free-energy', rows, 1);
    model.freeEnergy(states, f);
    const values = (await be.read(f)).data;
    for (let i = 0; i < rows; i++) {
      const x = -values[i]!;
      if (x > max) {
        sum = sum * Math.exp(max - x) + 1;
        max = x;
      } else {
        sum += Math.exp(x - max);
      }
    }
  }
  return max + Math.log(sum);
}

/** Throws when a layer sums out only approximately (ReLU): an "exact" number would be a lie. */
function refuseApproximateLayers(model: EnergyModel): void {
  const reason = approximateLayer(model);
  if (reason !== undefined) throw new InvalidValueError(reason);
}

/** Why no exact number can be had when a layer sums out only approximately, or undefined. */
function approximateLayer(model: EnergyModel): string | undefined {
  const layer = model.layers.find((l) => l.approximateLogPartition !== undefined);
  return layer === undefined ? undefined : `no exact log Z or log-likelihood for a model with layer "${layer.name}" (${layer.size} ${layer.type} units): ${layer.approximateLogPartition}`;
}

/** States of one layer for joint indices start..start+rows-1, where this layer's digit has weight `radix`. */
function enumerateJoint(
  enumerate: (start: number, count: number, precision: Precision) => Matrix,
  count: number,
  radix: number,
  start: number,
  rows: number,
  precision: Precision,
): Matrix {
  const digit = (i: number) => Math.floor(i / radix) % count;
  const first = digit(start);
  // Fast path: consecutive digits (the first layer, or a chunk inside one digit run).
  if (radix === 1 && first + rows <= count) return enumerate(first, rows, precision);
  const rowsOut: Matrix[] = [];
  for (let i = 0; i < rows; i++) rowsOut.push(enumerate(digit(start + i), 1, precision));
  const m = Matrix.zeros(rows, rowsOut[0]!.cols, precision);
  rowsOut.forEach((r, i) => m.data.set(r.data, i * r.cols));
  return m;
}

/**
 * Exact mean log-likelihood (1/n) sum_rows log p(v) = log p*(v) - log Z of host data: an RBM's
 * log p*(v) = -F(v); a DBM's enumerates the layers of the visible block (h2, h4...) beside each
 * row, within `maxStates`. Pass `logZ` to reuse one.
 */
export async function exactLogLikelihood(model: EnergyModel, data: Matrix, options: ExactOptions & { logZ?: number } = {}): Promise<number> {
  const rows = await exactLogLikelihoodRows(model, data, options);
  let s = 0;
  for (const x of rows) s += x;
  return s / rows.length;
}

/** Per-row exact log p(v), float64. */
export async function exactLogLikelihoodRows(model: EnergyModel, data: Matrix, options: ExactOptions & { logZ?: number } = {}): Promise<Float64Array> {
  model.layers[0]!.validate(data, 'data');
  return onBackend(model, options.backend, (m) => logLikelihoodRowsOn(m, data, options));
}

async function logLikelihoodRowsOn(model: EnergyModel, data: Matrix, options: ExactOptions & { logZ?: number }): Promise<Float64Array> {
  refuseApproximateLayers(model);
  const [dataBlock] = model.bipartition();
  const clampedWith = dataBlock!.filter((l) => l !== 0);
  const logZ = options.logZ ?? (await logPartitionOn(model, options));
  const out = clampedWith.length === 0 ? await negativeFreeEnergyRows(model, data) : await deepNegativeFreeEnergyRows(model, data, clampedWith, options.maxStates ?? MAX_EXACT_STATES);
  for (let i = 0; i < out.length; i++) out[i]! -= logZ;
  return out;
}

/**
 * log p*(v) of each row for a model whose visible block holds other layers too (a DBM: v, h2,
 * h4...): those layers' joint states are enumerated beside each row, the other block summed out
 * (-F(v, h_even)), and combined by log-sum-exp in float64. Refuses beyond `maxStates` states.
 */
async function deepNegativeFreeEnergyRows(model: EnergyModel, data: Matrix, clampedWith: readonly number[], maxStates: number): Promise<Float64Array> {
  const layers = clampedWith.map((l) => model.layers[l]!);
  const total = layers.reduce((n, l) => n * l.stateCount, 1);
  const describe = layers.map((l) => `"${l.name}" (${l.size} ${l.type} units)`).join(', ');
  if (!Number.isFinite(total) || layers.some((l) => l.enumerateStates === undefined)) {
    throw new InvalidValueError(`an exact log-likelihood of this model needs the layers beside the visible one in its block, ${describe}, to be discrete and enumerable`);
  }
  if (total > maxStates) throw new InvalidValueError(`an exact log-likelihood would enumerate ${total} states of ${describe} for every row; the limit is ${maxStates}: use variationalLowerBound with an AIS log Z`);
  const be = model.backend;
  const states: (Tensor | undefined)[] = model.layers.map(() => undefined);
  const owned: Tensor[] = [];
  try {
    let radix = 1;
    for (const l of clampedWith) {
      const layer = model.layers[l]!;
      const t = be.upload(enumerateJoint(layer.enumerateStates!.bind(layer), layer.stateCount, radix, 0, total, be.precision));
      owned.push(t);
      states[l] = t;
      radix *= layer.stateCount;
    }
    const visible = be.zeros(total, data.cols);
    const f = be.zeros(total, 1);
    owned.push(visible, f);
    states[0] = visible;
    const out = new Float64Array(data.rows);
    const repeated = Matrix.zeros(total, data.cols, be.precision);
    for (let r = 0; r < data.rows; r++) {
      const row = data.data.subarray(r * data.cols, (r + 1) * data.cols);
      for (let i = 0; i < total; i++) repeated.data.set(row, i * data.cols);
      be.write(visible, repeated);
      model.freeEnergy(states, f);
      const values = (await be.read(f)).data;
      let max = -Infinity;
      for (const x of values) max = Math.max(max, -x);
      let sum = 0;
      for (const x of values) sum += Math.exp(-x - max);
      out[r] = max + Math.log(sum);
    }
    return out;
  } finally {
    for (const t of owned) be.dispose(t);
  }
}
