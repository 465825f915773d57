/**
 * AIS on a real trained model against the exact answer: a Bernoulli RBM 784 x H (H <= 25)
 * trained by scikit-learn on Fashion-MNIST binarized at pixel >= 128 (bench/quality_export.py,
 * read through the raw interop format), its exact log Z by enumerating the 2^H hidden states
 * (timed, CPU seconds and wall seconds), then the log Z sandwich with the default recipe (14,500
 * betas, 100 runs, base-rate start from the training data, float64) and, for comparison, the
 * former default path (chains on the hidden units, uniform start). One JSON line per result.
 *
 *   python3 bench/quality_export.py --lib sklearn --hidden 20 --epochs 10 --lr 0.1 --batch 10 --out .bench-out/sk20
 *   npx tsx bench/ais-check.ts .bench-out/sk20/rbm.json [--betas 14500] [--runs 100]
 */
import { CpuBackend } from '@boltzmann/backend-cpu';
import { annealedImportanceSampling, exactLogPartition, loadRawRBM, logPartitionSandwich } from '@boltzmann/core';
import { binarize, loadFashionMnist } from '@boltzmann/data';

const [file, ...rest] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: npx tsx bench/ais-check.ts MODEL.json [--betas N] [--runs N] [--skip-old]');
const flag = (name: string, fallback: number) => {
  const i = rest.indexOf(name);
  return i < 0 ? fallback : Number(rest[i + 1]);
};
const betas = flag('--betas', 14500);
const runs = flag('--runs', 100);
const be64 = new CpuBackend({ precision: 'float64' });
const rbm = loadRawRBM(file, be64);
const train = binarize(loadFashionMnist({ split: 'train' }).images, 127.5 / 255);

const timed = async <T>(fn: () => Promise<T>): Promise<{ value: T; cpuSeconds: number; wallSeconds: number }> => {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { value, cpuSeconds: Number(((used.user + used.system) / 1e6).toFixed(2)), wallSeconds: Number(((performance.now() - wall) / 1000).toFixed(2)) };
};

const exact = await timed(() => exactLogPartition(rbm));
const general = rest.includes('--time-general') ? await timed(() => exactLogPartition(rbm, { pairs: false })) : undefined;
const model = `${rbm.layers[0]!.size}x${rbm.layers[1]!.size}`;
console.log(JSON.stringify({ bench: 'exact-log-z', model, logZ: exact.value, cpuSeconds: exact.cpuSeconds, wallSeconds: exact.wallSeconds, ...(general ? { generalRoute: { logZ: general.value, cpuSeconds: general.cpuSeconds, wallSeconds: general.wallSeconds } } : {}) }));
const s = await timed(() => logPartitionSandwich(rbm, { baseRate: train, betas, runs, seed: 1 }));
const z = s.value;
console.log(
  JSON.stringify({
    bench: 'ais-sandwich',
    model,
    betas,
    runs,
    exact: exact.value,
    ais: Number((z.lowerEstimate - exact.value).toFixed(3)),
    reverse: Number((z.upperEstimate - exact.value).toFixed(3)),
    ends: [Number((z.lower - exact.value).toFixed(3)), Number((z.upper - exact.value).toFixed(3))],
    exactInside: z.lower <= exact.value && exact.value <= z.upper,
    effectiveSampleSize: Number(z.forward.effectiveSampleSize.toFixed(1)),
    agree: z.agree,
    cpuSeconds: s.cpuSeconds,
    wallSeconds: s.wallSeconds,
    note: 'ais/reverse/ends are differences from the exact log Z',
  }),
);
if (!rest.includes('--skip-old')) {
  const old = await timed(() => annealedImportanceSampling(rbm, { betas: 1000, runs, start: 'uniform', sumOut: 'even', seed: 1 }));
  console.log(JSON.stringify({ bench: 'ais-former-default', model, betas: 1000, runs, path: 'chains on the hidden units, visible summed out, uniform start', ais: Number((old.value.logZ - exact.value).toFixed(3)), effectiveSampleSize: Number(old.value.effectiveSampleSize.toFixed(1)), cpuSeconds: old.cpuSeconds }));
}
