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
    if (error instanceof InvalidValueError) return error.message;
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
 * Exact mean log-likelihood (1/n) sum_rows log p(v) = -F(v) - log Z of host data, for models
 * whose hidden layers all hang off the visible layer (an RBM). Pass `logZ` to reuse one.
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
  if (dataBlock!.length !== 1) throw new InvalidValueError('exact log-likelihood needs every other layer to hang off the visible layer (an RBM)');
  const logZ = options.logZ ?? (await logPartitionOn(model, options));
  const out = await negativeFreeEnergyRows(model, data);
  for (let i = 0; i < out.length; i++) out[i]! -= logZ;
  return out;
}
