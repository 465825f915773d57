import { GeometricCooling, MaxCut, NQueens, solveByAnnealing, type WeightedEdge } from '@boltzmann/core';
import { CounterRng } from '@boltzmann/tensor';

/** Sizes of one run; the defaults are those of `main.ts`. */
export interface CspOptions {
  /** Board size of the queens puzzle; default 8. */
  queens?: number;
  /** Vertices of the random max-cut graph; default 20 (brute force checks 2^19 cuts). */
  vertices?: number;
  /** Probability that two vertices are joined; default 0.35. */
  density?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** What a run found next to the known optima. */
export interface CspResult {
  queens: { columns: number[]; energy: number; constraintsHold: boolean; knownOptimumEnergy: number; solutionCount: number };
  maxCut: { value: number; optimum: number; sides: number[]; edges: number };
}

/** A random graph with integer weights 1..5 (seeded). */
export function randomGraph(vertices: number, density: number, seed: number): WeightedEdge[] {
  const u = new CounterRng(seed).uniforms(new Float64Array(vertices * vertices));
  const edges: WeightedEdge[] = [];
  for (let i = 0; i < vertices; i++) {
    for (let j = i + 1; j < vertices; j++) if (u[i * vertices + j]! < density) edges.push({ from: i, to: j, weight: 1 + Math.floor(u[j * vertices + i]! * 5) });
  }
  return edges;
}

/** Solves N-queens and a max-cut instance by annealing and compares with the known optima. */
export function runCsp(options: CspOptions = {}): CspResult {
  const log = options.log ?? console.log;
  const seed = options.seed ?? 1;

  // N-queens: one 0/1 unit per square; E = 0 exactly on the solutions (the known optimum).
  const n = options.queens ?? 8;
  const queens = new NQueens(n);
  const solved = solveByAnnealing(queens, { seed, schedule: new GeometricCooling({ start: 3, end: 0.05, steps: 40 }), sweepsPerTemperature: 20, restarts: 8 });
  const solutionCount = queens.countSolutions();
  log(`${n}-queens: energy ${solved.energy.toFixed(3)} (optimum 0, ${solutionCount} solutions exist), constraints ${solved.constraintsHold ? 'hold' : `broken: ${solved.violations.join('; ')}`}`);
  for (const c of solved.solution) log(`  ${Array.from({ length: n }, (_, k) => (k === c ? 'Q' : '.')).join(' ')}`);

  // Max-cut: one spin per vertex; E = -cut, checked against every cut.
  const vertices = options.vertices ?? 20;
  const graph = new MaxCut(vertices, randomGraph(vertices, options.density ?? 0.35, seed));
  const cut = solveByAnnealing(graph, { seed, schedule: new GeometricCooling({ start: 5, end: 0.05, steps: 40 }), sweepsPerTemperature: 10, restarts: 4 });
  const optimum = graph.bruteForce();
  log(`max-cut on ${vertices} vertices, ${graph.edges.length} weighted edges: annealing cuts ${cut.solution.value}, brute-force optimum ${optimum.value}`);

  return {
    queens: { columns: solved.solution, energy: solved.energy, constraintsHold: solved.constraintsHold, knownOptimumEnergy: 0, solutionCount },
    maxCut: { value: cut.solution.value, optimum: optimum.value, sides: cut.solution.sides, edges: graph.edges.length },
  };
}
