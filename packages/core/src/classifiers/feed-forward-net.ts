import { CounterRng, DivergenceError, InvalidValueError, Matrix, ShapeError, assertFinite, type Backend, type Tensor } from '@boltzmann/tensor';
import { rowsView } from '../models/host-data.js';
import { checkInteger, checkMatrix, checkNumber } from '../validation.js';
import { epochLoop, type Learner } from '../training/epoch-loop.js';
import { Workspace } from '../workspace.js';
import { accuracy, argmaxRows, checkLabels, oneHot, type Labels } from './labels.js';

/** Non-linearities of hidden layers (each has a derivative computed from its output). */
export type Activation = 'sigmoid' | 'relu' | 'tanh' | 'identity';

const ACTIVATIONS: readonly Activation[] = ['sigmoid', 'relu', 'tanh', 'identity'];

/** One dense layer given by host matrices: out = activation(in W + bias). */
export interface NetLayer {
  /** inputs x outputs. */
  weights: Matrix;
  /** 1 x outputs. */
  bias: Matrix;
  /** Ignored for the last layer (softmax). */
  activation: Activation;
}

/** Options of `FeedForwardNet.create`. */
export interface FeedForwardNetOptions {
  /** [inputs, hidden sizes..., classes]; [inputs, classes] is multinomial logistic regression. */
  sizes: readonly number[];
  /** Of the hidden layers: one for all or one per hidden layer; default "sigmoid". */
  activation?: Activation | readonly Activation[];
  /** Seed of the initial weights; default 0. */
  seed?: number;
  /**
   * Initial weights: "glorot" (default; N(0, 2 / (fan-in + fan-out)), Glorot & Bengio 2010) or
   * N(0, std). Biases start at zero.
   */
  init?: 'glorot' | { std: number };
}

/** Options of `FeedForwardNet.fit`. */
export interface ClassifierFitOptions {
  epochs: number;
  /** Step size on batch-mean gradients; default 0.1. */
  learningRate?: number;
  /** Classical momentum (v <- m v - lr g; w <- w + v); default 0.9. */
  momentum?: number;
  /** Rows per minibatch; default 32. */
  batchSize?: number;
  /** L2 penalty (weightDecay / 2) ||W||^2 on the weights (not the biases); default 0. */
  weightDecay?: number;
  /** Seed of the minibatch order; default 0. */
  seed?: number;
  /** Held-out set scored (accuracy) at each epoch end. */
  validation?: { data: Matrix; labels: Labels };
  onEpoch?: (report: ClassifierEpoch) => void | boolean | Promise<void | boolean>;
}

/** What one epoch of classifier training did. */
export interface ClassifierEpoch {
  epoch: number;
  /** Mean softmax cross-entropy of the epoch's batches (before each step; without the L2 term). */
  loss: number;
  validationAccuracy?: number;
  seconds: number;
}

/** The tensors of one forward/backward pass for a batch size. */
interface Pass {
  /** acts[0] is the input; acts[i + 1] the output of layer i (logits for the last layer). */
  acts: Tensor[];
  /** deltas[i]: dLoss / d(pre-activation of layer i). */
  deltas: Tensor[];
  probs: Tensor;
  targets: Tensor;
}

/**
 * A feed-forward classifier on a `Backend`: dense layers with sigmoid / ReLU / tanh / linear
 * hidden units and a softmax output, trained by backpropagation of the mean softmax
 * cross-entropy with minibatch SGD and momentum. It is the read-out and the fine-tuned network
 * of a DBN (the RBMs' weights and hidden biases as its layers, `fromLayers`), and with no hidden
 * layer plain multinomial logistic regression. A step allocates nothing after the first batch
 * of each size.
 */
export class FeedForwardNet {
  readonly weights: readonly Tensor[];
  readonly biases: readonly Tensor[];
  /** Of the hidden layers (the output is softmax). */
  readonly activations: readonly Activation[];
  readonly sizes: readonly number[];
  private readonly workspace: Workspace;

