/**
 * Continual learning from a drifting stream: `npx tsx examples/online-learning/src/main.ts`
 * (add `--steps-per-phase N` to change the length).
 */
import { onlineLearning } from './online-learning.js';

const arg = process.argv.indexOf('--steps-per-phase');
const stepsPerPhase = arg >= 0 ? Number(process.argv[arg + 1]) : 400;

const result = await onlineLearning({ stepsPerPhase, progress: process.stderr });
const { series } = result;
console.log(`sliding-window reconstruction error (${result.steps} steps, drift after step ${stepsPerPhase}):`);
const every = Math.max(1, Math.floor(series.x.length / 16));
series.x.forEach((step, i) => {
  if (i % every !== every - 1 && step !== result.peakStep) return;
  const y = series.y[i]!;
  console.log(`  step ${String(step).padStart(5)}  ${y.toFixed(4)}  ${'#'.repeat(Math.round(y * 200))}${step === result.peakStep ? '  <- peak after the drift' : ''}`);
});
console.log(`before the drift ${result.beforeDrift.toFixed(4)}, peak after it ${result.peakAfterDrift.toFixed(4)} (step ${result.peakStep}), at the end ${result.atEnd.toFixed(4)}`);
console.log(result.atEnd < result.peakAfterDrift / 2 ? 'the window metric recovered after the drift' : 'the window metric has not recovered yet: run longer');
