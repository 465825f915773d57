import { CounterRng, InvalidValueError, Matrix, ShapeError, nextKey, rngState, uniformAt, type Backend, type RngState } from '@boltzmann/tensor';
import type { Connection } from '../connections/connection.js';
import { DenseConnection } from '../connections/dense.js';
import { RngStreams } from '../rng-streams.js';
import type { EstimatorSpec } from '../estimators/estimator.js';
import { checkModelFitOptions, modelTrainerOptions, type ModelFitOptions } from './model-fit-options.js';
import type { TrainingRows } from '../training/training-loop.js';
import { Trainer } from '../training/trainer.js';
import { UnsampledLayer } from '../units/unsampled.js';
import type { UnitLayer } from '../units/unit-layer.js';
import { checkInteger, checkNumber } from '../validation.js';
import { EnergyModel, type ModelOptions } from './energy-model.js';
import { createLayer, type LayerOptions } from './rbm.js';

/** Options of `ConditionalRBM.create`. */
export interface ConditionalRBMOptions {
  /** The units of one frame: a size (Bernoulli) or a layer ({ type: 'multinomial', size, groupSize } for one-hot symbols, 'gaussian' for real values). */
  visible: LayerOptions;
  hidden: number;
  /** How many past frames the biases depend on (the memory n); >= 1. */
  order: number;
  /** Standard deviation of the N(0, std) initial weights (W, A and B); default 0.01. */
  weightStd?: number;
  seed?: number;
}

/** Options of `ConditionalRBM.fit`. */
export interface SequenceFitOptions extends ModelFitOptions {
  /** L2 decay of W, A and B; default 1e-4. */
  weightDecay?: number;
  /** (history, frame) windows per step; default 50. */
  batchSize?: number;
  /**
   * Negative-phase frames: samples (true) or conditional means (false). Default: samples for
   * discrete frames (Bernoulli, one-hot), means for continuous ones (Gaussian).
   */
  sampleVisible?: boolean;
  onEpoch?: (epoch: number) => void | boolean | Promise<void | boolean>;
}

/** Options of `ConditionalRBM.generate`. */
export interface GenerateOptions {
  /** "most-likely": the most probable next frame (discrete frames) or the mean-field mean; "sample": a draw. Default "most-likely". */
  mode?: 'most-likely' | 'sample';
  /** Mean-field / Gibbs iterations for frames too large to enumerate; default 30. */
  gibbsSteps?: number;
  seed?: number;
}

/** Frames a discrete visible layer may have for exact next-frame distributions. */
const MAX_ENUMERATED_FRAMES = 4096;

/**
 * A conditional RBM (Taylor, Hinton & Roweis 2007; Taylor & Hinton 2009): an RBM over the
 * current frame v_t whose biases depend on the last n frames h_<t = [v_(t-1), ..., v_(t-n)]:
 *
 *   E(v_t, h | past) = E_v(v_t; b + past A) - (c + past B).h - v_t W h,
 *
 * i.e. autoregressive visible biases (A) and dynamic hidden biases (B). Trained by CD-k on
 * (past, frame) windows cut from sequences, with the past clamped in both phases; it predicts
 * and generates continuations frame by frame. For discrete frames small enough to enumerate
 * (one-hot symbols, a few binary units) the next-frame distribution p(v_t | past) is exact,
 * from free energies; otherwise it is approximated by mean-field iterations.
 *
 * As a model graph: layers "visible" (the frame), "hidden" and "history" (n frames of
 * `UnsampledLayer` inputs, most recent first), connections "visible-hidden" (W),
 * "history-visible" (A) and "history-hidden" (B). Sequences are Matrix objects, one row a frame.
 */
export class ConditionalRBM extends EnergyModel {
  override get kind(): string {
    return 'conditional-rbm';
  }

  /** n: past frames in the history. */
  readonly order: number;
  /** Units per frame. */
  readonly frameSize: number;

  constructor(backend: Backend, layers: readonly UnitLayer[], connections: readonly Connection[], options: ModelOptions = {}) {
    super(backend, layers, connections, options);
    const [visible, hidden, history] = layers;
    const names = connections.map((c) => `${c.from.name}->${c.to.name}`).sort().join(', ');
    if (layers.length !== 3 || visible!.name !== 'visible' || hidden!.name !== 'hidden' || history!.name !== 'history' || history!.type !== UnsampledLayer.type
      || names !== 'history->hidden, history->visible, visible->hidden' || history!.size % visible!.size !== 0) {
      throw new InvalidValueError('a conditional RBM has layers "visible", "hidden" and "history" (unsampled, a whole number of frames) joined visible -> hidden, history -> visible and history -> hidden');
    }
    this.frameSize = visible!.size;
    this.order = history!.size / visible!.size;
  }

