import { CounterRng, InvalidValueError, Matrix, ShapeError, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { forEachChunk } from '../models/host-data.js';
import { DeviceSum, type Metric } from './metric.js';

/** One visible index per row, uniform over `cols`, from one op of `rng`. */
export function flipIndices(rng: CounterRng, rows: number, cols: number): Uint32Array {
  const u = rng.uniforms(new Float64Array(rows));
  const out = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = Math.floor(u[r]! * cols);
  return out;
}

/**
 * Pseudo-log-likelihood exactly as scikit-learn's `BernoulliRBM.score_samples`: flip one
 * visible unit per row (v_i -> 1 - v_i at a random i; for -1/+1 spins v_i -> -v_i: any visible
 * layer that declares itself `twoValued`) and score
 *   n_visible * log sigmoid(F(v_flipped) - F(v)) = -n_visible * softplus(-(F(v_flipped) - F(v))).
 * A stochastic estimate of sum_i log p(v_i | v_-i). Its indices come from a seeded stream;
 * `update` draws the next indices, `updateWithIndices` takes given ones.
 */
export class PseudoLikelihoodMetric implements Metric {
  readonly name = 'pseudoLogLikelihood';
  private readonly sum: DeviceSum;
  private rng: CounterRng;
  private readonly masks = new Map<number, Matrix>();
  private readonly states: (Tensor | undefined)[];
  /** The visible units' "off" value (0, or -1 for spins); "on" is 1. */
  private readonly low: number;

  constructor(readonly model: EnergyModel, readonly options: { seed?: number } = {}) {
    const visible = model.layers[0]!;
    if (visible.twoValued === undefined) {
      throw new InvalidValueError(`the pseudo-log-likelihood flips binary units (v -> 1 - v, or -v for spins); layer "${visible.name}" holds ${visible.type} units, which declare no two values (twoValued)`);
    }
    this.low = visible.twoValued === 'spin' ? -1 : 0;
    this.sum = new DeviceSum(model.backend);
    this.rng = new CounterRng(options.seed ?? 0);
    this.states = model.layers.map(() => undefined);
  }

  /** Clears the sum and restarts the index stream, so every evaluation flips the same units. */
  reset(): void {
    this.sum.reset();
    this.rng = new CounterRng(this.options.seed ?? 0);
  }

  update(batch: Tensor): void {
    this.updateWithIndices(batch, flipIndices(this.rng, batch.rows, batch.cols));
  }

  updateWithIndices(batch: Tensor, indices: Uint32Array): void {
    const scores = this.model.workspace.get('metric:pll-scores', batch.rows, 1);
    this.scoreRows(batch, indices, scores);
    this.sum.addColumns(scores);
  }

  /** out (rows x 1) = the per-row score of scikit-learn's formula with the given flipped indices. */
  scoreRows(batch: Tensor, indices: Uint32Array, out: Tensor): void {
    const { backend: be, workspace: ws } = this.model;
    const { rows, cols } = batch;
    if (indices.length !== rows) throw new ShapeError(`need one flip index per row: ${rows} rows, ${indices.length} indices`);
    const mask = this.mask(rows, cols, indices);
    const maskTensor = ws.get('metric:pll-mask', rows, cols);
    be.write(maskTensor, mask);
    // flipped = v + mask * (low + high - 2v): v_i -> low + high - v_i (its other value) where the mask is 1.
    const flipped = ws.get('metric:pll-flipped', rows, cols);
    be.affine(batch, -2, this.low + 1, flipped);
    be.binary('mul', flipped, maskTensor, flipped);
    be.binary('add', batch, flipped, flipped);
    const f = ws.get('metric:pll-f', rows, 1);
    this.states[0] = batch;
    this.model.freeEnergy(this.states, f);
    this.states[0] = flipped;
    this.model.freeEnergy(this.states, out);
    // out = -n * softplus(F(v) - F(v_flipped))
    be.binary('sub', f, out, out);
    be.unary('softplus', out, out);
    be.affine(out, -cols, 0, out);
  }

  async value(): Promise<number> {
    return (await this.sum.total()) / this.sum.rows;
  }

  dispose(): void {
    this.sum.dispose();
  }

  private mask(rows: number, cols: number, indices: Uint32Array): Matrix {
    let m = this.masks.get(rows);
    if (m === undefined || m.cols !== cols) {
      m = Matrix.zeros(rows, cols, this.model.backend.precision);
      this.masks.set(rows, m);
    }
    m.data.fill(0);
    for (let r = 0; r < rows; r++) {
      const i = indices[r]!;
      if (!(i < cols)) throw new ShapeError(`flip index ${i} of row ${r} is outside ${cols} visible units`);
      m.data[r * cols + i] = 1;
    }
    return m;
  }
}

/**
 * Per-row pseudo-log-likelihood of host data (scikit-learn's `score_samples`), float64 out.
 * `indices` (one per row) defaults to a stream seeded by `seed` (default 0).
 */
export async function pseudoLogLikelihoodRows(
  model: EnergyModel,
  data: Matrix,
  options: { seed?: number; indices?: Uint32Array } = {},
): Promise<Float64Array> {
  model.layers[0]!.validate(data, 'data');
  const indices = options.indices ?? flipIndices(new CounterRng(options.seed ?? 0), data.rows, data.cols);
  if (indices.length !== data.rows) throw new ShapeError(`need one flip index per row: ${data.rows} rows, ${indices.length} indices`);
  const metric = new PseudoLikelihoodMetric(model);
  const out = new Float64Array(data.rows);
  try {
    await forEachChunk(model, data, async (chunk, start) => {
      const scores = model.workspace.get('metric:pll-rows', chunk.rows, 1);
      metric.scoreRows(chunk, indices.subarray(start, start + chunk.rows), scores);
      out.set((await model.backend.read(scores)).data, start);
    });
  } finally {
    metric.dispose();
  }
  return out;
}

/** Mean pseudo-log-likelihood of host data (scikit-learn's `score_samples(X).mean()`), seeded. */
export async function pseudoLogLikelihood(model: EnergyModel, data: Matrix, options: { seed?: number; indices?: Uint32Array } = {}): Promise<number> {
  const rows = await pseudoLogLikelihoodRows(model, data, options);
  let s = 0;
  for (const x of rows) s += x;
  return s / rows.length;
}
