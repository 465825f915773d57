import type { QuadraticEnergy } from '../models/quadratic-energy.js';
import { simulatedAnnealing, type AnnealingOptions, type AnnealingResult } from './simulated-annealing.js';

/**
 * A problem encoded in the weights and biases of a Boltzmann machine: low energy = good
 * solutions, hard constraints as penalties, so that annealing the machine solves it.
 */
export interface ConstraintProblem<S> {
  /** The fixed-weight machine whose low-energy states encode good solutions. */
  readonly energy: QuadraticEnergy;
  /** The solution a state encodes. */
  decode(state: ArrayLike<number>): S;
  /** The hard constraints the state breaks, each in words; empty when all hold. */
  violations(state: ArrayLike<number>): string[];
}

/** What {@link solveByAnnealing} found. */
export interface AnnealedSolution<S> {
  /** The decoded lowest-energy state found. */
  solution: S;
  state: Float64Array;
  energy: number;
  /** Whether every hard constraint holds in that state. */
  constraintsHold: boolean;
  /** The constraints it breaks (empty when they hold). */
  violations: string[];
  annealing: AnnealingResult;
}

/** Anneals the problem's machine and decodes the lowest-energy state found. */
export function solveByAnnealing<S>(problem: ConstraintProblem<S>, options: AnnealingOptions = {}): AnnealedSolution<S> {
  const annealing = simulatedAnnealing(problem.energy, options);
  const violations = problem.violations(annealing.state);
  return {
    solution: problem.decode(annealing.state),
    state: annealing.state,
    energy: annealing.energy,
    constraintsHold: violations.length === 0,
    violations,
    annealing,
  };
}
