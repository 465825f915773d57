import { InvalidValueError, type Backend, type Matrix } from '@boltzmann/tensor';
import { FeedForwardNet, type ClassifierEpoch, type ClassifierFitOptions, type NetLayer } from '../classifiers/feed-forward-net.js';
import { checkLabels, classCount, type Labels } from '../classifiers/labels.js';
import { Trainer, type EpochReport, type FitOptions, type TrainerOptions } from '../training/trainer.js';
import { checkInteger, checkMatrix } from '../validation.js';
import { mapRows } from './host-data.js';
import { RBM, type LayerOptions } from './rbm.js';

/** Options of `DBN.create`. */
export interface DBNOptions {
  /** Layer sizes (Bernoulli units) or `{ type, size, ...options }` from the input up; at least two. */
  layers: readonly LayerOptions[];
  /** Seed of the weight initialisation (RBM i uses seed + i); default 0. */
  seed?: number;
  /** Standard deviation of the RBMs' initial weights; default 0.01. */
  weightStd?: number;
}

/** Options of `DBN.pretrain`. */
export interface DBNPretrainOptions {
  /** Epochs of each RBM: one number for all or one per RBM. */
  epochs: number | readonly number[];
  /** Trainer options of each RBM (estimator, learning rate, regularizers...): one for all or one per RBM. */
  trainer?: TrainerOptions | readonly TrainerOptions[];
  monitor?: FitOptions['monitor'];
  /** Called after each epoch of RBM `rbm` (0-based); return false to end that RBM's training. */
  onEpoch?: (rbm: number, report: EpochReport) => void | boolean | Promise<void | boolean>;
}

/** Options of `DBN.fitReadout` and `DBN.fineTune`: the classifier's training plus the class count. */
export interface DBNClassifierOptions extends ClassifierFitOptions {
  /** Number of classes; default one plus the largest label. */
  classes?: number;
  /** Seed of a new read-out's initial weights (small N(0, 0.01)); default 0. */
  readoutSeed?: number;
}

/**
 * A deep belief network used as Hinton & Salakhutdinov (2006) and monsta-hd do for
 * classification: a stack of RBMs trained greedily (RBM i+1 on the hidden means of RBM i),
 * a softmax read-out (multinomial logistic regression) on the top features, and discriminative
 * fine-tuning of the whole stack as a feed-forward net (the RBMs' weights and hidden biases,
 * sigmoid units for Bernoulli ones) by backpropagation of the softmax cross-entropy. `transform`
 * gives the top features for an external classifier.
 */
export class DBN {
  /** The RBMs, bottom first. */
  readonly rbms: readonly RBM[];
  /** The softmax layer on top, once `fitReadout` or `fineTune` made it. */
  readout: FeedForwardNet | undefined;

  constructor(readonly backend: Backend, rbms: readonly RBM[]) {
    if (rbms.length === 0) throw new InvalidValueError('a DBN needs at least one RBM');
    rbms.forEach((rbm, i) => {
      if (rbm.backend !== backend) throw new InvalidValueError(`RBM ${i} of the DBN lives on another backend`);
      if (i > 0 && rbms[i - 1]!.hidden.size !== rbm.visible.size) {
        throw new InvalidValueError(`RBM ${i - 1}'s hidden layer has ${rbms[i - 1]!.hidden.size} units but RBM ${i}'s visible layer has ${rbm.visible.size}: the layer sizes do not chain`);
      }
    });
    this.rbms = [...rbms];
  }

  /** A DBN of fresh RBMs, one per pair of consecutive layers. */
  static create(backend: Backend, options: DBNOptions): DBN {
    const layers = options.layers;
    if (!Array.isArray(layers) || layers.length < 2) throw new InvalidValueError(`a DBN needs at least two layers, got ${Array.isArray(layers) ? layers.length : String(layers)}`);
    const seed = checkInteger('seed', options.seed ?? 0, 0, 0xffffffff - layers.length);
    const rbms = layers.slice(1).map((hidden, i) => RBM.create(backend, { visible: layers[i]!, hidden, seed: seed + i, weightStd: options.weightStd }));
    return new DBN(backend, rbms);
  }

