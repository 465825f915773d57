import { Matrix, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { computeScaledInput } from '../models/scaled-input.js';
import { BernoulliLayer } from '../units/bernoulli.js';

/** Columns whose largest scaled term exceeds this (nats) leave the fast path: exp(-m) would underflow. */
const MAX_SHIFT = 700;
/** A group of factors is multiplied before one log: at most this many, and its shifts sum below GROUP_SHIFT. */
const GROUP_SIZE = 64;
const GROUP_SHIFT = 600;

/**
 * Whether {@link binaryPairsLogPartition} handles a model whose `enumerated` block is enumerated
 * and `summed` block summed out: every layer of both is Bernoulli, whose own energy is linear in
 * its state and whose log-partition is sum softplus(input).
 */
export function binaryPairsApply(model: EnergyModel, enumerated: readonly number[], summed: readonly number[]): boolean {
  const units = enumerated.reduce((n, l) => n + model.layers[l]!.size, 0);
  return units >= 2 && [...enumerated, ...summed].every((l) => model.layers[l] instanceof BernoulliLayer);
}

/**
 * Exact log Z of a binary model whose graph splits into two blocks: the enumerated block's n
 * units split into halves A and B, so a joint state is x = a + b and the summed-out block's input
 * is affine, u(x) = u(a) + field(b). Two tables (2^|A| and 2^|B| rows) come from the backend's
 * matrix product; then for every pair
 *
 *   log p*(a + b) = own(a) + own(b) + sum_i log(1 + e^{u_i(a)} e^{field_i(b)}),
 *
 * the products of the factors taken in float64 on the host, with a per-column shift that keeps
 * every factor in (0, 2], one log per group of factors, and a running log-sum-exp. Returns
 * undefined when a column's terms are too large for the shifted factors (then the caller
 * enumerates through free energies).
 */
export async function binaryPairsLogPartition(model: EnergyModel, enumerated: readonly number[], summed: readonly number[]): Promise<number | undefined> {
  const n = enumerated.reduce((k, l) => k + model.layers[l]!.size, 0);
  const bitsA = Math.ceil(n / 2);
  const a = await halfTable(model, enumerated, summed, 0, bitsA, true);
  const b = await halfTable(model, enumerated, summed, bitsA, n - bitsA, false);
  const cols = a.cols;
  // Shift column i by m_i = max(0, max u_i(a) + max field_i(b)) so that every factor lies in (0, 2].
  const shift = new Float64Array(cols);
  const floor = new Float64Array(cols);
  const maxA = columnMax(a.inputs, a.rows, cols);
  const maxB = columnMax(b.inputs, b.rows, cols);
  let shiftSum = 0;
  for (let i = 0; i < cols; i++) {
    shift[i] = Math.max(0, maxA[i]! + maxB[i]!);
    if (shift[i]! > MAX_SHIFT) return undefined;
    floor[i] = Math.exp(-shift[i]!);
    shiftSum += shift[i]!;
  }
  const expA = new Float64Array(a.rows * cols);
  const expB = new Float64Array(b.rows * cols);
  for (let r = 0; r < a.rows; r++) for (let i = 0; i < cols; i++) expA[r * cols + i] = Math.exp(a.inputs[r * cols + i]! + maxB[i]! - shift[i]!);
  for (let r = 0; r < b.rows; r++) for (let i = 0; i < cols; i++) expB[r * cols + i] = Math.exp(b.inputs[r * cols + i]! - maxB[i]!);
  const groups = factorGroups(shift);

  let max = -Infinity;
  let sum = 0;
  const terms = new Float64Array(b.rows);
  for (let r = 0; r < a.rows; r++) {
    const ra = r * cols;
    for (let q = 0; q < b.rows; q++) {
      const rb = q * cols;
      let logProduct = 0;
      for (let g = 0; g + 1 < groups.length; g++) {
        let product = 1;
        for (let i = groups[g]!, end = groups[g + 1]!; i < end; i++) product *= floor[i]! + expA[ra + i]! * expB[rb + i]!;
        logProduct += Math.log(product);
      }
      terms[q] = logProduct + a.own[r]! + b.own[q]!;
    }
    for (const x of terms) {
      if (x > max) {
        sum = sum * Math.exp(max - x) + 1;
        max = x;
      } else {
        sum += Math.exp(x - max);
      }
    }
  }
  return max + Math.log(sum) + shiftSum;
}

/** Column boundaries of the factor groups: at most GROUP_SIZE columns whose shifts sum below GROUP_SHIFT. */
function factorGroups(shift: Float64Array): number[] {
  const bounds = [0];
  let count = 0;
  let total = 0;
  for (let i = 0; i < shift.length; i++) {
    if (count === GROUP_SIZE || (count > 0 && total + shift[i]! > GROUP_SHIFT)) {
      bounds.push(i);
      count = 0;
      total = 0;
    }
    count++;
    total += shift[i]!;
  }
  bounds.push(shift.length);
  return bounds;
}

function columnMax(values: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols).fill(-Infinity);
  for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) if (values[r * cols + i]! > out[i]!) out[i] = values[r * cols + i]!;
  return out;
}

/**
 * Every state of `bits` enumerated units starting at unit `first` (the others off): the summed-out
 * block's inputs (with the layers' offsets when `withOffset`, else the bare fields), their
 * columns concatenated over the summed layers, and the enumerated layers' -energy of own terms.
 */
async function halfTable(
  model: EnergyModel,
  enumerated: readonly number[],
  summed: readonly number[],
  first: number,
  bits: number,
  withOffset: boolean,
): Promise<{ rows: number; cols: number; inputs: Float64Array; own: Float64Array }> {
  const be = model.backend;
  const rows = 2 ** bits;
  const owned: Tensor[] = [];
  const track = (t: Tensor) => (owned.push(t), t);
  try {
    const states: (Tensor | undefined)[] = model.layers.map(() => undefined);
    let unit = 0;
    for (const l of enumerated) {
      const size = model.layers[l]!.size;
      const m = Matrix.zeros(rows, size, be.precision);
      for (let j = 0; j < size; j++, unit++) {
        const bit = unit - first;
        if (bit < 0 || bit >= bits) continue;
        for (let r = 0; r < rows; r++) if ((r >> bit) & 1) m.data[r * size + j] = 1;
      }
      states[l] = track(be.upload(m));
    }
    const own = track(be.zeros(rows, 1));
    for (const l of enumerated) model.layers[l]!.addEnergy(states[l]!, own, -1, model.workspace);
    const cols = summed.reduce((k, s) => k + model.layers[s]!.size, 0);
    const inputs = new Float64Array(rows * cols);
    let at = 0;
    for (const s of summed) {
      const size = model.layers[s]!.size;
      const t = track(be.zeros(rows, size));
      computeScaledInput(model, s, states, t, { withoutOffset: !withOffset });
      const values = (await be.read(t)).data;
      for (let r = 0; r < rows; r++) for (let j = 0; j < size; j++) inputs[r * cols + at + j] = values[r * size + j]!;
      at += size;
    }
    return { rows, cols, inputs, own: Float64Array.from((await be.read(own)).data) };
  } finally {
    for (const t of owned) be.dispose(t);
  }
}
