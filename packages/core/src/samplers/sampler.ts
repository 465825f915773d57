import { InvalidValueError, Matrix, ShapeError, rngState, type RngState } from '@boltzmann/tensor';
import type { EnergyModel } from '../models/energy-model.js';
import { RngStreams } from '../rng-streams.js';
import { checkBoolean, checkInteger } from '../validation.js';

/** The JSON description of a sampler: its registered type and the type's options. */
export interface SamplerSpec {
  type: string;
  [option: string]: unknown;
}

/** What to draw: `count` chains run for `sweeps` sweeps each, from random units or from data. */
export interface SampleRequest {
  /** Number of chains, one sample (row) each. */
  count: number;
  /** Sweeps (or synchronous steps) per chain; 0 returns the starting point. */
  sweeps: number;
  /**
   * Start chain i at row i of this matrix (visible units, in their range; rows past `count`
   * are ignored) instead of at random units. Other layers start as each sampler says.
   */
  init?: Matrix;
  /** Seed of this call (stream `RngStreams.sample`); default: the model's own `sampleRng`, which advances. */
  seed?: number;
  /** A random stream to draw from instead (it advances); takes precedence over `seed`. */
  rng?: RngState;
  /**
   * Return the visible units' sampled states instead of their probabilities given the rest of
   * the chain's last state; default false.
   */
  binary?: boolean;
}

/**
 * Draws samples of a model's visible (first) layer from Markov chains: what `boltzmann
 * sample` and the samples.png of `boltzmann train` use. Built by a {@link SamplerFactory} from
 * a {@link SamplerSpec} (see `samplerTypes`); the factory refuses models it cannot sample.
 */
export interface Sampler {
  /** The registered type ("gibbs", "glauber", "parallel-dynamics", a plugin's). */
  readonly type: string;
  readonly model: EnergyModel;
  /**
   * `count` x visible-size rows: the last visible probabilities of each chain (each unit's
   * conditional mean given the rest of the chain's state), or its states with `binary`.
   */
  sample(request: SampleRequest): Promise<Matrix>;
  /** "5 Gibbs sweeps", "5 Glauber sweeps at T = 0.5": for logs. */
  describe(sweeps: number): string;
  /** The spec that rebuilds this sampler (its type and options). */
  spec(): SamplerSpec;
}

/**
 * Builds a sampler for a model from its spec. Throws InvalidValueError for bad options, and
 * {@link UnsupportedModelError} for a model it cannot sample.
 */
export type SamplerFactory = (model: EnergyModel, spec: SamplerSpec) => Sampler;

/**
 * A sampler factory's refusal of a model it cannot sample (block Gibbs on a graph with an odd
 * cycle, Glauber on Gaussian units), as opposed to bad options: where samples are only a
 * by-product (samples.png after training) they are skipped with this message instead.
 */
export class UnsupportedModelError extends InvalidValueError {}

/** A {@link SampleRequest} checked against a model: its numbers, its starting rows and the stream to draw from. */
export interface CheckedSampleRequest {
  readonly count: number;
  readonly sweeps: number;
  /** Exactly `count` rows of the visible layer's values; undefined: start at random units. */
  readonly init: Matrix | undefined;
  readonly rng: RngState;
  readonly binary: boolean;
}

/**
 * Checks a request for `model` (for sampler implementations): `count` >= 1, `sweeps` >= 0,
 * `init` with at least `count` rows of valid visible values (the first `count` are kept), and
 * the stream (`rng`, else `seed`, else the model's `sampleRng`).
 */
export function checkSampleRequest(model: EnergyModel, request: SampleRequest): CheckedSampleRequest {
  if (typeof request !== 'object' || request === null) throw new InvalidValueError(`a sample request must be an object { count, sweeps, ... }, got ${String(request)}`);
  const count = checkInteger('number of samples', request.count);
  const sweeps = checkInteger('sweeps', request.sweeps, 0);
  const binary = checkBoolean('binary', request.binary ?? false);
  const rng = request.rng ?? (request.seed === undefined ? model.sampleRng : rngState(checkInteger('seed', request.seed, 0, 0xffffffff), RngStreams.sample));
  let init: Matrix | undefined;
  if (request.init !== undefined) {
    const given = request.init;
    if (!(given instanceof Matrix)) throw new InvalidValueError(`starting rows must be a Matrix, got ${String(given)}`);
    const visible = model.layers[0]!;
    if (given.cols !== visible.size) throw new ShapeError(`starting rows have ${given.cols} columns but layer "${visible.name}" has ${visible.size} units`);
    if (given.rows < count) throw new InvalidValueError(`${count} chains need as many starting rows, got ${given.rows}`);
    init = given.rows === count ? given : given.sliceRows(0, count);
    visible.validate(init, 'starting rows');
  }
  return { count, sweeps, init, rng, binary };
}
