import { CounterRng, Matrix, rngState, type RngState } from '@boltzmann/tensor';
import type { EnergyModel, GradientSet } from '../models/energy-model.js';
import type { Hyperparameters, Optimizer } from '../optimizers/optimizer.js';
import { SGD } from '../optimizers/sgd.js';
import { L2WeightDecay } from '../regularizers/l2.js';
import { RngStreams } from '../rng-streams.js';
import { toSchedule } from '../schedules/registry.js';
import { DivergenceGuard } from '../training/divergence-guard.js';
import type { Schedule, ScheduleSpec } from '../schedules/schedule.js';
import { checkInteger, checkNumber } from '../validation.js';
import { WakeDream, type WakeDreamOptions } from './wake-dream.js';

/** Options of a {@link WakeDreamTrainer}: the estimator's plus the step's. */
export interface WakeDreamTrainerOptions extends WakeDreamOptions {
  /** Step size on per-row mean gradients: a number or a schedule; default 0.1. */
  learningRate?: number | Schedule | ScheduleSpec;
  /** Momentum: a number or a schedule; default 0.5. */
  momentum?: number | Schedule | ScheduleSpec;
  /** L2 weight decay on the weights (not the biases); default 0. */
  weightDecay?: number;
  /** Rows per step; default: the whole data set (a full-batch gradient, exact with exact expectations). */
  batchSize?: number;
  /** The optimizer; default SGD with momentum. */
  optimizer?: Optimizer;
  /** Seed of the Glauber sampling and of the row order; default 0. */
  seed?: number;
}

/** Options of `WakeDreamTrainer.fit`. */
export interface WakeDreamFitOptions {
  /** Passes over the data. */
  epochs: number;
  /** Called after each epoch with the epoch count so far; return false to stop. */
  onEpoch?: (epoch: number) => void | boolean | Promise<void | boolean>;
}

/**
 * Trains a general Boltzmann machine (or any model of Bernoulli layers with dense and lateral
 * connections) by the wake/dream rule: shuffled minibatches, {@link WakeDream} gradients,
 * optional L2 weight decay, then an optimizer step on the backend parameters: a small loop
 * with nothing else. The core `Trainer` can drive the same machine with
 * `estimator: { type: 'wake-dream' }` when you want its schedules, regularizers, checkpoints
 * and divergence guard. It reads the backend only with `await backend.read`, so it runs on
 * asynchronous backends (gpu.js webgpu) too.
 */
export class WakeDreamTrainer {
  readonly estimator: WakeDream;
  readonly optimizer: Optimizer;
  readonly learningRate: Schedule;
  readonly momentum: Schedule;
  readonly batchSize: number | undefined;
  /** Completed epochs and steps. */
  epoch = 0;
  step = 0;
  /** The Glauber stream of the estimator. */
  readonly gibbsRng: RngState;
  readonly shuffleRng: CounterRng;
  private readonly decay: L2WeightDecay;
  private readonly grads: GradientSet;
  /** The last finite parameters and velocities, checked and renewed at each epoch end. */
  private readonly guard: DivergenceGuard;

  constructor(readonly model: EnergyModel, options: WakeDreamTrainerOptions = {}) {
    const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff);
    this.estimator = new WakeDream(model, options);
    this.learningRate = toSchedule(options.learningRate ?? 0.1, 'learningRate');
    this.momentum = toSchedule(options.momentum ?? 0.5, 'momentum');
    this.batchSize = options.batchSize === undefined ? undefined : checkInteger('batchSize', options.batchSize);
    this.decay = new L2WeightDecay(checkNumber('weightDecay', options.weightDecay ?? 0, 0));
    this.optimizer = options.optimizer ?? new SGD(model.backend, model.parameters);
    this.gibbsRng = rngState(seed, RngStreams.gibbs);
    this.shuffleRng = new CounterRng(seed, RngStreams.shuffle);
    this.grads = model.createGradients();
    this.guard = new DivergenceGuard(model, this.optimizer.state(), { afterRestore: () => this.optimizer.resync?.() });
  }

  /** The hyperparameters of the next step. */
  hyperparameters(): Hyperparameters {
    const clock = { epoch: this.epoch, step: this.step };
    return { learningRate: this.learningRate.value(clock), momentum: this.momentum.value(clock) };
  }

  /**
   * Trains for `epochs` more epochs on binary rows of the visible units. A parameter or
   * velocity that turns NaN or Inf stops it with a DivergenceError naming the epoch and the
   * parameter, after putting back the values of the last good epoch end.
   */
  async fit(data: Matrix, options: WakeDreamFitOptions): Promise<void> {
    const model = this.model;
    const be = model.backend;
    const visible = model.layers[0]!;
    visible.validate(data, 'training data');
    const epochs = checkInteger('epochs', options.epochs, 0);
    const n = data.rows;
    const batchSize = Math.min(this.batchSize ?? n, n);
    const resident = be.upload(data);
    this.guard.snapshot();
    try {
      for (let e = 0; e < epochs; e++) {
        const order = batchSize === n ? identity(n) : this.shuffleRng.permutation(n);
        for (let start = 0; start < n; start += batchSize) {
          const rows = Math.min(batchSize, n - start);
          const batch = model.workspace.get('wake-dream:batch', rows, visible.size);
          be.gatherRows(resident, order.subarray(start, start + rows), batch);
          const hyper = this.hyperparameters();
          await this.estimator.computeGradients(batch, this.grads, this.gibbsRng);
          this.decay.addGradient({ model, grads: this.grads });
          this.optimizer.step(model.parameters, this.grads.tensors, hyper);
          this.step += 1;
        }
        await this.guard.check(`in epoch ${this.epoch + 1}`, ' (try a smaller learning rate)');
        this.guard.snapshot();
        this.epoch += 1;
        if (options.onEpoch && (await options.onEpoch(this.epoch)) === false) break;
      }
    } finally {
      be.dispose(resident);
    }
  }

  dispose(): void {
    this.guard.dispose();
    for (const g of this.grads.tensors) this.model.backend.dispose(g);
    this.optimizer.dispose();
    this.estimator.dispose();
  }
}

function identity(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}
