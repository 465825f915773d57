import { CpuBackend } from '@boltzmann/backend-cpu';
import { RBM, Trainer, loadRBM, saveModel, type EpochReport } from '@boltzmann/core';
import { loadDigits } from '@boltzmann/data';
import type { Matrix } from '@boltzmann/tensor';

/** Sizes of one quickstart run; the defaults are the README's. */
export interface QuickstartOptions {
  hidden?: number;
  epochs?: number;
  /** Training rows taken from the 8,000 bundled training digits. */
  trainRows?: number;
  /** Where the model file goes. */
  modelPath: string;
  log?: (line: string) => void;
}

/** What a run gives back, for the test and for the curious. */
export interface QuickstartResult {
  reports: EpochReport[];
  features: Matrix;
  samples: Matrix;
  /** Free energy of the first test digits, before saving and after loading the file again. */
  freeEnergyBefore: Float64Array;
  freeEnergyAfterLoad: Float64Array;
}

/** The README's example, step by step: train, transform, sample, save, load. */
export async function quickstart(options: QuickstartOptions): Promise<QuickstartResult> {
  const log = options.log ?? console.log;
  const backend = new CpuBackend({ precision: 'float32' });
  const train = loadDigits({ split: 'train', count: options.trainRows }).images; // Matrix, values in [0, 1]
  const test = loadDigits({ split: 'test' }).images;
  const rbm = RBM.create(backend, { visible: 784, hidden: options.hidden ?? 256, seed: 1 });
  const trainer = new Trainer(rbm, { seed: 1 }); // CD-1, lr 0.05, momentum 0.5 -> 0.9, L2 1e-4
  const reports = await trainer.fit(train, {
    epochs: options.epochs ?? 5,
    validation: test,
    onEpoch: (r) =>
      log(`epoch ${r.epoch}: reconstruction error ${r.reconstructionError.toFixed(4)}, ` +
        `pseudo-log-likelihood train ${r.pseudoLogLikelihood?.train.toFixed(1)} / held-out ${r.pseudoLogLikelihood?.validation?.toFixed(1)}`),
  });
  const features = await rbm.transform(test); // hidden probabilities
  const samples = await rbm.sample(16, { steps: 1000 }); // Gibbs samples
  const probe = test.sliceRows(0, 10);
  const freeEnergyBefore = await rbm.freeEnergyOf(probe);
  await saveModel(options.modelPath, rbm, trainer); // one file, written atomically
  const { model } = loadRBM(options.modelPath, backend); // trainer state comes back too
  const freeEnergyAfterLoad = await model.freeEnergyOf(probe);
  log(`features ${features.rows}x${features.cols}, samples ${samples.rows}x${samples.cols}, model saved to ${options.modelPath}`);
  return { reports, features, samples, freeEnergyBefore, freeEnergyAfterLoad };
}