  private constructor(readonly backend: Backend, layers: readonly NetLayer[]) {
    if (layers.length === 0) throw new InvalidValueError('a feed-forward net needs at least one layer');
    layers.forEach((layer, i) => {
      if (!(layer.weights instanceof Matrix) || !(layer.bias instanceof Matrix)) throw new InvalidValueError(`layer ${i} needs weights and bias matrices`);
      if (i > 0 && layer.weights.rows !== layers[i - 1]!.weights.cols) {
        throw new ShapeError(`layer ${i} has ${layer.weights.rows} inputs but layer ${i - 1} has ${layers[i - 1]!.weights.cols} outputs`);
      }
      if (layer.bias.rows !== 1 || layer.bias.cols !== layer.weights.cols) throw new ShapeError(`the bias of layer ${i} must be 1x${layer.weights.cols}, got ${layer.bias.rows}x${layer.bias.cols}`);
      assertFinite(`weights of layer ${i}`, layer.weights);
      assertFinite(`bias of layer ${i}`, layer.bias);
      if (i < layers.length - 1 && !ACTIVATIONS.includes(layer.activation)) throw new InvalidValueError(`layer ${i}: unknown activation ${JSON.stringify(layer.activation)}; use ${ACTIVATIONS.join(', ')}`);
    });
    const classes = layers.at(-1)!.weights.cols;
    if (classes < 2) throw new InvalidValueError(`a classifier needs at least 2 classes, got ${classes}`);
    this.weights = layers.map((l) => backend.upload(l.weights));
    this.biases = layers.map((l) => backend.upload(l.bias));
    this.activations = layers.slice(0, -1).map((l) => l.activation);
    this.sizes = [layers[0]!.weights.rows, ...layers.map((l) => l.weights.cols)];
    this.workspace = new Workspace(backend);
  }

