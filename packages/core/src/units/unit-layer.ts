import type { Backend, Matrix, Precision, RngState, Tensor, UnaryOp } from '@boltzmann/tensor';
import type { Activation } from '../classifiers/feed-forward-net.js';
import type { UnitValues } from '../models/quadratic-energy.js';
import type { Parameter } from '../parameter.js';
import { checkOptionKeys } from '../validation.js';
import type { Workspace } from '../workspace.js';

/**
 * The JSON description of a layer: its registered type, its name in the model and its size,
 * plus any options of the type (e.g. a Gaussian layer's variance mode).
 */
export interface UnitSpec {
  type: string;
  name: string;
  size: number;
  [option: string]: unknown;
}

/**
 * One layer of stochastic units. The model hands every layer its *input*: the sum of the fields
 * its connections send (each neighbour's `interaction` state times the weights) plus the
 * layer's `fieldOffset` (usually its bias, fused into `backend.linear`). From the input the
 * layer gives its conditional mean, samples, and the log-partition used to sum it out in the
 * free energy. Energy convention:
 *
 *   E(x_1..x_L) = sum_l E_l(x_l) - sum_(a,b connected) interaction(x_a) W_ab interaction(x_b)^T
 *
 * so `E_l` holds the layer's own terms (Bernoulli: -b.x; Gaussian: (x-b)^2 / 2s^2).
 * All per-row outputs are rows x 1 tensors that the method *adds to* (scaled), so the model can
 * assemble energies and free energies term by term without temporaries.
 *
 * Adding a unit type = one file implementing this + one registration (a line in
 * units/registry.ts for a built-in, `components.unitTypes.register` or a container binding for
 * a plugin). What else the type can take part in it declares itself, in the capability fields
 * below (`temperable`, `annealable`, `twoValued`, `netActivation`, `meanActivation`): every
 * algorithm checks the capability it needs and never a type name, so a plugin type gets
 * parallel tempering, AIS or Glauber dynamics by declaring them.
 */
export interface UnitLayer {
  /** The registered type name ("bernoulli"). */
  readonly type: string;
  /** Unique within a model ("visible", "hidden"). */
  readonly name: string;
  readonly size: number;
  readonly backend: Backend;
  /** Learnable parameters, in a fixed order (gradients use the same order). */
  readonly parameters: readonly Parameter[];
  /**
   * A 1 x size row added to the summed connection fields before `mean`/`sample`; the model
   * fuses it into `backend.linear`. Undefined when the layer folds its parameters in itself.
   */
  readonly fieldOffset: Tensor | undefined;
  /**
   * How many joint states the layer has (2^size for Bernoulli), or Infinity for continuous
   * units; exact log Z enumerates the side with fewer states.
   */
  readonly stateCount: number;
  /**
   * True when the layer's parameter gradient is not linear in its state (a Gaussian layer that
   * learns its variance: its energy holds (x - b)^2 / sigma^2), so a conditional mean cannot
   * stand in for a sample: estimators then use samples of this layer as its statistics and
   * never carry its mean through a chain. Default false.
   */
  readonly needsSampledStatistics?: boolean;
  /**
   * Set when `addLogPartition` is an approximation rather than the exact log-sum/integral
   * (ReLU units): says which one. Free energies that sum such a layer out are then approximate,
   * and the exact metrics (log Z, log-likelihood) refuse the model, quoting this note.
   */
  readonly approximateLogPartition?: string;
  /**
   * Set when the layer's mean is this element-wise activation of its input (Bernoulli:
   * "sigmoid", so `mean(input, out)` is `backend.unary(meanActivation, input, out)`) and its
   * `sample` reads the mean only, never the input. A backend can then fuse the activation into
   * the product that forms the input: a sampler that opts in (`GibbsOptions.fuseMeans`) gets
   * the mean of a layer fed by one dense connection in one `backend.linear(x, W, bias, mean,
   * { activation })`, the input itself never written. Leave it undefined when either part does
   * not hold (a ReLU layer's mean is relu(input) but its sample needs the input).
   */
  readonly meanActivation?: UnaryOp;

  // Capabilities: what the type declares it can take part in (all default to "no").