  /** Units of the input layer. */
  get inputs(): number {
    return this.rbms[0]!.visible.size;
  }

  /** Greedy layer-wise training: RBM i on the hidden means RBM i-1 gives the data. Returns each RBM's epoch reports. */
  async pretrain(data: Matrix, options: DBNPretrainOptions): Promise<EpochReport[][]> {
    this.rbms[0]!.visible.validate(data, 'training data');
    const n = this.rbms.length;
    const epochs = perRbm('epochs', options.epochs, n);
    const trainers = perRbm('trainer', options.trainer ?? {}, n);
    const reports: EpochReport[][] = [];
    let input = data;
    for (let i = 0; i < n; i++) {
      const rbm = this.rbms[i]!;
      const trainer = new Trainer(rbm, trainers[i]);
      try {
        reports.push(await trainer.fit(input, { epochs: epochs[i]!, monitor: options.monitor, onEpoch: options.onEpoch ? (r) => options.onEpoch!(i, r) : undefined }));
      } finally {
        trainer.dispose();
      }
      if (i < n - 1) input = await rbm.transform(input);
    }
    return reports;
  }

  /** The hidden means of layer `layer` (1 = the first RBM's hidden layer; default the top one), propagated bottom-up. */
  async transform(data: Matrix, options: { layer?: number } = {}): Promise<Matrix> {
    const top = checkInteger('layer', options.layer ?? this.rbms.length, 1, this.rbms.length);
    this.rbms[0]!.visible.validate(data, 'data');
    let x = data;
    for (let i = 0; i < top; i++) {
      const rbm = this.rbms[i]!;
      x = await mapRows(rbm, x, rbm.hidden.size, (v, out) => rbm.hiddenMeans(v, out));
    }
    return x;
  }

  /**
   * Trains a new softmax read-out on the top features (the stack stays fixed): multinomial
   * logistic regression by minibatch SGD. Replaces any earlier read-out.
   */
  async fitReadout(data: Matrix, labels: Labels, options: DBNClassifierOptions): Promise<ClassifierEpoch[]> {
    const classes = this.classesOf(data, labels, options);
    const features = await this.transform(data);
    const validation = options.validation ? { data: await this.transform(options.validation.data), labels: options.validation.labels } : undefined;
    this.readout?.dispose();
    this.readout = newReadout(this.backend, this.rbms.at(-1)!.hidden.size, classes, options.readoutSeed ?? 0);
    return this.readout.fit(features, labels, { ...options, validation });
  }

  /** The whole stack and the read-out as one feed-forward net (a copy; needs the read-out). */
  async network(): Promise<FeedForwardNet> {
    const readout = this.requireReadout('network()');
    return FeedForwardNet.fromLayers(this.backend, [...(await this.stackLayers()), ...(await readout.getLayers())]);
  }

