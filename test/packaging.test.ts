/**
 * The packages as a user gets them, outside the repository: every workspace package that
 * ships is packed (its prepack builds dist/ and, for backend-cpu, the prebuilt native addon),
 * the tarballs are installed into an empty folder with npm from its cache only, and there:
 * a plain JavaScript program trains and saves an RBM, `npx boltzmann train` / `info` run, the
 * plugin template (packed the same way) is loaded by a spec and trains, and esbuild bundles
 * tensor, core, data and backend-gpu for the browser. Separately, backend-cpu installed on its
 * own, with no C++ compiler on PATH, runs the native kernel from its prebuilt binary.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { expect } from 'chai';
import { ROOT, workspacePackages } from '../scripts/workspaces.mjs';
import { modelDocument } from '../packages/core/test/model-files.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; the environment drops npm's per-script variables (we run inside `npm test`). */
function run(command: string, args: readonly string[], options: SpawnSyncOptions & { env?: NodeJS.ProcessEnv } = {}): Run {
  const env = Object.fromEntries(Object.entries(options.env ?? process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'INIT_CWD' && k !== 'NODE_OPTIONS'));
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 240_000, ...options, env });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function expectSuccess(r: Run, what: string): void {
  if (r.code !== 0) expect.fail(`${what} exited ${r.code}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`);
}

const npm = (cwd: string, args: readonly string[], env?: NodeJS.ProcessEnv) => run('npm', ['--no-audit', '--no-fund', '--no-update-notifier', ...args], { cwd, ...(env ? { env } : {}) });

