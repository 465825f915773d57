import { InvalidValueError, Matrix, ShapeError, runAxpbyPasses, type Backend, type Tensor } from '@boltzmann/tensor';
import type { ModelParameter } from '../parameter.js';
import { checkBoolean } from '../validation.js';
import type { Hyperparameters, Optimizer, OptimizerSpec } from './optimizer.js';

/** Options of SGD. */
export interface SGDOptions {
  /** Nesterov's accelerated gradient instead of classical momentum; default false (anything but true or false is an error). */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent with momentum, done right:
 *   v <- m * v - lr * grad;  w <- w + v
 * (the stored step already holds lr: it is not multiplied by lr again, the bug of one known
 * library). With `nesterov`, the step looks ahead: w <- w + m * v - lr * grad (the form used
 * by PyTorch, in this sign convention). Momentum 0 is plain SGD.
 */
export class SGD implements Optimizer {
  static readonly type = 'sgd';
  readonly type = SGD.type;
  readonly takesDecay = true;
  readonly nesterov: boolean;
  private readonly velocities: Tensor[];
  private readonly names: string[];

  constructor(readonly backend: Backend, params: readonly ModelParameter[], options: SGDOptions = {}) {
    this.nesterov = checkBoolean('SGD "nesterov"', options.nesterov ?? false);
    this.velocities = params.map((p) => backend.zeros(p.tensor.rows, p.tensor.cols));
    this.names = params.map((p) => p.name);
  }

  step(params: readonly ModelParameter[], grads: readonly Tensor[], hyper: Hyperparameters, decays?: readonly number[]): void {
    const { learningRate: lr, momentum: m } = hyper;
    if (params.length !== this.velocities.length) throw new ShapeError(`SGD was built for ${this.velocities.length} parameters, got ${params.length}`);
    params.forEach((p, i) => {
      const v = this.velocities[i]!;
      const g = grads[i]!;
      const w = p.tensor;
      const decay = decays?.[i] ?? 0;
      // One call for the whole update, so a backend can run it in one trip through memory.
      runAxpbyPasses(this.backend, [
        ...(decay !== 0 ? [{ alpha: 1, x: g, beta: decay, y: w, out: g }] : []),
        { alpha: m, x: v, beta: -lr, y: g, out: v },
        ...(this.nesterov
          ? [{ alpha: 1, x: w, beta: m, y: v, out: w }, { alpha: 1, x: w, beta: -lr, y: g, out: w }]
          : [{ alpha: 1, x: w, beta: 1, y: v, out: w }]),
      ]);
    });
  }

  spec(): OptimizerSpec {
    return { type: this.type, nesterov: this.nesterov };
  }

  state(): Record<string, Tensor> {
    return Object.fromEntries(this.names.map((n, i) => [`velocity:${n}`, this.velocities[i]!]));
  }

  loadState(state: Readonly<Record<string, Matrix>>): void {
    const expected = new Set(this.names.map((n) => `velocity:${n}`));
    for (const key of Object.keys(state)) if (!expected.has(key)) throw new InvalidValueError(`SGD state has unknown entry "${key}"`);
    this.names.forEach((n, i) => {
      const m = state[`velocity:${n}`];
      const v = this.velocities[i]!;
      if (!(m instanceof Matrix)) throw new InvalidValueError(`SGD state lacks "velocity:${n}"`);
      if (m.rows !== v.rows || m.cols !== v.cols) throw new ShapeError(`SGD state "velocity:${n}" must be ${v.rows}x${v.cols}, got ${m.rows}x${m.cols}`);
    });
    this.names.forEach((n, i) => this.backend.write(this.velocities[i]!, state[`velocity:${n}`]!));
  }

  dispose(): void {
    for (const v of this.velocities) this.backend.dispose(v);
  }
}
