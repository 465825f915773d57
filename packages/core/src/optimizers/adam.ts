import { InvalidValueError, Matrix, ShapeError, type Backend, type Tensor } from '@boltzmann/tensor';
import type { ModelParameter } from '../parameter.js';
import { checkNumber } from '../validation.js';
import type { Hyperparameters, Optimizer, OptimizerSpec } from './optimizer.js';

/** Options of Adam. */
export interface AdamOptions {
  /** Decay of the first-moment (mean gradient) average; default 0.9. It takes the place of momentum, whose schedule Adam ignores. */
  beta1?: number;
  /** Decay of the second-moment (squared gradient) average; default 0.999. */
  beta2?: number;
  /** Added to the root of the bias-corrected second moment; default 1e-8. */
  epsilon?: number;
}

/**
 * Adam (Kingma & Ba 2015), bias-corrected, with the learning rate from the training's schedule:
 *   t <- t + 1;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
 *   w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * State (checkpointed): m and v per parameter and the step count t (a 1 x 1 tensor "step").
 */
export class Adam implements Optimizer {
  static readonly type = 'adam';
  readonly type = Adam.type;
  /** Kingma & Ba's step size: SGD's 0.05 makes Adam's normalised steps far too large. */
  readonly defaultLearningRate = 0.001;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Completed steps (t of the formula). */
  t = 0;
  private readonly first: Tensor[];
  private readonly second: Tensor[];
  private readonly scratch: Tensor[];
  private readonly stepCount: Tensor;
  private readonly names: string[];

  constructor(readonly backend: Backend, params: readonly ModelParameter[], options: AdamOptions = {}) {
    this.beta1 = checkNumber('Adam beta1', options.beta1 ?? 0.9, 0, 1 - Number.EPSILON);
    this.beta2 = checkNumber('Adam beta2', options.beta2 ?? 0.999, 0, 1 - Number.EPSILON);
    this.epsilon = checkNumber('Adam epsilon', options.epsilon ?? 1e-8, 0);
    const zerosLike = (p: ModelParameter) => backend.zeros(p.tensor.rows, p.tensor.cols);
    this.first = params.map(zerosLike);
    this.second = params.map(zerosLike);
    this.scratch = params.map(zerosLike);
    this.stepCount = backend.zeros(1, 1);
    this.names = params.map((p) => p.name);
  }

  step(params: readonly ModelParameter[], grads: readonly Tensor[], hyper: Hyperparameters): void {
    if (params.length !== this.first.length) throw new ShapeError(`Adam was built for ${this.first.length} parameters, got ${params.length}`);
    const be = this.backend;
    const { beta1: b1, beta2: b2 } = this;
    this.t += 1;
    be.fill(this.stepCount, this.t);
    const correction1 = 1 - b1 ** this.t;
    const correction2 = 1 - b2 ** this.t;
    params.forEach((p, i) => {
      const g = grads[i]!;
      const m = this.first[i]!;
      const v = this.second[i]!;
      const s = this.scratch[i]!;
      be.axpby(b1, m, 1 - b1, g, m);
      be.unary('square', g, s);
      be.axpby(b2, v, 1 - b2, s, v);
      be.unary('sqrt', v, s);
      be.affine(s, 1 / Math.sqrt(correction2), this.epsilon, s);
      be.binary('div', m, s, s);
      be.axpby(1, p.tensor, -hyper.learningRate / correction1, s, p.tensor);
    });
  }

  spec(): OptimizerSpec {
    return { type: this.type, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  state(): Record<string, Tensor> {
    const out: Record<string, Tensor> = { step: this.stepCount };
    this.names.forEach((n, i) => {
      out[`m:${n}`] = this.first[i]!;
      out[`v:${n}`] = this.second[i]!;
    });
    return out;
  }

  loadState(state: Readonly<Record<string, Matrix>>): void {
    const expected = new Map<string, Tensor>(Object.entries(this.state()));
    for (const key of Object.keys(state)) if (!expected.has(key)) throw new InvalidValueError(`Adam state has unknown entry "${key}"`);
    for (const [key, t] of expected) {
      const m = state[key];
      if (!(m instanceof Matrix)) throw new InvalidValueError(`Adam state lacks "${key}"`);
      if (m.rows !== t.rows || m.cols !== t.cols) throw new ShapeError(`Adam state "${key}" must be ${t.rows}x${t.cols}, got ${m.rows}x${m.cols}`);
    }
    const steps = state['step']!.data[0]!;
    if (!Number.isInteger(steps) || steps < 0) throw new InvalidValueError(`Adam state "step" must be a whole number of steps, got ${steps}`);
    for (const [key, t] of expected) this.backend.write(t, state[key]!);
    this.t = steps;
  }

  /**
   * Re-reads the step count t from its state tensor "step" (after a divergence guard put back
   * the last good state in place), with `await backend.read`: works on every backend.
   */
  async resync(): Promise<void> {
    this.t = (await this.backend.read(this.stepCount)).data[0]!;
  }

  dispose(): void {
    for (const t of [...this.first, ...this.second, ...this.scratch, this.stepCount]) this.backend.dispose(t);
  }
}
