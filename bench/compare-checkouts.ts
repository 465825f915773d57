/**
 * Before / after of one configuration of `rbm-epoch.ts` across two checkouts of the
 * repository (each with its own `npm install`), interleaved: each checkout runs the child of
 * its own `bench/rbm-epoch.ts`, and the parent asks them for one epoch each in turn, swapping
 * the order every round, so both see the same machine conditions. One JSON line per epoch,
 * then one with the medians and the median of the per-round ratios (after / before).
 *
 *   npx tsx bench/compare-checkouts.ts --before /tmp/main-checkout [--after .] [--config core-rbm] [--rounds 9] [--rows 60000]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

interface Child {
  write(line: string): void;
  next(): Promise<Record<string, unknown>>;
}

function option(argv: string[], name: string, fallback?: string): string {
  const i = argv.indexOf(`--${name}`);
  const value = i >= 0 ? argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

function start(cwd: string, config: string, rows: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/rbm-epoch.ts', '--child', config, '--rows', rows], { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    write: (line) => void child.stdin.write(`${line}\n`),
    next: async () => {
      const { value, done } = await lines.next();
      if (done) throw new Error(`the ${config} child in ${cwd} exited`);
      return JSON.parse(value as string) as Record<string, unknown>;
    },
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const trees = { before: path.resolve(option(argv, 'before')), after: path.resolve(option(argv, 'after', '.')) };
  const config = option(argv, 'config', 'core-rbm');
  const rounds = Number(option(argv, 'rounds', '9'));
  const rows = option(argv, 'rows', '60000');
  const children = { before: start(trees.before, config, rows), after: start(trees.after, config, rows) };
  for (const name of ['before', 'after'] as const) console.log(JSON.stringify({ name, tree: trees[name], hello: await children[name].next() }));
  const seconds = { before: [] as number[], after: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)) {
      children[name].write('epoch');
      const result = await children[name].next();
      seconds[name].push(result['seconds'] as number);
      console.log(JSON.stringify({ round, name, seconds: result['seconds'] }));
    }
  }
  for (const child of Object.values(children)) child.write('exit');
  const ratios = seconds.after.map((t, i) => t / seconds.before[i]!);
  console.log(JSON.stringify({ config, rows: Number(rows), rounds, medianBefore: median(seconds.before), medianAfter: median(seconds.after), medianRatio: median(ratios), before: seconds.before, after: seconds.after }));
}

await main();
