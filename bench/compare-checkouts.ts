/**
 * Before / after of configurations of `rbm-epoch.ts` across two checkouts of the repository
 * (each with its own `npm install`), interleaved: each checkout runs the children of its own
 * `bench/rbm-epoch.ts`, one per configuration, and the parent asks every child for one epoch in
 * turn, rotating the order every round, so all see the same machine conditions. One JSON line
 * per epoch, then one per configuration with the medians and the median of the per-round ratios
 * (after / before), and with two configurations one per checkout with the per-round ratios of
 * the second to the first (e.g. `--config core-rbm,core-rbm-bf16`: bfloat16-mixed / float32).
 * Spreads are the quartiles of the per-round ratios; each summary gives them for the wall time
 * and (under "cpu") for the CPU time of the child (all its threads), steadier on a loaded machine.
 *
 *   npx tsx bench/compare-checkouts.ts --before /tmp/main-checkout [--after .] [--config core-rbm[,core-rbm-bf16]] [--rounds 9] [--rows 60000]
 *
 * The children import the packages' sources (condition @boltzmann/source), so a checkout needs
 * no build beyond its `npm install` (the native addon).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

interface Child {
  write(line: string): void;
  /** Sends "exit" and closes the child's stdin, so it leaves (an open pipe would keep it alive). */
  end(): void;
  next(): Promise<Record<string, unknown>>;
}

function option(argv: string[], name: string, fallback?: string): string {
  const i = argv.indexOf(`--${name}`);
  const value = i >= 0 ? argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

function start(cwd: string, config: string, rows: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@boltzmann/source', 'bench/rbm-epoch.ts', '--child', config, '--rows', rows], { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    write: (line) => void child.stdin.write(`${line}\n`),
    end: () => void child.stdin.end('exit\n'),
    next: async () => {
      const { value, done } = await lines.next();
      if (done) throw new Error(`the ${config} child in ${cwd} exited`);
      return JSON.parse(value as string) as Record<string, unknown>;
    },
  };
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = q * (s.length - 1);
  const low = Math.floor(at);
  return low + 1 < s.length ? s[low]! + (at - low) * (s[low + 1]! - s[low]!) : s[low]!;
}

const median = (xs: readonly number[]): number => quantile(xs, 0.5);

/** Median and quartiles of per-round ratios, rounded for the JSON line. */
function ratioSummary(ratios: readonly number[]): { medianRatio: number; ratioQuartiles: [number, number] } {
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { medianRatio: r(median(ratios)), ratioQuartiles: [r(quantile(ratios, 0.25)), r(quantile(ratios, 0.75))] };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const trees = { before: path.resolve(option(argv, 'before')), after: path.resolve(option(argv, 'after', '.')) };
  const configs = option(argv, 'config', 'core-rbm').split(',');
  const rounds = Number(option(argv, 'rounds', '9'));
  const rows = option(argv, 'rows', '60000');
  const runs = configs.flatMap((config) => (['before', 'after'] as const).map((tree) => ({ config, tree, child: start(trees[tree], config, rows), seconds: [] as number[], cpuSeconds: [] as number[] })));
  for (const run of runs) console.log(JSON.stringify({ name: run.tree, config: run.config, tree: trees[run.tree], hello: await run.child.next() }));
  for (let round = 0; round < rounds; round++) {
    // Rotated every round, so no run is always first or always right after another.
    const order = runs.map((_, i) => runs[(i + round) % runs.length]!);
    for (const run of order) {
      run.child.write('epoch');
      const result = await run.child.next();
      run.seconds.push(result['seconds'] as number);
      run.cpuSeconds.push(result['cpuSeconds'] as number);
      console.log(JSON.stringify({ round, name: run.tree, config: run.config, seconds: result['seconds'], cpuSeconds: result['cpuSeconds'] }));
    }
  }
  for (const run of runs) run.child.end();
  const find = (config: string, tree: 'before' | 'after', what: 'seconds' | 'cpuSeconds' = 'seconds') => runs.find((r) => r.config === config && r.tree === tree)![what];
  const ratios = (a: readonly number[], b: readonly number[]) => b.map((t, i) => t / a[i]!);
  for (const config of configs) {
    const [before, after] = [find(config, 'before'), find(config, 'after')];
    const [cpuBefore, cpuAfter] = [find(config, 'before', 'cpuSeconds'), find(config, 'after', 'cpuSeconds')];
    console.log(
      JSON.stringify({
        config, rows: Number(rows), rounds, medianBefore: median(before), medianAfter: median(after), ...ratioSummary(ratios(before, after)),
        cpu: { medianBefore: median(cpuBefore), medianAfter: median(cpuAfter), ...ratioSummary(ratios(cpuBefore, cpuAfter)) },
        before, after,
      }),
    );
  }
  if (configs.length === 2) {
    const [first, second] = configs as [string, string];
    for (const tree of ['before', 'after'] as const) {
      const wall = ratioSummary(ratios(find(first, tree), find(second, tree)));
      const cpu = ratioSummary(ratios(find(first, tree, 'cpuSeconds'), find(second, tree, 'cpuSeconds')));
      console.log(JSON.stringify({ tree: trees[tree], name: tree, ratio: `${second} / ${first}`, rows: Number(rows), rounds, ...wall, cpu }));
    }
  }
}

await main();
