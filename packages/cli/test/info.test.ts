/** `boltzmann info` against what the CPU backend really picks here, and the fallback notice. */
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { CpuBackend, TsGemm, bfloat16Hardware, gemmCandidates, nativeGemm, nativeGemmUnavailableReason } from '@boltzmann/backend-cpu';
import { runCli, type InfoReport } from '@boltzmann/cli';
import { noteNativeFallback } from '../src/common.js';
import { memoryIO } from './helpers.js';

describe('cli: info', function () {
  let report: InfoReport;
  let text: string;
  before(async function () {
    const json = memoryIO('/');
    expect(await runCli(['info', '--json'], json.io)).to.equal(0);
    report = JSON.parse(json.stdout()) as InfoReport;
    const plain = memoryIO('/');
    expect(await runCli(['info'], plain.io)).to.equal(0);
    text = plain.stdout();
  });

  it('lists the registered backends best first, the cpu one available, and what "auto" takes', function () {
    const cpu = report.backends.find((b) => b.name === 'cpu');
    expect(cpu).to.deep.include({ priority: 10, available: true });
    const priorities = report.backends.map((b) => b.priority);
    expect(priorities).to.deep.equal([...priorities].sort((a, b) => b - a));
    expect(report.auto).to.equal(report.backends.find((b) => b.available)!.name);
    expect(text).to.match(/^ {2}cpu +priority 10 +available$/m);
    expect(text).to.include(`auto -> ${report.auto}`);
  });

  it('names the kernel a new CpuBackend uses for each precision, and why each faster one was passed over', function () {
    const [f32, f64, elementwise] = report.cpu.choices;
    expect(f32).to.deep.include({ role: 'matrix product, float32', chosen: new CpuBackend({ precision: 'float32' }).gemm.name });
    expect(f64).to.deep.include({ role: 'matrix product, float64', chosen: new CpuBackend({ precision: 'float64' }).gemm.name });
    // Every candidate ahead of the float64 pick is listed with a reason.
    const ahead = gemmCandidates.slice(0, gemmCandidates.findIndex((c) => c.name === 'ts-blocked'));
    expect(f64!.passedOver).to.have.length(ahead.length);
    for (const p of f64!.passedOver) expect(p.reason, p.name).to.be.a('string').and.not.equal('');
    expect(elementwise!.role).to.equal('sigmoid and axpby, float32');
    const bf16 = report.cpu.choices[3]!;
    const hardware = bfloat16Hardware();
    expect(bf16).to.deep.include({ role: 'matrix product, bfloat16-mixed', chosen: 'kernel' in hardware ? `native-${hardware.kernel}` : 'none' });
    expect(text).to.include(`matrix product, float32: ${f32!.chosen}`);
  });

  it('reports the native addon as loaded (with its file, kernels, SIMD and threads) or why not', function () {
    const native = report.cpu.native;
    expect(native.loaded).to.equal(nativeGemm() !== undefined);
    if (native.loaded) {
      expect(native.origin).to.be.oneOf(['compiled', 'prebuilt']);
      expect(existsSync(native.file!)).to.equal(true);
      expect(native.gemmKernels.length).to.be.greaterThan(0);
      expect(native.threads).to.be.greaterThan(0);
      expect(report.cpu.simd).to.equal(/avx512|avx2/.exec(report.cpu.choices[0]!.chosen)?.[0] ?? 'none');
      expect(text).to.match(new RegExp(`native addon: ${native.origin}, `));
    } else {
      expect(native.reason).to.equal(nativeGemmUnavailableReason());
      expect(text).to.include(`native addon: not loaded: ${native.reason}`);
    }
  });

  it('the CLI notes on stderr, in one line, a float32 CPU backend without the native product, and nothing otherwise', function () {
    const slow = new CpuBackend({ precision: 'float32', gemm: new TsGemm() });
    const m = memoryIO('/');
    noteNativeFallback(slow, m.io);
    expect(m.stderr()).to.match(/^boltzmann: note: the CPU backend is not using its native kernel \(.+\); it runs ts-blocked, several times slower; "boltzmann info" says more\n$/);
    const quiet = memoryIO('/');
    noteNativeFallback(new CpuBackend({ precision: 'float64' }), quiet.io);
    if (nativeGemm() !== undefined) noteNativeFallback(new CpuBackend({ precision: 'float32' }), quiet.io);
    expect(quiet.stderr()).to.equal('');
    slow.destroy();
  });
});