  /**
   * The layer's energy is -input . x up to a base measure free of parameters, so its
   * conditional at inverse temperature beta is its conditional at beta * input: parallel
   * tempering may temper it. (Gaussian units are not: tempering changes their variance.)
   */
  readonly temperable?: boolean;
  /**
   * For fixed scale parameters the energy is affine in the bias parameters, so the geometric
   * path between two parameter settings stays in the family (up to a constant that cancels from
   * the importance weights): annealed importance sampling may anneal it. Every parameter must
   * have role "bias" or "scale".
   */
  readonly annealable?: boolean;
  /**
   * Each unit takes one of two values, 0/1 ("binary") or -1/+1 ("spin"), its energy is
   * -bias . x with the bias as its only parameter, and it sends its state unchanged: the model
   * is then a quadratic form over its units, which Glauber dynamics, wake/dream learning and
   * exact state enumeration work on, and the pseudo-likelihood may flip a unit to its other value.
   */
  readonly twoValued?: UnitValues;
  /**
   * The layer's mean as a feed-forward activation of its input, when it is one (Bernoulli:
   * "sigmoid", ReLU: "relu", unit-variance Gaussian: "identity"): a DBN can fine-tune a stack
   * of such layers by backpropagation.
   */
  readonly netActivation?: Activation;
  /**
   * The units' values are always given (conditioning inputs, a conditional RBM's history):
   * never sampled, never summed out, so a free energy that would sum them out does not exist.
   */
  readonly given?: boolean;

  /** What the layer sends through its connections for `state` (Bernoulli: the state itself). */
  interaction(state: Tensor, workspace: Workspace): Tensor;
  /** out = E[x | input] (Bernoulli: sigmoid(input)). */
  mean(input: Tensor, out: Tensor): void;
  /**
   * out = a sample of x | input; `mean` already holds `mean(input)`. Uses one key of `rng` (a
   * fixed number of keys where a layer needs more, e.g. one per draw of a multinomial). A layer
   * that needs scratch tensors here keeps its own `Workspace`.
   */
  sample(input: Tensor, mean: Tensor, rng: RngState, out: Tensor): void;
  /** out (rows x 1) += scale * E_l(state) per row. */
  addEnergy(state: Tensor, out: Tensor, scale: number, workspace: Workspace): void;
  /** out (rows x 1) += scale * log sum_x exp(-E_l(x) + interaction(x) . field) per row, from the input. */
  addLogPartition(input: Tensor, out: Tensor, scale: number, workspace: Workspace): void;
  /**
   * grads[i] (shaped like parameters[i]) = scale * sum over rows of dE/d(parameter i) at
   * `state`, added to the old contents when `accumulate`. The energy's own terms, plus those
   * of the connection terms that the layer's parameters enter through `interaction` (the
   * connections differentiate with respect to their own weights only).
   *
   * `input()` gives the layer's input at the same statistics (the connection fields from the
   * neighbours' `stats` plus `fieldOffset`, as `mean` takes it), computed on its first call
   * only: layers whose gradient needs no field (Bernoulli) cost nothing. A Gaussian layer that
   * learns sigma needs it, since its interaction x / sigma puts sigma into the coupling term.
   */
  addEnergyGradient(state: Tensor, scale: number, grads: readonly Tensor[], accumulate: boolean, input: () => Tensor): void;
  /**
   * Throws a clear error (naming row and column) unless `data` is valid for these units. With
   * `missing` (0/1, the shape of `data`; checked by the caller to hold 0 on every missing
   * value), a value where it is 0 is missing and not checked as a state: a layer whose states
   * come in groups (one-hot) skips a group whose first value is missing.
   */
  validate(data: Matrix, what: string, missing?: Matrix): void;
  /** The states with indices start..start+count-1 of `stateCount` (discrete layers only). */
  enumerateStates?(start: number, count: number, precision: Precision): Matrix;
  /** Sets the parameters from the column means of the training data (Bernoulli: logit of the means). */
  initializeFromData?(columnMeans: Float64Array): void;
  /** The layer's JSON spec (type, name, size, options); parameters are saved separately. */
  spec(): UnitSpec;
  /** Frees its tensors. */
  dispose(): void;
}

/** Builds a layer of one type from its spec (the entries of the unit-type registry). */
export type UnitFactory = (backend: Backend, spec: UnitSpec) => UnitLayer;

/**
 * Throws unless every key of a layer spec is one its type knows (`type`, `name`, `size` and
 * `known`), so a misspelt option ("varaince") is an error rather than silently ignored; the
 * message lists the options and suggests the nearest (`checkOptionKeys`).
 */
export function checkUnitOptions(spec: UnitSpec, known: readonly string[]): void {
  checkOptionKeys(`layer "${spec.name}" (${spec.type} units)`, spec, known, ['type', 'name', 'size']);
}