/** A bin folder holding only node, npm, npx and sh: no C++ compiler is reachable through it. */
function pathWithoutCompiler(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const npmCli = realpathSync(run('sh', ['-c', 'command -v npm']).stdout.trim());
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync(npmCli, join(bin, 'npm'));
  symlinkSync(join(dirname(npmCli), 'npx-cli.js'), join(bin, 'npx'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  return bin;
}

interface LockEntry {
  version?: string;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [field: string]: unknown;
}

/**
 * A package-lock.json for a project that depends on the given tarballs: the tarballs as file
 * dependencies, and every registry package they need copied from the repository's own lock
 * (same versions, same integrity). npm then installs from its cache by integrity alone, with
 * no registry request: `npm install` of the repository fetched the tarballs but no package
 * metadata, so resolving version ranges afresh would need the network.
 */
function lockFromRepository(tarballs: ReadonlyMap<string, string>, from: string): object {
  const repoLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const manifests = new Map(workspacePackages().map((p) => [p.name, p.manifest as LockEntry]));
  const packages: Record<string, LockEntry> = {};
  const rel = (file: string) => `file:${relative(from, file)}`;
  packages[''] = { name: 'packaging-check', dependencies: Object.fromEntries([...tarballs].map(([name, file]) => [name, rel(file)])) };
  const pending: [string, string][] = [];
  const needs = (at: string, e: LockEntry) => {
    for (const dep of Object.keys({ ...e.dependencies, ...e.optionalDependencies, ...e.peerDependencies })) if (!tarballs.has(dep)) pending.push([at, dep]);
  };
  for (const [name, file] of tarballs) {
    const m = manifests.get(name)!;
    const entry: LockEntry = { version: m.version, resolved: rel(file) };
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bin'] as const) if (m[field]) (entry as Record<string, unknown>)[field] = m[field];
    const scripts = (m['scripts'] as Record<string, string> | undefined) ?? {};
    if (['preinstall', 'install', 'postinstall'].some((s) => s in scripts)) entry['hasInstallScript'] = true;
    packages[`node_modules/${name}`] = entry;
    needs(`node_modules/${name}`, entry);
  }
  while (pending.length > 0) {
    const [at, dep] = pending.pop()!;
    // Node's lookup: the nearest node_modules folder up from the dependent that holds it.
    let key: string | undefined;
    for (let dir = at; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${dep}`;
      if (repoLock.packages[candidate] && !repoLock.packages[candidate]!['link']) {
        key = candidate;
        break;
      }
      if (dir === '') break;
    }
    if (key === undefined) {
      throw new Error(`${dep} (needed by ${at}) is not in the repository's package-lock.json`);
    }
    if (packages[key]) continue;
    // The repository's dev / devOptional flags describe its own tree, not this one.
    const { dev: _dev, devOptional: _devOptional, ...entry } = repoLock.packages[key]!;
    packages[key] = entry;
    needs(key, packages[key]!);
  }
  return { name: 'packaging-check', lockfileVersion: 3, requires: true, packages };
}

const APP = `// Plain JavaScript against the installed packages: no tsx, no tsconfig.
import { CpuBackend, describeCpuKernels } from '@boltzmann/backend-cpu';
import { RBM, Trainer, loadRBM, saveModel } from '@boltzmann/core';
import { barsAndStripes } from '@boltzmann/data';

const backend = new CpuBackend({ precision: 'float32' });
const data = barsAndStripes(4);
const rbm = RBM.create(backend, { visible: 16, hidden: 12, seed: 1 });
const trainer = new Trainer(rbm, { seed: 1, batchSize: 10, learningRate: 0.1 });
const reports = await trainer.fit(data, { epochs: 40 });
await saveModel('rbm.json', rbm, trainer);
const { model } = loadRBM('rbm.json', backend);
console.log(JSON.stringify({
  first: reports[0].reconstructionError,
  last: reports.at(-1).reconstructionError,
  gemm: backend.gemm.name,
  origin: describeCpuKernels().native.origin,
  loadedHidden: model.layers[1].size,
}));
`;

const SPEC = {
  model: { layers: [{ type: 'bernoulli', name: 'visible', size: 16 }, { type: 'bernoulli', name: 'hidden', size: 8 }] },
  data: { source: { type: 'bars-and-stripes', size: 4 } },
  training: { epochs: 3, batchSize: 10 },
  output: { dir: 'out-spec', samples: { count: 4, steps: 10 } },
};

const PLUGIN_SPEC = {
  plugins: ['boltzmann-plugin-template'],
  model: { layers: [{ type: 'binomial', name: 'visible', size: 6, trials: 3 }, { type: 'bernoulli', name: 'hidden', size: 4 }] },
  data: { source: { type: 'csv', path: 'counts.csv', header: false } },
  training: { epochs: 4, batchSize: 10, regularizers: [{ type: 'smooth-l1', coefficient: 1e-3 }], metrics: ['reconstructionError', 'hiddenEntropy'] },
  output: { dir: 'out-plugin', samples: { count: 4, steps: 10 } },
};

const PLUGIN_APP = `// The plugin from code: its ContainerModule given to the container, its classes imported.
import { createContainer, resolveRun, validateSpec } from '@boltzmann/container';
import { BinomialLayer, containerModule } from 'boltzmann-plugin-template';

const spec = JSON.parse(process.argv[2]);
delete spec.plugins;
const container = await createContainer({ modules: [containerModule], optionalBackends: false });
const run = await resolveRun(container, validateSpec(spec, container.catalog));
const reports = await run.trainer.fit(run.data.train, { epochs: run.remainingEpochs, monitor: run.monitor });
console.log(JSON.stringify({ visible: run.model.layers[0] instanceof BinomialLayer, epochs: reports.length }));
run.dispose();
`;

const BROWSER_ENTRY = `import { Matrix, ReferenceBackend } from '@boltzmann/tensor';
import { RBM, Trainer, encodeModel, decodeModel } from '@boltzmann/core';
import { barsAndStripes, shuffledBatches } from '@boltzmann/data';
import { GpuBackend } from '@boltzmann/backend-gpu';
export { Matrix, ReferenceBackend, RBM, Trainer, encodeModel, decodeModel, barsAndStripes, shuffledBatches, GpuBackend };
`;

describe('packaging: the packages installed from their tarballs, outside the repository', function () {
  this.timeout(600_000);
  let work: string;
  let app: string;
  const tarballs = new Map<string, string>();

  before(function () {
    work = mkdtempSync(join(tmpdir(), 'boltzmann-packaging-'));
    const packs = join(work, 'tarballs');
    mkdirSync(packs);
    // Every workspace package that ships (not private), plus the plugin template.
    const shipped = workspacePackages().filter((p) => p.manifest.private !== true || p.name === 'boltzmann-plugin-template');
    expectSuccess(run(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT }), 'scripts/build.mjs');
    const packed = npm(ROOT, ['pack', '--json', '--pack-destination', packs, ...shipped.flatMap((p) => ['-w', p.dir])]);
    expectSuccess(packed, 'npm pack');
    const list = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { name: string; filename: string; files: { path: string }[] }[];
    for (const entry of list) tarballs.set(entry.name, join(packs, entry.filename.replace(/^@/, '').replace('/', '-')));
    expect([...tarballs.keys()].sort()).to.deep.equal(shipped.map((p) => p.name).sort());
    for (const entry of list) {
      const files = entry.files.map((f) => f.path);
      // dist, README, LICENSE and the docs the README points to (backend-cpu adds its prebuilt addon and native sources; cli its bin).
      expect(files, entry.name).to.include.members(['package.json', 'README.md', ...(entry.name.startsWith('@boltzmann/') ? ['LICENSE'] : [])]);
      const extra = files.filter((f) => !/^(package\.json|[A-Z]+\.md|LICENSE|dist\/.*|bin\/boltzmann\.mjs|prebuilds\/.*|native\/(src\/.*|build\.mjs|install\.mjs))$/.test(f));
      expect(extra, `${entry.name} ships only what users need`).to.deep.equal([]);
      expect(files.some((f) => /\.test\.|(^|\/)test\//.test(f)), `${entry.name} ships no tests`).to.equal(false);
    }
    const cpuFiles = list.find((e) => e.name === '@boltzmann/backend-cpu')!.files.map((f) => f.path);
    expect(cpuFiles).to.include(`prebuilds/${process.platform}-${process.arch}/boltzmann_gemm.node`);

    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packaging-check', private: true, type: 'module', dependencies: Object.fromEntries([...tarballs].map(([n, f]) => [n, `file:${relative(app, f)}`])) }));
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(lockFromRepository(tarballs, app), null, 2));
    expectSuccess(npm(app, ['install', '--offline']), 'npm install --offline of the tarballs');
  });

  after(function () {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('every package.json export resolves to a shipped file, types first', function () {
    for (const name of tarballs.keys()) {
      const dir = join(app, 'node_modules', name);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; dependencies?: Record<string, string> };
      for (const [subpath, target] of Object.entries(manifest.exports)) {
        if (typeof target === 'string') {
          expect(existsSync(join(dir, target)), `${name} ${subpath}`).to.equal(true);
          continue;
        }
        const conditions = target as Record<string, unknown>;
        expect(Object.keys(conditions)[0], `${name} ${subpath}: "types" comes first`).to.equal('types');
        const files = JSON.stringify(conditions).match(/"\.\/[^"]+"/g)!.map((s) => s.slice(1, -1)).filter((f) => !f.startsWith('./src/'));
        for (const f of files) expect(existsSync(join(dir, f)), `${name} ${subpath} -> ${f}`).to.equal(true);
      }
      for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) if (dep.startsWith('@boltzmann/')) expect(range, `${name} -> ${dep}`).to.match(/^\^\d+\.\d+\.\d+$/);
    }
  });

  it('a plain JavaScript program trains an RBM on the native kernel and saves it', function () {
    writeFileSync(join(app, 'app.mjs'), APP);
    const r = run(process.execPath, ['app.mjs'], { cwd: app });
    expectSuccess(r, 'node app.mjs');
    const out = JSON.parse(r.stdout) as { first: number; last: number; gemm: string; origin: string; loadedHidden: number };
    expect(out.last).to.be.lessThan(out.first * 0.8);
    expect(out.gemm).to.match(/^native-/);
    expect(out.origin).to.equal('prebuilt');
    expect(out.loadedHidden).to.equal(12);
    expect(existsSync(join(app, 'rbm.json'))).to.equal(true);
  });

  it('npx boltzmann train runs a spec; without the native kernel it says so on stderr', function () {
    writeFileSync(join(app, 'spec.json'), JSON.stringify(SPEC));
    const r = run('npx', ['--offline', 'boltzmann', 'train', 'spec.json'], { cwd: app });
    expectSuccess(r, 'npx boltzmann train');
    expect(existsSync(join(app, 'out-spec', 'model.json'))).to.equal(true);
    expect(r.stderr).not.to.match(/not using its native kernel/);
    const fallback = run('npx', ['--offline', 'boltzmann', 'train', 'spec.json', '--out', 'out-wasm', '--quiet'], { cwd: app, env: { ...process.env, BOLTZMANN_NATIVE: '0' } });
    expectSuccess(fallback, 'npx boltzmann train with BOLTZMANN_NATIVE=0');
    expect(fallback.stderr.trim().split('\n').filter((l) => /not using its native kernel/.test(l))).to.have.length(1);
    expect(fallback.stderr).to.match(/disabled by BOLTZMANN_NATIVE=0.*wasm-simd/);
  });

  it('npx boltzmann info names the backends, the prebuilt addon, its kernels, SIMD and threads', function () {
    const r = run('npx', ['--offline', 'boltzmann', 'info'], { cwd: app });
    expectSuccess(r, 'npx boltzmann info');
    expect(r.stdout).to.match(/^ {2}cpu +priority 10 +available$/m);
    expect(r.stdout).to.match(/native addon: prebuilt, .*node_modules\/@boltzmann\/backend-cpu\/prebuilds\//);
    expect(r.stdout).to.match(/matrix product, float32: native-/);
    expect(r.stdout).to.match(/SIMD: (avx512|avx2|none)/);
    expect(r.stdout).to.match(/threads: \d+/);
    expect(r.stdout).to.match(/matrix product, float64: ts-blocked\n {4}not native-\S+: does not handle float64/);
  });

  it('the packed plugin template is loaded by a spec (by package name) and from code, and trains', function () {
    const rows = Array.from({ length: 60 }, (_, r) => Array.from({ length: 6 }, (_, j) => ((r % 2 === 0) === j < 3 ? 3 - ((r + j) % 2) : (r + j) % 2)).join(','));
    writeFileSync(join(app, 'counts.csv'), `${rows.join('\n')}\n`);
    writeFileSync(join(app, 'plugin-spec.json'), JSON.stringify(PLUGIN_SPEC));
    const r = run('npx', ['--offline', 'boltzmann', 'train', 'plugin-spec.json'], { cwd: app });
    expectSuccess(r, 'npx boltzmann train plugin-spec.json');
    const metrics = JSON.parse(readFileSync(join(app, 'out-plugin', 'metrics.json'), 'utf8')) as unknown;
    expect(JSON.stringify(metrics)).to.match(/"hiddenEntropy"/);
    const saved = modelDocument(join(app, 'out-plugin', 'model.json')) as { model: { layers: { type: string }[] } };
    expect(saved.model.layers[0]!.type).to.equal('binomial');

    writeFileSync(join(app, 'plugin-app.mjs'), PLUGIN_APP);
    const code = run(process.execPath, ['plugin-app.mjs', JSON.stringify(PLUGIN_SPEC)], { cwd: app });
    expectSuccess(code, 'node plugin-app.mjs');
    expect(JSON.parse(code.stdout)).to.deep.equal({ visible: true, epochs: 4 });
  });

  it('esbuild bundles tensor, core, data and backend-gpu for the browser: no shims, no node: imports', async function () {
    writeFileSync(join(app, 'browser.mjs'), BROWSER_ENTRY);
    const esbuild = (await import('esbuild')) as typeof import('esbuild');
    const result = await esbuild.build({ entryPoints: [join(app, 'browser.mjs')], absWorkingDir: app, bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
    expect(result.errors).to.deep.equal([]);
    const text = result.outputFiles[0]!.text;
    expect(text.length).to.be.greaterThan(10_000);
    expect(text).not.to.match(/["'`]node:[a-z_/]+["'`]/);
    expect(text).not.to.match(/\brequire\(["'](fs|path|module|zlib|os|url|child_process)["']\)/);
  });

  it('backend-cpu installed on its own, with no C++ compiler on PATH, runs the prebuilt native kernel', function () {
    const alone = join(work, 'cpu-alone');
    mkdirSync(alone);
    const deps = new Map(['@boltzmann/tensor', '@boltzmann/backend-cpu'].map((n) => [n, tarballs.get(n)!]));
    // The install script is allowed to run, so a compile would be attempted if the prebuilt binary did not fit.
    const allowScripts = { [`file:${tarballs.get('@boltzmann/backend-cpu')!}`]: true };
    writeFileSync(join(alone, 'package.json'), JSON.stringify({ name: 'packaging-check', private: true, type: 'module', allowScripts, dependencies: Object.fromEntries([...deps].map(([n, f]) => [n, `file:${relative(alone, f)}`])) }));
    writeFileSync(join(alone, 'package-lock.json'), JSON.stringify(lockFromRepository(deps, alone), null, 2));
    const bin = pathWithoutCompiler(work);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin };
    delete env['CXX'];
    expect(run('sh', ['-c', 'command -v g++ c++ cc gcc clang || true'], { env }).stdout.trim()).to.equal('');
    const installed = npm(alone, ['install', '--offline', '--foreground-scripts'], env);
    expectSuccess(installed, 'npm install of tensor and backend-cpu');
    // The install script ran, found the prebuilt addon and compiled nothing (without it: "WARNING: not built (no C++ compiler ...)").
    expect(installed.stdout + installed.stderr).to.match(/the prebuilt addon for \S+ loads here; nothing to compile/);
    expect(installed.stdout + installed.stderr).not.to.match(/not built|WARNING/);
    const pkg = join(alone, 'node_modules', '@boltzmann', 'backend-cpu');
    expect(existsSync(join(pkg, 'native', 'build'))).to.equal(false);
    expect(readdirSync(join(alone, 'node_modules', '@boltzmann')).sort()).to.deep.equal(['backend-cpu', 'tensor']);
    const check = `import { CpuBackend, describeCpuKernels } from '@boltzmann/backend-cpu';
      const r = describeCpuKernels();
      console.log(JSON.stringify({ gemm: new CpuBackend().gemm.name, origin: r.native.origin, file: r.native.file }));`;
    const r = run(process.execPath, ['--input-type=module', '-e', check], { cwd: alone, env });
    expectSuccess(r, 'the native check');
    const out = JSON.parse(r.stdout) as { gemm: string; origin: string; file: string };
    expect(out.gemm).to.match(/^native-/);
    expect(out.origin).to.equal('prebuilt');
    expect(out.file).to.contain(join('prebuilds', `${process.platform}-${process.arch}`));
  });
});