  /** A new conditional RBM: N(0, weightStd) weights, zero biases (the visible ones set from the data at the first fit). */
  static create(backend: Backend, options: ConditionalRBMOptions): ConditionalRBM {
    const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff);
    const order = checkInteger('order (past frames the model remembers)', options.order);
    const visible = createLayer(backend, 'visible', options.visible);
    const hidden = createLayer(backend, 'hidden', checkInteger('hidden units', options.hidden));
    const history = new UnsampledLayer(backend, { type: UnsampledLayer.type, name: 'history', size: order * visible.size });
    const rng = new CounterRng(seed, RngStreams.init);
    const std = checkNumber('weightStd', options.weightStd ?? 0.01, 0);
    const connections = [
      new DenseConnection(backend, 'visible-hidden', visible, hidden, { std, rng }),
      new DenseConnection(backend, 'history-visible', history, visible, { std, rng }),
      new DenseConnection(backend, 'history-hidden', history, hidden, { std, rng }),
    ];
    return new ConditionalRBM(backend, [visible, hidden, history], connections, { seed });
  }

  get visible(): UnitLayer {
    return this.layers[0]!;
  }

  get hidden(): UnitLayer {
    return this.layers[1]!;
  }

  /**
   * The (past, next frame) windows of sequences: for every t >= order, past = [v_(t-1), ...,
   * v_(t-order)] (most recent first) and next = v_t. Each sequence must hold valid frames for
   * the visible units and at least order + 1 of them.
   */
  windows(sequences: readonly Matrix[]): { history: Matrix; next: Matrix } {
    if (!Array.isArray(sequences) || sequences.length === 0) throw new InvalidValueError('training needs at least one sequence');
    let count = 0;
    sequences.forEach((s, k) => {
      this.checkFrames(s, `sequence ${k}`);
      if (s.rows < this.order + 1) {
        throw new InvalidValueError(`sequence ${k} has ${s.rows} frames; a model with memory ${this.order} needs at least ${this.order + 1} (${this.order} to condition on, 1 to predict)`);
      }
      count += s.rows - this.order;
    });
    const f = this.frameSize;
    const history = Matrix.zeros(count, this.order * f, this.backend.precision);
    const next = Matrix.zeros(count, f, this.backend.precision);
    let row = 0;
    for (const s of sequences) {
      for (let t = this.order; t < s.rows; t++, row++) {
        next.data.set(s.row(t), row * f);
        history.data.set(this.pastOf(s, t).data, row * this.order * f);
      }
    }
    return { history, next };
  }

  /**
   * The training rows of sequences: one row per (past, next frame) window (see `windows`),
   * the next frame as the visible values and the past as the given values of layer "history".
   * A core `Trainer` given these rows (CD) clamps the past in both phases.
   */
  trainingRows(sequences: readonly Matrix[]): TrainingRows {
    const { history, next } = this.windows(sequences);
    return { visible: next, given: { history } };
  }

  /** The rows of a data set are the frames of one sequence, in order: its windows (see `trainingRows`). */
  override rowsForTraining(frames: Matrix): TrainingRows {
    return this.trainingRows([frames]);
  }

  /**
   * Trains by CD-k on the windows of the sequences with a core `Trainer`, the past clamped in
   * both phases: grads = <dE/dtheta>_(data, past) - <dE/dtheta>_(reconstruction, past). The
   * visible biases are set from the frames' means first while they are all zero.
   * A parameter that turns NaN or Inf in an epoch stops it with a DivergenceError naming the
   * epoch and the parameter, the values of the last good epoch end put back.
   */
  async fit(sequences: readonly Matrix[], options: SequenceFitOptions): Promise<void> {
    const rows = this.trainingRows(sequences);
    const settings = checkModelFitOptions(options, { weightDecay: 1e-4, batchSize: 50 });
    const trainer = new Trainer(this, { ...modelTrainerOptions(settings, this.estimatorSpec(settings.k, options.sampleVisible)), initVisibleBiasFromData: true });
    try {
      await trainer.fit(rows, {
        epochs: settings.epochs,
        monitor: { freeEnergy: false, pseudoLikelihood: false },
        onEpoch: options.onEpoch ? (report) => options.onEpoch!(report.epoch) : undefined,
      });
    } finally {
      trainer.dispose();
    }
  }

  /**
   * CD-k for this model: the negative-phase frames are samples for discrete frames (with
   * one-hot frames the mean-field shortcut, hidden units driven by a mixture of symbols, is
   * biased enough to stall learning: measured, an order-2 symbol table stuck near 55% instead
   * of 97% next-symbol accuracy) and conditional means for continuous ones (Taylor's recipe),
   * unless `sampleVisible` says otherwise or the layer's gradient needs samples.
   */
  estimatorSpec(k = 1, sampleVisible?: boolean): EstimatorSpec {
    const sample = this.visible.needsSampledStatistics === true || (sampleVisible ?? this.visible.enumerateStates !== undefined);
    return { type: 'cd', k, meanLayers: sample ? [] : [this.visible.name] };
  }

  /**
   * Exact p(v_t = state | past) for every enumerated state of a discrete frame (one-hot symbols:
   * one column per symbol), from the free energies F(v_t, past) with the hidden units summed
   * out. `past`: rows of order * frameSize values, most recent frame first. Returns rows x states.
   */
  async nextDistribution(past: Matrix): Promise<{ probabilities: Matrix; states: Matrix }> {
    const visible = this.visible;
    this.checkPast(past);
    const count = visible.stateCount;
    if (visible.enumerateStates === undefined || !(count <= MAX_ENUMERATED_FRAMES)) {
      throw new InvalidValueError(`the exact next-frame distribution enumerates the frames of layer "visible" (${visible.type}, ${count} states); the limit is ${MAX_ENUMERATED_FRAMES}: use predictNext (mean-field)`);
    }
    const states = visible.enumerateStates(0, count, 'float64');
    const probabilities = Matrix.zeros(past.rows, count, 'float64');
    const be = this.backend;
    const rowsPerChunk = Math.max(1, Math.floor(4096 / count));
    for (let r0 = 0; r0 < past.rows; r0 += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, past.rows - r0);
      const v = Matrix.zeros(rows * count, this.frameSize, be.precision);
      const h = Matrix.zeros(rows * count, past.cols, be.precision);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < count; c++) {
          v.data.set(states.row(c), (r * count + c) * this.frameSize);
          h.data.set(past.row(r0 + r), (r * count + c) * past.cols);
        }
      }
      const vt = this.workspace.get('crbm:candidates', rows * count, this.frameSize);
      const ht = this.workspace.get('crbm:candidate-past', rows * count, past.cols);
      const f = this.workspace.get('crbm:free-energy', rows * count, 1);
      be.write(vt, v);
      be.write(ht, h);
      this.freeEnergy([vt, undefined, ht], f);
      const free = (await be.read(f)).data;
      for (let r = 0; r < rows; r++) {
        let max = -Infinity;
        for (let c = 0; c < count; c++) max = Math.max(max, -free[r * count + c]!);
        let z = 0;
        for (let c = 0; c < count; c++) z += Math.exp(-free[r * count + c]! - max);
        for (let c = 0; c < count; c++) probabilities.data[(r0 + r) * count + c] = Math.exp(-free[r * count + c]! - max) / z;
      }
    }
    return { probabilities, states };
  }

  /**
   * E[v_t | past] for each row of `past`: exact for enumerable discrete frames, otherwise by
   * `gibbsSteps` mean-field iterations (h = E[h | v, past], v = E[v | h, past]) from the most
   * recent frame.
   */
  async predictNext(past: Matrix, options: { gibbsSteps?: number } = {}): Promise<Matrix> {
    this.checkPast(past);
    const visible = this.visible;
    if (visible.enumerateStates !== undefined && visible.stateCount <= MAX_ENUMERATED_FRAMES) {
      const { probabilities, states } = await this.nextDistribution(past);
      const out = Matrix.zeros(past.rows, this.frameSize, 'float64');
      for (let r = 0; r < past.rows; r++) {
        for (let c = 0; c < states.rows; c++) {
          const p = probabilities.get(r, c);
          for (let j = 0; j < this.frameSize; j++) out.data[r * this.frameSize + j]! += p * states.get(c, j);
        }
      }
      return out;
    }
    const steps = checkInteger('gibbsSteps', options.gibbsSteps ?? 30);
    const be = this.backend;
    const rows = past.rows;
    const pt = this.workspace.get('crbm:predict-past', rows, past.cols);
    be.write(pt, past);
    const v = this.workspace.get('crbm:predict-frame', rows, this.frameSize);
    const init = Matrix.zeros(rows, this.frameSize, be.precision); // start from the most recent frame
    for (let r = 0; r < rows; r++) init.data.set(past.row(r).subarray(0, this.frameSize), r * this.frameSize);
    be.write(v, init);
    const h = this.workspace.get('crbm:predict-hidden', rows, this.hidden.size);
    const vIn = this.workspace.get('crbm:predict-visible-input', rows, this.frameSize);
    for (let s = 0; s < steps; s++) {
      this.computeInput(1, [v, undefined, pt], h);
      this.hidden.mean(h, h);
      this.computeInput(0, [undefined, h, pt], vIn);
      visible.mean(vIn, v);
    }
    return (await be.read(v)).toFloat64();
  }

  /**
   * Continues `prefix` (at least `order` frames) by `steps` frames, one at a time, each
   * conditioned on the `order` frames before it: the most likely next frame (exact for
   * enumerable discrete frames, the mean-field mean otherwise) or a sample. Returns prefix +
   * continuation.
   */
  async generate(prefix: Matrix, steps: number, options: GenerateOptions = {}): Promise<Matrix> {
    this.checkFrames(prefix, 'prefix');
    if (prefix.rows < this.order) throw new InvalidValueError(`the prefix has ${prefix.rows} frames; a model with memory ${this.order} needs at least ${this.order} to continue from`);
    checkInteger('steps', steps, 0);
    const mode = options.mode ?? 'most-likely';
    if (mode !== 'most-likely' && mode !== 'sample') throw new InvalidValueError(`mode must be "most-likely" or "sample", got ${String(mode)}`);
    const rng: RngState = rngState(checkInteger('seed', options.seed ?? 0, 0, 0xffffffff), RngStreams.sample);
    const f = this.frameSize;
    const out = Matrix.zeros(prefix.rows + steps, f, 'float64');
    out.data.set(prefix.data);
    const enumerable = this.visible.enumerateStates !== undefined && this.visible.stateCount <= MAX_ENUMERATED_FRAMES;
    for (let t = prefix.rows; t < out.rows; t++) {
      const past = this.pastOf(out, t);
      let frame: ArrayLike<number>;
      if (enumerable) {
        const { probabilities, states } = await this.nextDistribution(past);
        frame = states.row(mode === 'sample' ? drawIndex(probabilities.row(0), uniformAt(nextKey(rng), 0)) : argmax(probabilities.row(0)));
      } else if (mode === 'most-likely') {
        frame = (await this.predictNext(past, options)).row(0);
      } else {
        frame = await this.sampleFrame(past, checkInteger('gibbsSteps', options.gibbsSteps ?? 30), rng);
      }
      out.data.set(frame, t * f);
    }
    return out;
  }

  /** The history row before frame t of a sequence: [v_(t-1), ..., v_(t-order)]. */
  pastOf(sequence: Matrix, t: number): Matrix {
    if (t < this.order || t > sequence.rows) throw new ShapeError(`frame ${t} has no ${this.order} frames before it in a sequence of ${sequence.rows}`);
    const f = this.frameSize;
    const past = Matrix.zeros(1, this.order * f, this.backend.precision);
    for (let d = 1; d <= this.order; d++) past.data.set(sequence.row(t - d), (d - 1) * f);
    return past;
  }

  /** One frame drawn by `steps` Gibbs steps with the past clamped, from the most recent frame. */
  private async sampleFrame(past: Matrix, steps: number, rng: RngState): Promise<Float32Array | Float64Array> {
    const be = this.backend;
    const pt = this.workspace.get('crbm:sample-past', 1, past.cols);
    be.write(pt, past);
    const v = this.workspace.get('crbm:sample-frame', 1, this.frameSize);
    const init = Matrix.zeros(1, this.frameSize, be.precision);
    init.data.set(past.data.subarray(0, this.frameSize));
    be.write(v, init);
    const hIn = this.workspace.get('crbm:sample-hidden-input', 1, this.hidden.size);
    const hMean = this.workspace.get('crbm:sample-hidden-mean', 1, this.hidden.size);
    const h = this.workspace.get('crbm:sample-hidden', 1, this.hidden.size);
    const vIn = this.workspace.get('crbm:sample-visible-input', 1, this.frameSize);
    const vMean = this.workspace.get('crbm:sample-visible-mean', 1, this.frameSize);
    for (let s = 0; s < steps; s++) {
      this.computeInput(1, [v, undefined, pt], hIn);
      this.hidden.mean(hIn, hMean);
      this.hidden.sample(hIn, hMean, rng, h);
      this.computeInput(0, [undefined, h, pt], vIn);
      this.visible.mean(vIn, vMean);
      this.visible.sample(vIn, vMean, rng, v);
    }
    return (await be.read(v)).data;
  }

  private checkFrames(s: Matrix, what: string): void {
    if (!(s instanceof Matrix)) throw new InvalidValueError(`${what} must be a Matrix (one row a frame)`);
    if (s.cols !== this.frameSize) throw new ShapeError(`${what} has frames of ${s.cols} values; the model's frames have ${this.frameSize}`);
    this.visible.validate(s, what);
  }

  private checkPast(past: Matrix): void {
    if (!(past instanceof Matrix) || past.cols !== this.order * this.frameSize) {
      throw new ShapeError(`the past must have ${this.order} frames of ${this.frameSize} (${this.order * this.frameSize} values a row)${past instanceof Matrix ? `, got ${past.cols}` : ''}`);
    }
    this.layers[2]!.validate(past, 'past');
  }
}

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
  return best;
}

function drawIndex(p: ArrayLike<number>, u: number): number {
  let c = 0;
  for (let k = 0; k < p.length; k++) {
    c += p[k]!;
    if (u < c) return k;
  }
  return p.length - 1;
}
