import { InvalidValueError, ShapeError, type Matrix, type RngState, type Tensor } from '@boltzmann/tensor';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';
import { computeScaledInput } from '../models/scaled-input.js';
import { checkInteger, checkNumber } from '../validation.js';
import type { Estimator, EstimatorSpec, StepObserver } from './estimator.js';

/** Options of {@link ScaledFieldCD}. */
export interface ScaledFieldCDOptions {
  /** Gibbs steps per update (the k of CD-k); default 1. */
  k?: number;
  /** Multiplies the field the hidden layer receives from the visible one; default 1 (2: the first RBM of a DBM). */
  upScale?: number;
  /** Multiplies the field the visible layer receives from the hidden one; default 1 (2: the last RBM of a DBM). */
  downScale?: number;
}

/** Per batch size: the tensors of one CD chain. */
interface Buffers {
  hiddenInput: Tensor;
  hiddenMean: Tensor;
  hiddenSample: Tensor;
  visibleInput: Tensor;
  visibleMean: Tensor;
  visibleSample: Tensor;
}

/**
 * CD-k for an RBM whose conditionals use scaled fields: p(h | v) from upScale * (field of v) +
 * hidden offset and p(v | h) from downScale * (field of h) + visible offset. Greedy DBM
 * pretraining (Salakhutdinov & Hinton 2009) trains the first RBM with doubled input (upScale 2:
 * the visible layer counted twice, standing in for the missing top-down input a DBM layer gets)
 * and the last with doubled hidden units (downScale 2); with both scales 1 it is plain CD-k.
 * As in Hinton's recipe the visible probabilities drive the chain (unless the visible layer
 * needs sampled statistics), the hidden units are sampled, and the last hidden means are the
 * model statistics. The doubled RBMs have no energy of their own: this is the update rule of
 * the reference code (monsta-hd's `dbm_first` / `dbm_last`), not a likelihood gradient.
 */
export class ScaledFieldCD implements Estimator {
  static readonly type = 'scaled-field-cd';
  readonly type = ScaledFieldCD.type;
  readonly k: number;
  readonly upScale: number;
  readonly downScale: number;
  private readonly buffers = new Map<number, Buffers>();

  constructor(readonly model: EnergyModel, options: ScaledFieldCDOptions = {}) {
    if (model.layers.length !== 2 || model.connections.length !== 1) {
      throw new InvalidValueError(`scaled-field CD trains an RBM (2 layers, 1 connection); the model has ${model.layers.length} layers and ${model.connections.length} connections`);
    }
    this.k = checkInteger('k (Gibbs steps of contrastive divergence)', options.k ?? 1);
    this.upScale = checkNumber('upScale', options.upScale ?? 1, Number.MIN_VALUE);
    this.downScale = checkNumber('downScale', options.downScale ?? 1, Number.MIN_VALUE);
  }

  async computeGradients(batch: Tensor, grads: GradientSet, rng: RngState, observer?: StepObserver): Promise<void> {
    const model = this.model;
    const [visible, hidden] = model.layers as [EnergyModel['layers'][0], EnergyModel['layers'][0]];
    if (batch.cols !== visible.size) throw new ShapeError(`batch has ${batch.cols} columns, layer "${visible.name}" has ${visible.size} units`);
    const b = this.buffersFor(batch.rows);
    const up = (v: Tensor) => {
      computeScaledInput(model, 1, [v, undefined], b.hiddenInput, { scale: this.upScale });
      hidden.mean(b.hiddenInput, b.hiddenMean);
    };

    up(batch);
    model.addEnergyGradients([batch, b.hiddenMean], 1 / batch.rows, grads, false);
    observer?.onDataPhase?.([batch, b.hiddenMean]);

    const sampleVisible = visible.needsSampledStatistics === true;
    let v: Tensor = batch;
    for (let step = 0; step < this.k; step++) {
      hidden.sample(b.hiddenInput, b.hiddenMean, rng, b.hiddenSample);
      computeScaledInput(model, 0, [undefined, b.hiddenSample], b.visibleInput, { scale: this.downScale });
      visible.mean(b.visibleInput, b.visibleMean);
      if (sampleVisible) visible.sample(b.visibleInput, b.visibleMean, rng, b.visibleSample);
      v = sampleVisible ? b.visibleSample : b.visibleMean;
      if (step === 0) observer?.onReconstruction?.(batch, b.visibleMean);
      up(v);
    }
    model.addEnergyGradients([v, b.hiddenMean], -1 / batch.rows, grads, true);
  }

  private buffersFor(rows: number): Buffers {
    let b = this.buffers.get(rows);
    if (b === undefined) {
      if (this.buffers.size >= 4) this.dispose();
      const be = this.model.backend;
      const [nv, nh] = [this.model.layers[0]!.size, this.model.layers[1]!.size];
      b = {
        hiddenInput: be.zeros(rows, nh),
        hiddenMean: be.zeros(rows, nh),
        hiddenSample: be.zeros(rows, nh),
        visibleInput: be.zeros(rows, nv),
        visibleMean: be.zeros(rows, nv),
        visibleSample: be.zeros(rows, nv),
      };
      this.buffers.set(rows, b);
    }
    return b;
  }

  spec(): EstimatorSpec {
    return { type: this.type, k: this.k, upScale: this.upScale, downScale: this.downScale };
  }

  state(): Record<string, Tensor> {
    return {};
  }

  loadState(state: Readonly<Record<string, Matrix>>): void {
    const names = Object.keys(state);
    if (names.length > 0) throw new InvalidValueError(`scaled-field CD has no state to load (got ${names.join(', ')})`);
  }

  dispose(): void {
    for (const b of this.buffers.values()) for (const t of Object.values(b)) this.model.backend.dispose(t);
    this.buffers.clear();
  }
}
