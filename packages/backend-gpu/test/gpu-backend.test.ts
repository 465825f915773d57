import { expect } from 'chai';
import { CounterRng, InvalidValueError, Matrix, ReferenceBackend, ShapeError, createBackend, listBackends, nextKey, rngState, uniformAt, type Backend } from '@boltzmann/tensor';
import { describeBackendConformance, expectClose } from '@boltzmann/tensor/testing';
import { AUTO_ORDER, GpuBackend, probeGpuModes, type GpuMode, type ModeProbe } from '../src/node.js';
import { GpuBackend as GpuBackendWithHarness } from '../src/gpu-backend.js';
import { describeAsyncChecks } from './async-checks.js';
import { FakeDevice } from './fake-device.js';

// Every mode is probed once up front (webgpu needs an adapter, which only answers asynchronously),
// so each mode below either runs its suites or is reported as skipped with the reason.
const probes = new Map<GpuMode, ModeProbe>((await probeGpuModes()).map((p) => [p.mode, p]));
const works = (mode: GpuMode): boolean => probes.get(mode)!.ok;

// float32 kernels against the float64 oracle: the suite's default float32 tolerance fits
const tolerance = 2e-5;
// the suite's 100x784x33 product in four transpose forms is slow in the plain-JS mode; these keep 1, 3, 129 and the 65x65 worker split
const smallMatmulShapes: Array<[number, number, number]> = [
  [1, 1, 1],
  [3, 5, 7],
  [1, 129, 3],
  [129, 3, 1],
  [17, 129, 65],
  [65, 129, 65],
];

function skipped(mode: GpuMode): void {
  describe(`GpuBackend ${mode}`, function () {
    it.skip(`conformance (mode unavailable here: ${probes.get(mode)!.reason})`, function () {});
  });
}

if (works('webgpu')) {
  // WebGPU has no synchronous readback: the shared suite reads with await, the asynchronous checks add what is queue-specific
  describeBackendConformance('GpuBackend webgpu', () => new GpuBackend({ mode: 'webgpu' }), { tolerance });
  describeAsyncChecks('GpuBackend webgpu', () => new GpuBackend({ mode: 'webgpu' }));
  describeBackendConformance('GpuBackend webgpu, host uniforms', () => new GpuBackend({ mode: 'webgpu', randomStrategy: 'host' }), { tolerance });
  describeAsyncChecks('GpuBackend webgpu, host uniforms', () => new GpuBackend({ mode: 'webgpu', randomStrategy: 'host' }));
} else {
  skipped('webgpu');
}

if (works('headlessgl')) {
  describeBackendConformance('GpuBackend headlessgl', () => new GpuBackend({ mode: 'headlessgl' }), { tolerance });
} else {
  skipped('headlessgl');
}

if (works('webasm')) {
  describeBackendConformance('GpuBackend webasm', () => new GpuBackend({ mode: 'webasm' }), { tolerance });
  // the in-kernel hash the device modes use, run here in true f32 arithmetic
  describeBackendConformance('GpuBackend webasm, emulated in-kernel RNG', () => new GpuBackend({ mode: 'webasm', randomStrategy: 'emulated' }), {
    tolerance,
    matmulShapes: smallMatmulShapes,
  });
  // the promise-chained queue the webgpu mode uses, exercised here with worker threads
  describeBackendConformance('GpuBackend webasm with threads', () => new GpuBackend({ mode: 'webasm', threads: true, poolSize: 2 }), {
    tolerance,
    matmulShapes: smallMatmulShapes,
  });
  describeAsyncChecks('GpuBackend webasm with threads', () => new GpuBackend({ mode: 'webasm', threads: true, poolSize: 2 }));
} else {
  skipped('webasm');
}

if (works('cpu')) {
  describeBackendConformance('GpuBackend cpu', () => new GpuBackend({ mode: 'cpu' }), { tolerance, matmulShapes: smallMatmulShapes });
} else {
  skipped('cpu');
}

// The device-resident code paths (handles passed between kernels, freed on reassignment, read
// back on request) with webgpu's and headlessgl's calling contracts, on a webasm stand-in device.
// Playing webgpu, every kernel call and readback is a promise and readSync throws: the shared
// suite runs there through its awaited reads, so the asynchronous path is checked without a GPU.
describeBackendConformance('GpuBackend on a stand-in webgpu device', () => new GpuBackendWithHarness({}, { mode: 'webgpu', gpu: new FakeDevice('webgpu') }), {
  tolerance,
  matmulShapes: smallMatmulShapes,
});
describeAsyncChecks('GpuBackend on a stand-in webgpu device', () => new GpuBackendWithHarness({}, { mode: 'webgpu', gpu: new FakeDevice('webgpu') }));
describeBackendConformance('GpuBackend on a stand-in headlessgl device', () => new GpuBackendWithHarness({}, { mode: 'headlessgl', gpu: new FakeDevice('headlessgl') }), {
  tolerance,
  matmulShapes: smallMatmulShapes,
});

