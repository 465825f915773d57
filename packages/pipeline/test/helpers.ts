/**
 * Small fixtures for the pipeline tests: seeded binary data, models, a way to run a training
 * stream to its end or until an event, and bitwise comparison of parameters.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { RBM, Trainer, type EnergyModel, type TrainerOptions } from '@boltzmann/core';
import { CounterRng, Matrix, type Backend } from '@boltzmann/tensor';
import { lastValueFrom, takeWhile, toArray, type Observable } from 'rxjs';
import type { BrokerOpenOptions, BrokerSource, TrainingEvent } from '@boltzmann/pipeline';

/** Binary rows: each row a noisy copy (flip probability `noise`) of one of `patterns` seeded random patterns. */
export function plantedRows(rows: number, cols: number, seed: number, patterns = 3, noise = 0.1): Matrix {
  const rng = new CounterRng(seed, 7);
  const protos = Array.from({ length: patterns }, () => Array.from(rng.uniforms(new Float64Array(cols)), (u) => (u < 0.5 ? 1 : 0)));
  const pick = rng.uniforms(new Float64Array(rows));
  const flips = rng.uniforms(new Float64Array(rows * cols));
  const m = new Matrix(rows, cols);
  for (let r = 0; r < rows; r++) {
    const p = protos[Math.floor(pick[r]! * patterns)]!;
    for (let c = 0; c < cols; c++) m.data[r * cols + c] = flips[r * cols + c]! < noise ? 1 - p[c]! : p[c]!;
  }
  return m;
}

/** A fresh RBM and trainer (CD-1 unless `trainer.estimator` says otherwise). */
export function makeSession(be: Backend, visible: number, hidden: number, trainer: TrainerOptions = {}): { model: RBM; trainer: Trainer } {
  const model = RBM.create(be, { visible, hidden, seed: 11 });
  return { model, trainer: new Trainer(model, { batchSize: 10, seed: 5, learningRate: 0.1, ...trainer }) };
}

export function cpu(): CpuBackend {
  return new CpuBackend();
}

/** All events of a run, to completion (rejects with the run's error). */
export function runAll(run$: Observable<TrainingEvent>): Promise<TrainingEvent[]> {
  return lastValueFrom(run$.pipe(toArray()));
}

/** The events of a run up to and including the first that `stop` accepts; then it unsubscribes (cancels). */
export function runUntil(run$: Observable<TrainingEvent>, stop: (e: TrainingEvent) => boolean): Promise<TrainingEvent[]> {
  return lastValueFrom(run$.pipe(takeWhile((e) => !stop(e), true), toArray()));
}

/** Expects every parameter of `a` and `b` to hold the very same bits. */
export async function expectSameParams(a: EnergyModel, b: EnergyModel): Promise<void> {
  const pa = await a.getParams();
  const pb = await b.getParams();
  expect(Object.keys(pb).sort()).to.deep.equal(Object.keys(pa).sort());
  for (const name of Object.keys(pa)) {
    const x = pa[name]!.data;
    const y = pb[name]!.data;
    const same = Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    expect(same, `parameter ${name} differs`).to.equal(true);
  }
}

/** Whether two models' parameters differ anywhere (to show a check can fail). */
export async function paramsDiffer(a: EnergyModel, b: EnergyModel): Promise<boolean> {
  const pa = await a.getParams();
  const pb = await b.getParams();
  return Object.keys(pa).some((n) => pa[n]!.data.some((v, i) => v !== pb[n]!.data[i]));
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Waits a few event-loop turns (for a cancelled run to notice). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Consecutive batches of `size` rows of `rows`, in order (the in-memory reference of a stream); a short tail is left out. */
export function batchesOf(rows: Matrix, size: number): Matrix[] {
  const out: Matrix[] = [];
  for (let r = 0; r + size <= rows.rows; r += size) out.push(rows.sliceRows(r, r + size));
  return out;
}

/** What opening `source` (with `options`) fails with ('opened' when it does not); the source is closed either way. */
export async function openFailure(source: BrokerSource, options: BrokerOpenOptions = {}): Promise<string> {
  try {
    await source.open(options);
    return 'opened';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await source.close();
  }
}

/**
 * Runs `run$` to its end, calling `afterStep` after each step's batch-end event, one call at a
 * time in step order (a later call waits for the one before); resolves once the run and every
 * call are done.
 */
export async function runWithStepHook(run$: Observable<TrainingEvent>, afterStep: (step: number) => Promise<void>): Promise<void> {
  let calls = Promise.resolve();
  await new Promise<void>((resolve, reject) =>
    run$.subscribe({
      next: (event) => {
        if (event.type === 'batch-end') calls = calls.then(() => afterStep(event.step));
      },
      error: reject,
      complete: resolve,
    }),
  );
  await calls;
}
