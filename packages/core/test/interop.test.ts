import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CounterRng, FormatError, Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { exactLogLikelihood, exactLogPartition, loadRawRBM, saveRawRBM } from '@boltzmann/core';

const be = new ReferenceBackend();

/** Little-endian bytes of `values` as float32 or float64, after `header` bytes of padding. */
function rawBytes(values: number[], dtype: 'float32' | 'float64', header = 0): Uint8Array {
  const width = dtype === 'float64' ? 8 : 4;
  const bytes = new Uint8Array(header + values.length * width).fill(0x5a, 0, header);
  const view = new DataView(bytes.buffer);
  values.forEach((x, i) => (dtype === 'float64' ? view.setFloat64(header + i * width, x, true) : view.setFloat32(header + i * width, x, true)));
  return bytes;
}

const uniform = (rng: CounterRng, n: number, scale: number) => Array.from(rng.uniforms(new Float64Array(n)), (x) => (2 * x - 1) * scale);
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}
const bits = (s: number, n: number) => Array.from({ length: n }, (_, j) => Math.floor(s / 2 ** j) % 2);

describe('interop: RBMs from raw little-endian arrays and a JSON shape description (INTEROP.md)', function () {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'interop-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a Bernoulli RBM (weights stored hidden x visible in float32, a float64 bias behind a 16-byte header): exact log Z and mean log-likelihood', async function () {
    const nv = 7;
    const nh = 5;
    const rng = new CounterRng(21, 1);
    // The model as another program would hold it: W is hidden x visible (scikit-learn's components_).
    const Whv = Array.from({ length: nh }, () => uniform(rng, nv, 1.2));
    const b = uniform(rng, nv, 1);
    const c = uniform(rng, nh, 1);
    writeFileSync(join(dir, 'components.f32'), rawBytes(Whv.flat(), 'float32'));
    writeFileSync(join(dir, 'visible-bias.bin'), rawBytes(b, 'float64', 16));
    writeFileSync(join(dir, 'hidden-bias.f32'), rawBytes(c, 'float32'));
    const description = {
      format: 'boltzmann.ts/raw-rbm',
      version: 1,
      visible: { type: 'bernoulli', size: nv },
      hidden: { type: 'bernoulli', size: nh },
      arrays: {
        'visible-hidden.weights': { file: 'components.f32', dtype: 'float32', shape: [nh, nv], transpose: true },
        'visible.bias': { file: 'visible-bias.bin', dtype: 'float64', shape: [nv], offset: 16 },
        'hidden.bias': { file: join(dir, 'hidden-bias.f32'), dtype: 'float32', shape: [1, nh] },
      },
    };
    writeFileSync(join(dir, 'bernoulli.json'), JSON.stringify(description));

    // Independent float64 reference: the stored (float32-rounded) values, every joint state enumerated.
    const W = (i: number, j: number) => Math.fround(Whv[j]![i]!);
    const energy = (v: number[], h: number[]) => {
      let e = 0;
      v.forEach((vi, i) => (e -= b[i]! * vi));
      h.forEach((hj, j) => (e -= Math.fround(c[j]!) * hj));
      v.forEach((vi, i) => h.forEach((hj, j) => (e -= vi * W(i, j) * hj)));
      return e;
    };
    const joint: number[] = [];
    for (let s = 0; s < 2 ** nv; s++) for (let t = 0; t < 2 ** nh; t++) joint.push(-energy(bits(s, nv), bits(t, nh)));
    const logZ = logSumExp(joint);
    const data = Array.from({ length: 9 }, (_, r) => bits((r * 37 + 11) % 2 ** nv, nv));
    const meanLL = data.reduce((s, v) => s + logSumExp(Array.from({ length: 2 ** nh }, (_, t) => -energy(v, bits(t, nh)))) - logZ, 0) / data.length;

    const rbm = loadRawRBM(join(dir, 'bernoulli.json'), be);
    expect(await exactLogPartition(rbm)).to.be.closeTo(logZ, 1e-10);
    const dataMatrix = new Matrix(data.length, nv, Float64Array.from(data.flat()));
    expect(await exactLogLikelihood(rbm, dataMatrix)).to.be.closeTo(meanLL, 1e-10);
    // the same files on the float32 CPU backend, scored on a float64 backend, agree to float32 rounding of the float64 bias
    const cpu = loadRawRBM(join(dir, 'bernoulli.json'), new CpuBackend({ precision: 'float32' }));
    expect(await exactLogPartition(cpu, { backend: be })).to.be.closeTo(logZ, 1e-5);
  });

  it('a Gaussian (learned variance) - Bernoulli RBM: log Z with the Gaussian integrals in closed form, log-likelihood of real data', async function () {
    const nv = 2;
    const nh = 4;
    const rng = new CounterRng(22, 1);
    const W = Array.from({ length: nv }, () => uniform(rng, nh, 0.8));
    const b = uniform(rng, nv, 1);
    const logSigma = uniform(rng, nv, 0.5);
    const c = uniform(rng, nh, 1);
    for (const [name, values] of [['W', W.flat()], ['b', b], ['s', logSigma], ['c', c]] as const) writeFileSync(join(dir, `${name}.f64`), rawBytes(values, 'float64'));
    const arrays = {
      'visible-hidden.weights': { file: 'W.f64', dtype: 'float64', shape: [nv, nh] },
      'visible.bias': { file: 'b.f64', dtype: 'float64', shape: [nv] },
      'visible.logSigma': { file: 's.f64', dtype: 'float64', shape: [nv] },
      'hidden.bias': { file: 'c.f64', dtype: 'float64', shape: [nh] },
    };
    writeFileSync(join(dir, 'gauss.json'), JSON.stringify({ format: 'boltzmann.ts/raw-rbm', version: 1, visible: { type: 'gaussian', size: nv, variance: 'learned' }, hidden: { type: 'bernoulli', size: nh }, arrays }));

    // E(v, h) = sum (v - b)^2 / 2s^2 - c.h - sum (v_i / s_i) W_ij h_j; for each h the integral over v is Gaussian:
    // log integral = c.h + sum_i [b_i f_i / s_i + f_i^2 / 2 + log(s_i sqrt(2 pi))], f = W h.
    const s = logSigma.map(Math.exp);
    const terms = Array.from({ length: 2 ** nh }, (_, t) => {
      const h = bits(t, nh);
      let x = h.reduce((acc, hj, j) => acc + c[j]! * hj, 0);
      for (let i = 0; i < nv; i++) {
        const f = h.reduce((acc, hj, j) => acc + W[i]![j]! * hj, 0);
        x += (b[i]! * f) / s[i]! + (f * f) / 2 + Math.log(s[i]! * Math.sqrt(2 * Math.PI));
      }
      return x;
    });
    const logZ = logSumExp(terms);
    const data = [[0.3, -1.2], [2, 0.5], [-1, -1], [0, 3]];
    const freeEnergy = (v: number[]) => {
      let f = v.reduce((acc, vi, i) => acc + (vi - b[i]!) ** 2 / (2 * s[i]! ** 2), 0);
      for (let j = 0; j < nh; j++) f -= softplus(c[j]! + v.reduce((acc, vi, i) => acc + (vi / s[i]!) * W[i]![j]!, 0));
      return f;
    };
    const meanLL = data.reduce((acc, v) => acc - freeEnergy(v) - logZ, 0) / data.length;

    const rbm = loadRawRBM(join(dir, 'gauss.json'), be);
    expect(rbm.visible.spec()).to.deep.equal({ type: 'gaussian', name: 'visible', size: 2, variance: 'learned' });
    expect(await exactLogPartition(rbm)).to.be.closeTo(logZ, 1e-10);
    expect(await exactLogLikelihood(rbm, new Matrix(4, 2, Float64Array.from(data.flat())))).to.be.closeTo(meanLL, 1e-10);
  });

  it('saveRawRBM writes what loadRawRBM reads (float64 bit for bit; float32 rounded once)', async function () {
    const rbm = loadRawRBM(join(dir, 'gauss.json'), be);
    await saveRawRBM(join(dir, 'out64.json'), rbm, { dtype: 'float64' });
    await saveRawRBM(join(dir, 'out32.json'), rbm);
    const doc = JSON.parse(readFileSync(join(dir, 'out32.json'), 'utf8'));
    expect(doc.arrays['visible-hidden.weights']).to.deep.equal({ file: 'out32.visible-hidden.weights.bin', dtype: 'float32', shape: [2, 4] });
    expect(doc.visible).to.deep.equal({ type: 'gaussian', size: 2, variance: 'learned' });
    expect(readFileSync(join(dir, 'out64.visible.logSigma.bin'))).to.deep.equal(readFileSync(join(dir, 's.f64')));
    const want = await rbm.getParams();
    const [p64, p32] = await Promise.all(['out64.json', 'out32.json'].map((f) => loadRawRBM(join(dir, f), be).getParams()));
    for (const name of Object.keys(want)) {
      expect(Array.from(p64![name]!.data), name).to.deep.equal(Array.from(want[name]!.data));
      expect(Array.from(p32![name]!.data), name).to.deep.equal(Array.from(want[name]!.data, Math.fround));
    }
  });

  it('bad descriptions and files give a FormatError naming the file, the array and the problem', function () {
    const base = JSON.parse(readFileSync(join(dir, 'gauss.json'), 'utf8'));
    const expectBad = (mutate: (d: typeof base) => void, pattern: RegExp, write?: () => void) => {
      const d = structuredClone(base);
      mutate(d);
      writeFileSync(join(dir, 'bad.json'), JSON.stringify(d));
      write?.();
      expect(() => loadRawRBM(join(dir, 'bad.json'), be)).to.throw(FormatError, pattern);
    };
    expect(() => loadRawRBM(join(dir, 'missing.json'), be)).to.throw(FormatError, /raw RBM description ".*missing.json" does not exist/);
    expectBad((d) => delete d.arrays['visible.logSigma'], /lacks the array "visible.logSigma" \(1x2\); its parameters are visible.bias, visible.logSigma, hidden.bias, visible-hidden.weights/);
    expectBad((d) => (d.arrays['visible.sigma'] = d.arrays['visible.bias']), /has an array "visible.sigma" that the model lacks/);
    expectBad((d) => (d.arrays['visible-hidden.weights'].shape = [4, 2]), /array "visible-hidden.weights" of .* has shape \[4,2\], but the model needs 2x4/);
    expectBad((d) => (d.arrays['hidden.bias'].dtype = 'float32'), /array "hidden.bias" .*: file ".*c.f64" holds 32 bytes; offset 0 \+ 4 float32 values need 16/);
    expectBad((d) => (d.arrays['hidden.bias'].dtype = 'int8'), /has dtype "int8"; expected "float32" or "float64" \(little-endian\)/);
    expectBad((d) => (d.visible.type = 'gausian'), /describes layers that cannot be built: unknown unit type "gausian"/);
    expectBad((d) => (d.version = 2), /has version 2; this version of boltzmann.ts reads version 1/);
    expectBad(
      (d) => (d.arrays['hidden.bias'].file = 'nan.f64'),
      /array "hidden.bias" .*: file ".*nan.f64" holds NaN at row 0, col 2/,
      () => writeFileSync(join(dir, 'nan.f64'), rawBytes([0, 1, NaN, 2], 'float64')),
    );
  });
});