/** The mode a sync `auto` should pick: the first working one, webgpu included once probed. */
const firstWorking = AUTO_ORDER.find(works);

describe('GpuBackend mode selection and registry', function () {
  it('auto picks the first working mode, says which, and why it passed the others over', async function () {
    const be = await GpuBackend.create();
    try {
      expect(be.mode).to.equal(firstWorking);
      expect(be.name).to.equal(`gpu.js:${be.mode}`);
      const report = be.modeReport;
      expect(report.at(-1)).to.deep.include({ mode: be.mode, ok: true });
      for (const p of report.slice(0, -1)) expect(p.ok, p.mode).to.equal(false), expect(p.reason, p.mode).to.not.equal('');
      // and it computes: a 3x129 by 129x2 product against the oracle
      const rng = new CounterRng(5);
      const A = new Matrix(3, 129, rng.uniforms(new Float32Array(3 * 129)));
      const B = new Matrix(129, 2, rng.uniforms(new Float32Array(129 * 2)));
      const ref = new ReferenceBackend();
      const out = be.zeros(3, 2);
      const rout = ref.zeros(3, 2);
      be.matmul(be.upload(A), be.upload(B), out);
      ref.matmul(ref.upload(A), ref.upload(B), rout);
      expectClose(await be.read(out), ref.readSync(rout), tolerance, 'auto matmul', Math.sqrt(129));
    } finally {
      be.destroy();
    }
  });

  it('a mode asked for by name that does not work fails with its name and the reason', function () {
    for (const mode of AUTO_ORDER.filter((m) => !works(m))) {
      expect(() => new GpuBackend({ mode }), mode).to.throw(InvalidValueError, new RegExp(`mode "${mode}" does not work here: .+`));
    }
    expect(() => new GpuBackend({ precision: 'float64' })).to.throw(InvalidValueError, /float32/);
    expect(() => new GpuBackend({ mode: 'cpu', threads: true })).to.throw(InvalidValueError, /webasm/);
    expect(() => new GpuBackend({ mode: 'metal' as GpuMode })).to.throw(InvalidValueError, /unknown mode "metal"/);
  });

  it('registers one entry per mode plus "gpu.js" (auto), each honest about availability', function () {
    const names = listBackends();
    for (const name of ['gpu.js:webgpu', 'gpu.js:headlessgl', 'gpu.js:webasm', 'gpu.js:cpu', 'gpu.js']) expect(names).to.include(name);
    expect(names.indexOf('gpu.js:webgpu')).to.be.below(names.indexOf('gpu.js:headlessgl'));
    expect(names.indexOf('gpu.js:webasm')).to.be.below(names.indexOf('gpu.js:cpu'));
    for (const mode of AUTO_ORDER) {
      if (works(mode)) {
        const be = createBackend(`gpu.js:${mode}`);
        expect(be.name).to.equal(`gpu.js:${mode}`);
        be.destroy();
      } else {
        expect(() => createBackend(`gpu.js:${mode}`), mode).to.throw(/not available/);
      }
    }
    const auto = createBackend('gpu.js');
    expect(auto.name).to.equal(`gpu.js:${firstWorking}`);
    auto.destroy();
  });
});

