/**
 * One CD-1 step of a Bernoulli RBM written with Backend ops, as an RBM does it: the five
 * matrix products per batch that make an epoch cost 2.35e11 FLOP at 784 x 500, batch 100.
 * Kept in this one file so the benchmark can later run the core package's RBM instead.
 */
import { rngState, type Backend, type RngState, type Tensor } from '@boltzmann/tensor';

export interface Cd1Options {
  visible: number;
  hidden: number;
  batch: number;
  learningRate: number;
  /** Momentum of the weight and bias updates (v <- m v - lr grad; w <- w + v). */
  momentum: number;
  weightDecay: number;
  seed: number;
}

/** Parameters, velocities and per-batch scratch, all on the backend (a step allocates nothing). */
export interface Cd1State {
  backend: Backend;
  options: Cd1Options;
  W: Tensor; // visible x hidden
  b: Tensor; // 1 x visible
  c: Tensor; // 1 x hidden
  vW: Tensor;
  vb: Tensor;
  vc: Tensor;
  v0: Tensor;
  h0: Tensor; // hidden probabilities given the data
  h0s: Tensor; // hidden sample
  v1: Tensor; // visible probabilities of the reconstruction
  h1: Tensor;
  gW: Tensor;
  gb: Tensor;
  gc: Tensor;
  rng: RngState;
}

/** N(0, 0.01) weights and zero biases, as in Hinton's practical guide. */
export function createCd1State(backend: Backend, options: Cd1Options): Cd1State {
  const { visible, hidden, batch } = options;
  const rng = rngState(options.seed, 1);
  const W = backend.zeros(visible, hidden);
  backend.sampleGaussian(W, 0.01, rng, W);
  return {
    backend,
    options,
    W,
    b: backend.zeros(1, visible),
    c: backend.zeros(1, hidden),
    vW: backend.zeros(visible, hidden),
    vb: backend.zeros(1, visible),
    vc: backend.zeros(1, hidden),
    v0: backend.zeros(batch, visible),
    h0: backend.zeros(batch, hidden),
    h0s: backend.zeros(batch, hidden),
    v1: backend.zeros(batch, visible),
    h1: backend.zeros(batch, hidden),
    gW: backend.zeros(visible, hidden),
    gb: backend.zeros(1, visible),
    gc: backend.zeros(1, hidden),
    rng: rngState(options.seed, 2),
  };
}

/** One CD-1 update on the rows `indices` of the resident data set `data`. */
export function cd1Step(s: Cd1State, data: Tensor, indices: Uint32Array): void {
  const be = s.backend;
  const { batch, learningRate: lr, momentum, weightDecay } = s.options;
  be.gatherRows(data, indices, s.v0);
  // Positive phase: h0 = sigmoid(v0 W + c), sampled to drive the chain.
  be.linear(s.v0, s.W, s.c, s.h0, { activation: 'sigmoid' });
  be.sampleBernoulli(s.h0, s.rng, s.h0s);
  // Negative phase: v1 = sigmoid(h0s W^T + b) (probabilities), h1 = sigmoid(v1 W + c).
  be.linear(s.h0s, s.W, s.b, s.v1, { transposeW: true, activation: 'sigmoid' });
  be.linear(s.v1, s.W, s.c, s.h1, { activation: 'sigmoid' });
  // dW = (v0^T h0 - v1^T h1) / batch, then L2 decay: g = dW - decay * W.
  be.matmul(s.v0, s.h0, s.gW, { transposeA: true, alpha: 1 / batch, beta: 0 });
  be.matmul(s.v1, s.h1, s.gW, { transposeA: true, alpha: -1 / batch, beta: 1 });
  be.axpby(1, s.gW, -weightDecay, s.W, s.gW);
  be.sumColumns(s.v0, s.gb, 1 / batch, 0);
  be.sumColumns(s.v1, s.gb, -1 / batch, 1);
  be.sumColumns(s.h0, s.gc, 1 / batch, 0);
  be.sumColumns(s.h1, s.gc, -1 / batch, 1);
  // Momentum: v <- m v + lr g (g is the ascent direction); w <- w + v.
  be.axpby(momentum, s.vW, lr, s.gW, s.vW);
  be.axpby(1, s.W, 1, s.vW, s.W);
  be.axpby(momentum, s.vb, lr, s.gb, s.vb);
  be.axpby(1, s.b, 1, s.vb, s.b);
  be.axpby(momentum, s.vc, lr, s.gc, s.vc);
  be.axpby(1, s.c, 1, s.vc, s.c);
}

/** Multiply-adds x 2 of the five products of one step. */
export function cd1StepFlops(o: Pick<Cd1Options, 'visible' | 'hidden' | 'batch'>): number {
  return 5 * 2 * o.batch * o.visible * o.hidden;
}
