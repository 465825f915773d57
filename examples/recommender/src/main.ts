/**
 * `npx tsx examples/recommender/src/main.ts` trains on planted synthetic tastes;
 * `npx tsx examples/recommender/src/main.ts path/to/u.data [--levels 0.5,1,...,5] [--epochs 20] [--hidden 100]`
 * trains on a MovieLens-style file instead.
 */
import { runRecommender, type RecommenderOptions } from './recommender.js';

const args = process.argv.slice(2);
const options: RecommenderOptions = {};
for (let a = 0; a < args.length; a++) {
  const arg = args[a]!;
  const value = () => {
    const v = args[++a];
    if (v === undefined) throw new Error(`${arg} needs a value`);
    return v;
  };
  if (arg === '--levels') options.levels = value().split(',').map(Number);
  else if (arg === '--epochs') options.epochs = Number(value());
  else if (arg === '--hidden') options.hidden = Number(value());
  else if (arg === '--learning-rate') options.learningRate = Number(value());
  else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}; options: --levels, --epochs, --hidden, --learning-rate`);
  else options.file = arg;
}
await runRecommender(options);