describe('GpuBackend specifics', function () {
  const host: GpuMode = works('webasm') ? 'webasm' : 'cpu';

  for (const mode of ['webgpu', 'headlessgl'] as const) {
    it(`on a stand-in ${mode} device: every result freed exactly once, none touched after, all freed by dispose and destroy`, async function () {
      const device = new FakeDevice(mode);
      const be = new GpuBackendWithHarness({}, { mode, gpu: device });
      expect(be.name).to.equal(`gpu.js:${mode}`);
      const rng = new CounterRng(8);
      const x = be.upload(new Matrix(6, 9, rng.uniforms(new Float32Array(54))));
      const w = be.upload(new Matrix(9, 4, rng.uniforms(new Float32Array(36))));
      const b = be.zeros(1, 4);
      const h = be.zeros(6, 4);
      const state = rngState(2);
      for (let step = 0; step < 3; step++) {
        be.linear(x, w, b, h, { activation: 'sigmoid' });
        be.sampleBernoulli(h, state, h);
        be.sampleCategorical(be.zeros(6, 4, 0.25), 2, state, h);
        be.softmaxGroups(h, 2, h);
        be.matmul(x, h, w, { transposeA: true, alpha: 0.1, beta: 1 });
        be.sumColumns(h, b, 0.1, 1);
      }
      expect(await be.reduce('sum', h)).to.be.closeTo(6 * 2, 1e-4); // softmax over pairs: each pair sums to 1
      const before = await be.read(w);
      expect(before.data.every(Number.isFinite)).to.equal(true);
      expect(be.randomStrategy.strategy, be.randomStrategy.reason).to.equal('emulated');
      be.dispose(x);
      be.dispose(w);
      await be.flush();
      expect(device.live).to.be.above(0);
      be.destroy();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(device.misuse).to.deep.equal([]);
      expect(device.live).to.equal(0);
    });
  }

  it('compiles each kernel once: a repeated training step compiles nothing new', function () {
    const be = new GpuBackend({ mode: host });
    try {
      const rng = new CounterRng(3);
      const data = be.upload(new Matrix(20, 13, rng.uniforms(new Float32Array(20 * 13))));
      const w = be.upload(new Matrix(13, 7, rng.uniforms(new Float32Array(13 * 7))));
      const b = be.zeros(1, 7);
      const h = be.zeros(5, 7);
      const hs = be.zeros(5, 7);
      const v = be.zeros(5, 13);
      const grad = be.zeros(13, 7);
      const velocity = be.zeros(13, 7);
      const state = rngState(1);
      const step = (batch: number): void => {
        be.gatherRows(data, new Uint32Array([batch, batch + 1, batch + 2, batch + 3, batch + 4]), v);
        be.linear(v, w, b, h, { activation: 'sigmoid' });
        be.sampleBernoulli(h, state, hs);
        be.matmul(v, hs, grad, { transposeA: true });
        be.matmul(v, h, grad, { transposeA: true, alpha: -1, beta: 1 });
        be.axpby(0.9, velocity, 0.05, grad, velocity);
        be.binary('add', w, velocity, w);
        be.sumColumns(hs, b, 0.01, 1);
      };
      step(0);
      const afterFirst = be.compiledKernelCount;
      for (let i = 1; i < 4; i++) step(i * 3);
      expect(be.compiledKernelCount).to.equal(afterFirst);
      expect(afterFirst).to.be.at.least(7);
      expect(be.fallbacks).to.deep.equal([]);
      expect(be.readSync(w).data.every(Number.isFinite)).to.equal(true);
    } finally {
      be.destroy();
    }
  });

  it('the emulated hash matches rng.ts across the 16-bit index boundary and for extreme keys', async function () {
    const be = new GpuBackend({ mode: host, randomStrategy: 'emulated' });
    try {
      // 3 x 24000 elements: indices run past 65536, so both index halves are exercised
      const out = be.zeros(3, 24000);
      for (const seed of [0, 1, 0xffffffff]) {
        const state = rngState(seed, 0xffffffff, 2 ** 40);
        be.uniform(state, out);
        expect(state.counter).to.equal(2 ** 40 + 1);
        const got = (await be.read(out)).data;
        const ref = new ReferenceBackend();
        const rout = ref.zeros(3, 24000);
        ref.uniform(rngState(seed, 0xffffffff, 2 ** 40), rout);
        const want = ref.readSync(rout).data;
        let bad = 0;
        for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) bad++;
        expect(bad, `seed ${seed}`).to.equal(0);
      }
      expect(be.randomStrategy.strategy).to.equal('emulated');
    } finally {
      be.destroy();
    }
  });

  it('rejects foreign, disposed and out-of-range inputs with named errors', function () {
    const be = new GpuBackend({ mode: host });
    const other = new GpuBackend({ mode: host });
    try {
      const a = be.zeros(3, 4);
      expect(() => be.copy(other.zeros(3, 4), a)).to.throw(InvalidValueError, /another backend instance of the same name/);
      expect(() => be.gatherRows(a, new Uint32Array([0, 3]), be.zeros(2, 4))).to.throw(ShapeError, /row 3/);
      expect(() => be.fill(a, NaN)).to.throw(InvalidValueError, /finite/);
      expect(() => be.matmul(a, be.zeros(4, 2), be.zeros(3, 2), { alpha: Infinity })).to.throw(InvalidValueError, /alpha/);
      expect(() => be.unary('cube' as 'abs', a, a)).to.throw(InvalidValueError, /unknown op "cube"/);
      be.dispose(a);
      expect(() => be.readSync(a)).to.throw(InvalidValueError, /disposed/);
      be.destroy();
      expect(() => be.zeros(1, 1)).to.throw(InvalidValueError, /destroyed/);
    } finally {
      be.destroy();
      other.destroy();
    }
  });

  it('uniforms are exact float32 copies of rng.ts in the default (host-uniform) strategy too', function () {
    const be: Backend = new GpuBackend({ mode: host });
    try {
      const out = be.zeros(2, 5);
      be.uniform(rngState(42, 7, 3), out);
      const got = be.readSync(out).data;
      const key = nextKey(rngState(42, 7, 3));
      for (let i = 0; i < 10; i++) expect(got[i]).to.equal(uniformAt(key, i));
    } finally {
      be.destroy();
    }
  });
});