  /**
   * Discriminative fine-tuning: the stack (weights and hidden biases) and the read-out (a new
   * small random one when there is none yet) trained together as a feed-forward net by
   * backpropagation of the softmax cross-entropy; the tuned values are written back into the
   * RBMs and the read-out. Hidden layers must be Bernoulli (sigmoid), ReLU or unit-variance
   * Gaussian (linear) units.
   */
  async fineTune(data: Matrix, labels: Labels, options: DBNClassifierOptions): Promise<ClassifierEpoch[]> {
    const classes = this.classesOf(data, labels, options);
    if (this.readout !== undefined && this.readout.classes !== classes) {
      throw new InvalidValueError(`the read-out has ${this.readout.classes} classes, fine-tuning was asked for ${classes}`);
    }
    const readout = this.readout ?? newReadout(this.backend, this.rbms.at(-1)!.hidden.size, classes, options.readoutSeed ?? 0);
    const net = FeedForwardNet.fromLayers(this.backend, [...(await this.stackLayers()), ...(await readout.getLayers())]);
    try {
      const reports = await net.fit(data, labels, options);
      const tuned = await net.getLayers();
      this.rbms.forEach((rbm, i) => {
        const weights = rbm.connection.parameters.find((p) => p.role === 'weights')!;
        const bias = rbm.hidden.parameters.find((p) => p.role === 'bias')!;
        rbm.setParams({ [`${rbm.connection.name}.${weights.name}`]: tuned[i]!.weights, [`${rbm.hidden.name}.${bias.name}`]: tuned[i]!.bias }, { partial: true });
      });
      this.readout = FeedForwardNet.fromLayers(this.backend, [tuned.at(-1)!]);
      return reports;
    } finally {
      net.dispose();
      if (this.readout !== readout) readout.dispose(); // the old read-out, or the fresh one if training failed
    }
  }

  /** Class probabilities from the stack and the read-out. */
  async predictProba(data: Matrix): Promise<Matrix> {
    const readout = this.requireReadout('predictProba()');
    return readout.predictProba(await this.transform(data));
  }

  /** The most probable class of each row. */
  async predict(data: Matrix): Promise<Int32Array> {
    const readout = this.requireReadout('predict()');
    return readout.predict(await this.transform(data));
  }

  /** Fraction of rows classified as labelled. */
  async accuracy(data: Matrix, labels: Labels): Promise<number> {
    const readout = this.requireReadout('accuracy()');
    checkMatrix('data', data, this.inputs);
    checkLabels(labels, data.rows, readout.classes);
    return readout.accuracy(await this.transform(data), labels);
  }

  private requireReadout(what: string): FeedForwardNet {
    if (this.readout === undefined) throw new InvalidValueError(`${what} needs a trained read-out: call fitReadout() or fineTune() first`);
    return this.readout;
  }

  private classesOf(data: Matrix, labels: Labels, options: DBNClassifierOptions): number {
    this.rbms[0]!.visible.validate(data, 'data');
    const classes = options.classes ?? classCount(labels);
    checkLabels(labels, data.rows, classes);
    return classes;
  }

  /** The RBMs as net layers: weights, hidden biases and the hidden units' mean function. */
  private async stackLayers(): Promise<NetLayer[]> {
    const out: NetLayer[] = [];
    for (const rbm of this.rbms) {
      const activation = rbm.hidden.netActivation;
      const bias = rbm.hidden.parameters.find((p) => p.role === 'bias');
      if (activation === undefined || bias === undefined || rbm.hidden.parameters.length !== 1 || rbm.hidden.fieldOffset !== bias.tensor) {
        throw new InvalidValueError(`fine-tuning needs hidden layers whose mean is f(v W + bias), declared as their netActivation (bernoulli, relu, unit-variance gaussian); layer "${rbm.hidden.name}" has ${rbm.hidden.type} units`);
      }
      const weights = rbm.connection.parameters.find((p) => p.role === 'weights')!;
      out.push({ weights: await this.backend.read(weights.tensor), bias: await this.backend.read(bias.tensor), activation });
    }
    return out;
  }

  dispose(): void {
    this.readout?.dispose();
    this.readout = undefined;
    for (const r of this.rbms) r.dispose();
  }
}

/** A softmax layer with small random weights. */
function newReadout(backend: Backend, inputs: number, classes: number, seed: number): FeedForwardNet {
  return FeedForwardNet.create(backend, { sizes: [inputs, classes], seed, init: { std: 0.01 } });
}

function perRbm<T>(what: string, value: T | readonly T[], count: number): T[] {
  if (!Array.isArray(value)) return Array.from({ length: count }, () => value as T);
  if (value.length !== count) throw new InvalidValueError(`${what}: give one value for all ${count} RBMs or one per RBM, got ${value.length}`);
  return [...(value as readonly T[])];
}