  /** A net with random weights (see `FeedForwardNetOptions`). */
  static create(backend: Backend, options: FeedForwardNetOptions): FeedForwardNet {
    const sizes = options.sizes;
    if (!Array.isArray(sizes) || sizes.length < 2) throw new InvalidValueError(`a feed-forward net needs sizes [inputs, ..., classes], got ${JSON.stringify(sizes)}`);
    sizes.forEach((n, i) => checkInteger(`size ${i} of the net`, n));
    const hidden = sizes.length - 2;
    const activation = options.activation ?? 'sigmoid';
    const acts = typeof activation === 'string' ? new Array<Activation>(hidden).fill(activation) : [...activation];
    if (acts.length !== hidden) throw new InvalidValueError(`give one activation for all ${hidden} hidden layers or one per hidden layer, got ${acts.length}`);
    const rng = new CounterRng(checkInteger('seed', options.seed ?? 0, 0, 0xffffffff), 1);
    const init = options.init ?? 'glorot';
    if (init !== 'glorot' && !(typeof init === 'object' && init !== null)) throw new InvalidValueError(`init must be "glorot" or { std }, got ${JSON.stringify(init)}`);
    const layers: NetLayer[] = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const [n, m] = [sizes[i]!, sizes[i + 1]!];
      const std = init === 'glorot' ? Math.sqrt(2 / (n + m)) : checkNumber('init std', init.std, 0);
      const w = Matrix.zeros(n, m, backend.precision);
      rng.normals(w.data, 0, std);
      layers.push({ weights: w, bias: Matrix.zeros(1, m, backend.precision), activation: acts[i] ?? 'identity' });
    }
    return new FeedForwardNet(backend, layers);
  }

  /** A net with the given layers (e.g. a DBN's RBMs plus a read-out). */
  static fromLayers(backend: Backend, layers: readonly NetLayer[]): FeedForwardNet {
    return new FeedForwardNet(backend, layers);
  }

  get inputs(): number {
    return this.sizes[0]!;
  }

  get classes(): number {
    return this.sizes.at(-1)!;
  }

  /** The parameter tensors in gradient order: [W0, b0, W1, b1, ...]. */
  get parameters(): Tensor[] {
    return this.weights.flatMap((w, i) => [w, this.biases[i]!]);
  }

  /** Zero tensors shaped like `parameters`. */
  createGradients(): Tensor[] {
    return this.parameters.map((p) => this.backend.zeros(p.rows, p.cols));
  }

  /** Host copies of the layers. */
  async getLayers(): Promise<NetLayer[]> {
    const out: NetLayer[] = [];
    for (let i = 0; i < this.weights.length; i++) {
      out.push({ weights: await this.backend.read(this.weights[i]!), bias: await this.backend.read(this.biases[i]!), activation: this.activations[i] ?? 'identity' });
    }
    return out;
  }

  private pass(rows: number): Pass {
    const ws = this.workspace;
    return {
      acts: this.sizes.map((n, i) => (i === 0 ? ws.get('net:input', rows, n) : ws.get(`net:act${i}`, rows, n))),
      deltas: this.sizes.slice(1).map((n, i) => ws.get(`net:delta${i}`, rows, n)),
      probs: ws.get('net:probs', rows, this.classes),
      targets: ws.get('net:targets', rows, this.classes),
    };
  }

  /** Forward pass of `p.acts[0]`: every layer's output, then the class probabilities. */
  private forward(p: Pass): void {
    const be = this.backend;
    const last = this.weights.length - 1;
    this.weights.forEach((w, i) => be.linear(p.acts[i]!, w, this.biases[i]!, p.acts[i + 1]!, { activation: i < last ? this.activations[i]! : 'identity' }));
    be.softmaxGroups(p.acts[last + 1]!, this.classes, p.probs);
  }

  /**
   * Backpropagation for a batch already in `p.acts[0]` and `p.targets`: grads (in `parameters`
   * order) = gradient of mean cross-entropy + (weightDecay / 2) sum ||W||^2.
   */
  private backward(p: Pass, grads: readonly Tensor[], weightDecay: number): void {
    const be = this.backend;
    const rows = p.acts[0]!.rows;
    const L = this.weights.length;
    // Softmax with cross-entropy: d loss / d logits = (p - t) / rows.
    be.binary('sub', p.probs, p.targets, p.deltas[L - 1]!);
    be.affine(p.deltas[L - 1]!, 1 / rows, 0, p.deltas[L - 1]!);
    for (let i = L - 1; i >= 0; i--) {
      const delta = p.deltas[i]!;
      be.matmul(p.acts[i]!, delta, grads[2 * i]!, { transposeA: true });
      if (weightDecay > 0) be.axpby(1, grads[2 * i]!, weightDecay, this.weights[i]!, grads[2 * i]!);
      be.sumColumns(delta, grads[2 * i + 1]!);
      if (i === 0) break;
      const below = p.deltas[i - 1]!;
      be.matmul(delta, this.weights[i]!, below, { transposeB: true });
      this.multiplyByDerivative(this.activations[i - 1]!, p.acts[i]!, below);
    }
  }

  /** delta *= f'(pre-activation), from the layer's output a = f(pre-activation). */
  private multiplyByDerivative(activation: Activation, a: Tensor, delta: Tensor): void {
    const be = this.backend;
    if (activation === 'identity') return;
    const d = this.workspace.get('net:derivative', a.rows, a.cols);
    if (activation === 'sigmoid') {
      be.affine(a, -1, 1, d); // 1 - a
      be.binary('mul', d, a, d); // a (1 - a)
    } else if (activation === 'tanh') {
      be.unary('square', a, d);
      be.affine(d, -1, 1, d); // 1 - a^2
    } else {
      be.unary('sign', a, d); // relu: 1 where a > 0 (a >= 0 always)
    }
    be.binary('mul', delta, d, delta);
  }

  /**
   * Mean softmax cross-entropy of `data` + (weightDecay / 2) sum ||W||^2, and its gradient in
   * `grads` (in `parameters` order; created when omitted). Host-level, validated: the
   * building block of gradient checks.
   */
  async lossAndGradients(data: Matrix, labels: Labels, options: { weightDecay?: number; grads?: Tensor[] } = {}): Promise<{ loss: number; grads: Tensor[] }> {
    this.checkData(data, labels);
    const weightDecay = checkNumber('weightDecay', options.weightDecay ?? 0, 0);
    const grads = options.grads ?? this.createGradients();
    const p = this.pass(data.rows);
    this.backend.write(p.acts[0]!, data);
    this.backend.write(p.targets, oneHot(labels, this.classes, this.backend.precision));
    this.forward(p);
    const loss = (await this.crossEntropySum(p)) / data.rows + (weightDecay > 0 ? (weightDecay / 2) * (await this.weightSquares()) : 0);
    this.backward(p, grads, weightDecay);
    return { loss, grads };
  }

  /** -sum over rows of log p(label), stable (log-softmax from the logits). */
  private async crossEntropySum(p: Pass): Promise<number> {
    const be = this.backend;
    const rows = p.probs.rows;
    const logits = p.acts.at(-1)!;
    const lse = this.workspace.get('net:lse', rows, 1);
    const spread = this.workspace.get('net:lse-spread', rows, this.classes);
    be.logSumExpGroups(logits, this.classes, lse);
    be.matmul(lse, this.onesRow(), spread);
    be.binary('sub', logits, spread, spread); // log p
    be.binary('mul', spread, p.targets, spread);
    return -(await be.reduce('sum', spread));
  }

  private onesRow(): Tensor {
    const t = this.workspace.get('net:ones-row', 1, this.classes);
    this.backend.fill(t, 1);
    return t;
  }

  private async weightSquares(): Promise<number> {
    let s = 0;
    for (const w of this.weights) s += await this.backend.reduce('sumSquares', w);
    return s;
  }

  /** Mean softmax cross-entropy of `data` (no penalty). */
  async loss(data: Matrix, labels: Labels): Promise<number> {
    this.checkData(data, labels);
    let total = 0;
    await this.chunks(data, async (p, start, rows) => {
      this.backend.write(p.targets, oneHot(Array.prototype.slice.call(labels, start, start + rows) as number[], this.classes, this.backend.precision));
      total += await this.crossEntropySum(p);
    });
    return total / data.rows;
  }

  /** Class probabilities, rows x classes. */
  async predictProba(data: Matrix): Promise<Matrix> {
    checkMatrix('data', data, this.inputs);
    const out = Matrix.zeros(data.rows, this.classes, this.backend.precision);
    await this.chunks(data, async (p, start) => out.data.set((await this.backend.read(p.probs)).data, start * this.classes));
    return out;
  }

  /** The most probable class of each row. */
  async predict(data: Matrix): Promise<Int32Array> {
    return argmaxRows(await this.predictProba(data));
  }

  /** Fraction of rows classified as labelled. */
  async accuracy(data: Matrix, labels: Labels): Promise<number> {
    this.checkData(data, labels);
    return accuracy(await this.predict(data), labels);
  }

  /** Forward passes over `data` in chunks of at most 1024 rows. */
  private async chunks(data: Matrix, fn: (p: Pass, start: number, rows: number) => Promise<void>): Promise<void> {
    for (let start = 0; start < data.rows; start += 1024) {
      const rows = Math.min(1024, data.rows - start);
      const p = this.pass(rows);
      this.backend.write(p.acts[0]!, rowsView(data, start, rows));
      this.forward(p);
      await fn(p, start, rows);
    }
  }

  private checkData(data: Matrix, labels: Labels): void {
    checkMatrix('data', data, this.inputs);
    checkLabels(labels, data.rows, this.classes);
  }

  /**
   * Minibatch SGD with momentum on the mean softmax cross-entropy (+ L2 on the weights),
   * through the library's one epoch loop (`epochLoop`): data and one-hot targets are uploaded
   * once and gathered into batches on the backend, in a new seeded order every epoch. Throws a
   * clear error on labels outside [0, classes) or data of the wrong width, and a
   * DivergenceError when an epoch's loss is not finite.
   */
  async fit(data: Matrix, labels: Labels, options: ClassifierFitOptions): Promise<ClassifierEpoch[]> {
    this.checkData(data, labels);
    if (options.validation !== undefined) this.checkData(options.validation.data, options.validation.labels);
    const epochs = checkInteger('epochs', options.epochs, 0);
    const learningRate = checkNumber('learningRate', options.learningRate ?? 0.1, 0);
    const momentum = checkNumber('momentum', options.momentum ?? 0.9, 0, 1);
    const batchSize = checkInteger('batchSize', options.batchSize ?? 32);
    const weightDecay = checkNumber('weightDecay', options.weightDecay ?? 0, 0);
    const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff);
    const be = this.backend;
    const grads = this.createGradients();
    const velocities = this.createGradients();
    const lossSum = be.zeros(1, 1);
    const hyper = { learningRate, momentum };
    let lastHyper = { learningRate: NaN, momentum: NaN };
    let steps = 0;
    const learner: Learner<ClassifierEpoch> = {
      epoch: 0,
      get step() {
        return steps;
      },
      batchSize,
      shuffle: true,
      shuffleRng: new CounterRng(seed, 3),
      backend: be,
      workspace: this.workspace,
      hyperparameters: () => ({ ...hyper }),
      get lastHyperparameters() {
        return { ...lastHyper };
      },
      startEpoch: () => be.fill(lossSum, 0),
      trainBatch: async ([input, targets]) => {
        const p = { ...this.pass(input!.rows), targets: targets! };
        p.acts[0] = input!;
        this.forward(p);
        this.addCrossEntropy(p, lossSum);
        this.backward(p, grads, weightDecay);
        this.parameters.forEach((w, i) => {
          be.axpby(momentum, velocities[i]!, -learningRate, grads[i]!, velocities[i]!);
          be.axpby(1, w, 1, velocities[i]!, w);
        });
        lastHyper = hyper;
        steps += 1;
      },
      checkFinite: async () => undefined, // divergence shows in an epoch's loss (checkEpoch)
      report: async (position, startedAt) => {
        const report: ClassifierEpoch = { epoch: position.epoch, loss: (await be.read(lossSum)).data[0]! / data.rows, seconds: 0 };
        if (options.validation) report.validationAccuracy = await this.accuracy(options.validation.data, options.validation.labels);
        report.seconds = (performance.now() - startedAt) / 1000;
        return report;
      },
      // The loss of the epoch's batches says whether the step size blew the weights up.
      checkEpoch: async (report, where) => {
        if (!Number.isFinite(report.loss)) throw new DivergenceError(`classifier training diverged ${where} (loss ${report.loss}, learning rate ${learningRate}): lower the learning rate`);
      },
    };
    const reports: ClassifierEpoch[] = [];
    try {
      for await (const event of epochLoop(learner, { rows: [data, oneHot(labels, this.classes, be.precision)] }, epochs)) {
        if (event.type !== 'epoch-end') continue;
        reports.push(event.report);
        if (options.onEpoch && (await options.onEpoch(event.report)) === false) break;
      }
    } finally {
      for (const t of [lossSum, ...grads, ...velocities]) be.dispose(t);
    }
    return reports;
  }

  /** sum += -sum over rows of log p(target) for the batch (on the backend, no readback). */
  private addCrossEntropy(p: Pass, sum: Tensor): void {
    const be = this.backend;
    const rows = p.probs.rows;
    const logits = p.acts.at(-1)!;
    const lse = this.workspace.get('net:lse', rows, 1);
    const spread = this.workspace.get('net:lse-spread', rows, this.classes);
    const colSums = this.workspace.get('net:loss-columns', 1, this.classes);
    be.logSumExpGroups(logits, this.classes, lse);
    be.matmul(lse, this.onesRow(), spread);
    be.binary('sub', logits, spread, spread);
    be.binary('mul', spread, p.targets, spread);
    be.sumColumns(spread, colSums);
    be.matmul(colSums, this.workspace.onesColumn(this.classes), sum, { alpha: -1, beta: 1 });
  }

  dispose(): void {
    this.workspace.clear();
    for (const t of [...this.weights, ...this.biases]) this.backend.dispose(t);
  }
}
