import { InvalidValueError, type Matrix } from '@boltzmann/tensor';
import type { QuadraticEnergy } from '../models/quadratic-energy.js';
import { GlauberSampler } from '../samplers/glauber.js';
import { checkInteger } from '../validation.js';
import { TemperatureList, type CoolingSchedule } from './cooling-schedule.js';
import { GeometricCooling } from './geometric-cooling.js';

/** Options of {@link simulatedAnnealing}. */
export interface AnnealingOptions {
  /** The temperatures, decreasing; default geometric from 10 to 0.05 in 60 stages. */
  schedule?: CoolingSchedule | readonly number[];
  /** Glauber sweeps at each temperature; default 20. */
  sweepsPerTemperature?: number;
  /** Independent runs (chains) annealed side by side; the best state over all is returned. Default 8. */
  restarts?: number;
  /** After the schedule, flip single units downhill until none lowers the energy (a local minimum); default true. */
  quench?: boolean;
  /** Seed of the random starts and the Glauber updates; default 0. */
  seed?: number;
  /** Starting states (restarts x N, or one row for all) instead of uniformly random ones. */
  init?: Matrix;
}

/** What a stage of the schedule did. */
export interface AnnealingStage {
  temperature: number;
  /** Mean energy of the runs at the end of the stage. */
  meanEnergy: number;
  /** Lowest energy seen so far. */
  bestEnergy: number;
}

/** The outcome of {@link simulatedAnnealing}. */
export interface AnnealingResult {
  /** The lowest-energy state found (over every stage, run and the final quench). */
  state: Float64Array;
  energy: number;
  /** One entry per temperature. */
  stages: AnnealingStage[];
  /** Final energy of each run (after the quench). */
  finalEnergies: Float64Array;
}

/**
 * Simulated annealing (Kirkpatrick, Gelatt & Vecchi) with a fixed-weight Boltzmann machine as
 * the solver: Glauber dynamics at each temperature of a decreasing schedule, so the runs settle
 * into low-energy states as T falls, then an optional zero-temperature quench. Returns the
 * lowest-energy state seen, checked after every sweep. Encode a problem's cost and constraints
 * as E(s) (see MaxCut, NQueens, GraphColouring) and decode the state.
 */
export function simulatedAnnealing(energy: QuadraticEnergy, options: AnnealingOptions = {}): AnnealingResult {
  const schedule = options.schedule === undefined
    ? new GeometricCooling({ start: 10, end: 0.05, steps: 60 })
    : Array.isArray(options.schedule) ? new TemperatureList(options.schedule as readonly number[]) : (options.schedule as CoolingSchedule);
  if (typeof schedule.temperatures !== 'function') throw new InvalidValueError('schedule must be a CoolingSchedule or an array of decreasing temperatures');
  const temperatures = schedule.temperatures();
  const sweeps = checkInteger('sweepsPerTemperature', options.sweepsPerTemperature ?? 20);
  const restarts = checkInteger('restarts', options.restarts ?? 8);
  const sampler = new GlauberSampler(energy, { seed: checkInteger('seed', options.seed ?? 0, 0, 0xffffffff), temperature: temperatures[0]! });
  const chains = sampler.createChains(restarts, options.init);
  sampler.refresh(chains);
  const n = energy.size;
  let best = { energy: Infinity, state: new Float64Array(n) };
  const keepBest = () => {
    for (let r = 0; r < restarts; r++) {
      if (chains.energies[r]! < best.energy) best = { energy: chains.energies[r]!, state: chains.state(r).slice() };
    }
  };
  keepBest();
  const stages: AnnealingStage[] = [];
  for (const t of temperatures) {
    sampler.temperature = t;
    for (let s = 0; s < sweeps; s++) {
      sampler.sweep(chains, 1);
      keepBest();
    }
    let mean = 0;
    for (let r = 0; r < restarts; r++) mean += chains.energies[r]! / restarts;
    stages.push({ temperature: t, meanEnergy: mean, bestEnergy: best.energy });
  }
  const finalEnergies = chains.energies.slice();
  if (options.quench ?? true) {
    for (let r = 0; r < restarts; r++) {
      const s = chains.state(r).slice();
      finalEnergies[r] = descend(energy, s);
      if (finalEnergies[r]! < best.energy) best = { energy: finalEnergies[r]!, state: s };
    }
    // the best state may come from mid-run: descend from it as well
    const s = best.state.slice();
    const e = descend(energy, s);
    if (e < best.energy) best = { energy: e, state: s };
  }
  return { state: best.state, energy: energy.energy(best.state), stages, finalEnergies };
}

/**
 * Greedy descent in place: sweeps the units in order, setting each to its lower-energy value
 * (keeping it on a tie), until a sweep changes nothing. Returns the final energy (a local
 * minimum under single flips).
 */
export function descend(energy: QuadraticEnergy, state: Float64Array): number {
  energy.checkState(state);
  const n = energy.size;
  const field = new Float64Array(n);
  for (let i = 0; i < n; i++) field[i] = energy.field(i, state);
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 0; i < n; i++) {
      const f = field[i]!;
      const next = f > 0 ? energy.high : f < 0 ? energy.low : state[i]!;
      const d = next - state[i]!;
      if (d === 0) continue;
      state[i] = next;
      changed = true;
      for (let j = 0; j < n; j++) field[j]! += energy.weights[j * n + i]! * d;
    }
  }
  return energy.energy(state);
}
