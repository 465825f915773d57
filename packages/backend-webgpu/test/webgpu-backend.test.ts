/**
 * The WGSL backend in Node, through the optional `webgpu` package (Dawn). On a machine without a
 * GPU Dawn finds no adapter and the device suites are skipped, saying why; the same suite runs
 * in headless Chromium on every machine (test/browser-conformance.test.ts). What needs no device
 * (tile validation, the WGSL sources' shape) is checked here always.
 */
import { expect } from 'chai';
import { describeBackendConformance } from '@boltzmann/tensor/testing';
import { InvalidValueError, Matrix, rngState } from '@boltzmann/tensor';
import { LARGE_TILE, MEDIUM_TILE, WebGpuBackend } from '../src/index.js';
import { checkTile, matmulFlags, matmulKernel } from '../src/kernels/matmul.js';
import { UNARY_WGSL } from '../src/kernels/wgsl-math.js';

let unavailable = '';
try {
  (await WebGpuBackend.create()).destroy();
} catch (e) {
  unavailable = (e as Error).message;
}

if (unavailable === '') {
  describeBackendConformance('WebGpuBackend in Node (Dawn)', () => WebGpuBackend.create());
  describe('WebGpuBackend in Node (Dawn): specifics', function () {
    it('counts live tensors, refuses readSync, compiles nothing new in a repeated step', async function () {
      const be = await WebGpuBackend.create();
      try {
        const x = be.upload(new Matrix(5, 7, new Float32Array(35).fill(0.5)));
        const w = be.zeros(7, 3, 0.1);
        const b = be.zeros(1, 3);
        const h = be.zeros(5, 3);
        expect(be.memory()).to.deep.equal({ numTensors: 4, numBytes: 4 * (35 + 21 + 3 + 15) });
        expect(() => be.readSync(h)).to.throw(InvalidValueError, /await backend.read/);
        const step = (): void => {
          be.linear(x, w, b, h, { activation: 'sigmoid' });
          be.sampleBernoulli(h, rngState(1), h);
          be.matmul(x, h, w, { transposeA: true, alpha: 0.1, beta: 1 });
        };
        step();
        await be.read(h);
        const compiled = be.compiledKernelCount;
        step();
        await be.read(h);
        expect(be.compiledKernelCount).to.equal(compiled);
        be.dispose(x);
        expect(be.memory().numTensors).to.equal(3);
      } finally {
        be.destroy();
      }
    });
  });
} else {
  describe('WebGpuBackend in Node (Dawn)', function () {
    it.skip(`conformance (no WebGPU device here: ${unavailable})`, function () {});
  });
}

describe('WebGpuBackend without a device', function () {
  it('fails to start with the reason when WebGPU is missing, and refuses float64', async function () {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    let message = '';
    try {
      await WebGpuBackend.create({ gpu: noAdapter });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.match(/no adapter/);
    let precision = '';
    try {
      await WebGpuBackend.create({ precision: 'float64' });
    } catch (e) {
      precision = (e as Error).message;
    }
    expect(precision).to.match(/float32/);
  });

  it('accepts the built-in tiles and refuses tiles that make no valid workgroup', function () {
    expect(() => checkTile(LARGE_TILE)).to.not.throw();
    expect(() => checkTile(MEDIUM_TILE)).to.not.throw();
    expect(() => checkTile({ bm: 128, bn: 128, bk: 8, tm: 4, tn: 4 })).to.throw(RangeError, /256 threads/);
    expect(() => checkTile({ bm: 64, bn: 64, bk: 64, tm: 4, tn: 4 })).to.throw(RangeError, /16 KiB/);
    expect(() => checkTile({ bm: 60, bn: 64, bk: 8, tm: 8, tn: 4 })).to.throw(RangeError);
  });

  it('one matrix-product pipeline per tile: transposes and epilogues are flags, every activation has a code', function () {
    expect(matmulKernel(MEDIUM_TILE)).to.equal(matmulKernel(MEDIUM_TILE));
    const code = matmulKernel(MEDIUM_TILE).code;
    // the unrolled register block: one accumulator per output of a thread
    expect(code.match(/var c\d+_\d+ = 0\.0;/g)).to.have.length(MEDIUM_TILE.tm * MEDIUM_TILE.tn);
    const flags = new Set<number>();
    for (const ta of [false, true]) for (const tb of [false, true]) {
      flags.add(matmulFlags(ta, tb, { kind: 'matmul', accumulate: false }));
      flags.add(matmulFlags(ta, tb, { kind: 'matmul', accumulate: true }));
      for (const op of Object.keys(UNARY_WGSL) as Array<keyof typeof UNARY_WGSL>) flags.add(matmulFlags(ta, tb, { kind: 'linear', activation: op }));
    }
    expect(flags.size).to.equal(4 * (2 + Object.keys(UNARY_WGSL).length));
  });
});
