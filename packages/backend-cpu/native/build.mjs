#!/usr/bin/env node
/**
 * Builds the native matrix-product addon into native/build/boltzmann_gemm.node with the system
 * C++ compiler (g++ or $CXX) and the Node-API headers that ship with Node. Run by the root
 * package's postinstall, by prebuild.mjs when the package is packed, and by install.mjs where
 * no prebuilt binary fits; safe to run by hand (`node packages/backend-cpu/native/build.mjs`).
 *
 * It never fails the install: without a compiler or headers, or when the build or its smoke
 * test fails, it prints a warning and exits 0, and the CPU backend falls back to WebAssembly or
 * TypeScript. The AVX2, AVX-512 and AVX512-BF16 kernels are compiled whenever the compiler
 * accepts the flags; the addon checks the processor at load time and uses the best kernel it
 * can run.
 *
 * Flags: --force rebuilds even when the addon is newer than its sources; --quiet prints only
 * warnings. BOLTZMANN_SKIP_NATIVE=1 skips the build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const here = path.dirname(self);
const sourceDir = path.join(here, 'src');
const buildDir = path.join(here, 'build');
const target = path.join(buildDir, 'boltzmann_gemm.node');
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');

function say(message) {
  if (!quiet) console.log(`boltzmann native gemm: ${message}`);
}

/** Prints why the addon is not built and exits 0: the install goes on without it. */
function giveUp(reason) {
  console.warn(`boltzmann native gemm: WARNING: not built (${reason}); the CPU backend will use its WebAssembly or TypeScript kernel instead, which is much slower.`);
  process.exit(0);
}

/** The directory holding node_api.h, or undefined. */
function findNodeHeaders() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  return candidates.find((dir) => dir && existsSync(path.join(dir, 'node_api.h')));
}

/** Whether `compiler` accepts `flags` on a tiny file (older compilers may lack -mavx512f). */
function compilerAccepts(compiler, flags) {
  const probe = spawnSync(compiler, [...flags, '-x', 'c++', '-fsyntax-only', '-'], { input: 'int main() { return 0; }\n', encoding: 'utf8' });
  return probe.status === 0;
}

function compile(compiler, flags, source, object) {
  return new Promise((resolve, reject) => {
    const child = spawn(compiler, [...flags, '-c', source, '-o', object], { stdio: ['ignore', 'inherit', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk) => {
      errors += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(source)}: ${errors.trim().split('\n').slice(0, 8).join('\n')}`))));
  });
}

/** Loads the built addon in a fresh process and checks one small product. */
function smokeTest(file) {
  const script = `
    const module = { exports: {} };
    process.dlopen(module, ${JSON.stringify(file)});
    const addon = module.exports;
    const a = new Float32Array([1, 2, 3, 4, 5, 6]), b = new Float32Array([1, 0, 0, 1, 1, 1]), c = new Float32Array(4).fill(NaN);
    for (let kernel = 0; kernel < addon.kernels.length; kernel++) {
      addon.gemm(kernel, 0, 2, 2, 3, a, false, b, false, c, 1, 0);
      if (c.join() !== '4,5,10,11') throw new Error(addon.kernels[kernel] + ' computed ' + c.join());
    }
    for (let kernel = 0; kernel < addon.bf16Kernels.length; kernel++) {
      c.fill(NaN);
      addon.gemmBf16(kernel, 0, 2, 2, 3, a, false, b, false, c, 1, 0);
      if (c.join() !== '4,5,10,11') throw new Error(addon.bf16Kernels[kernel] + ' computed ' + c.join());
    }
    const s = new Float32Array([0, 100, -100]);
    addon.sigmoid(0, s, s, 1, 3, null);
    if (s[0] !== 0.5 || s[1] !== 1 || s[2] > 1e-30) throw new Error('sigmoid computed ' + s.join());
    console.log(addon.kernels.join(', ') + '; bfloat16 ' + addon.bf16Kernels.join(', ') + '; ' + addon.maxThreads + ' threads; element-wise ' + addon.elementwise.join(', '));`;
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
}

function upToDate() {
  if (args.has('--force') || !existsSync(target)) return false;
  const built = statSync(target).mtimeMs;
  return [self, ...readdirSync(sourceDir).map((f) => path.join(sourceDir, f))].every((f) => statSync(f).mtimeMs <= built);
}

async function main() {
  if (process.env.BOLTZMANN_SKIP_NATIVE === '1') giveUp('BOLTZMANN_SKIP_NATIVE=1');
  if (process.platform === 'win32') giveUp('this build script supports Linux and macOS only');
  if (upToDate()) {
    say(`${path.relative(process.cwd(), target)} is up to date`);
    return;
  }
  const compiler = process.env.CXX || 'g++';
  const version = spawnSync(compiler, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) giveUp(`no C++ compiler: "${compiler}" did not run; install g++ (e.g. apt-get install g++) and run npm install again`);
  const headers = findNodeHeaders();
  if (!headers) giveUp('node_api.h not found; install the Node.js headers (e.g. the nodejs-dev / libnode-dev package) or set npm_config_nodedir');

  const base = ['-O3', '-std=c++17', '-fPIC', '-fvisibility=hidden', '-Wall', '-Wextra', `-I${headers}`];
  const units = [
    { source: 'gemm.cpp', flags: [] },
    { source: 'addon.cpp', flags: [] },
    { source: 'kernel_generic.cpp', flags: [] },
    { source: 'elementwise_generic.cpp', flags: [] },
    { source: 'kernel_bf16_emulated.cpp', flags: [] },
  ];
  const x86 = process.arch === 'x64' || process.arch === 'ia32';
  const defines = [];
  if (x86 && compilerAccepts(compiler, ['-mavx2', '-mfma'])) {
    units.push({ source: 'kernel_avx2.cpp', flags: ['-mavx2', '-mfma'] }, { source: 'elementwise_avx2.cpp', flags: ['-mavx2', '-mfma'] });
    defines.push('-DBGEMM_HAVE_AVX2');
  }
  if (x86 && compilerAccepts(compiler, ['-mavx512f', '-mavx2', '-mfma'])) {
    units.push({ source: 'kernel_avx512.cpp', flags: ['-mavx512f', '-mavx2', '-mfma'] }, { source: 'elementwise_avx512.cpp', flags: ['-mavx512f', '-mavx2', '-mfma'] });
    defines.push('-DBGEMM_HAVE_AVX512');
  }
  const bf16Flags = ['-mavx512f', '-mavx512bw', '-mavx512bf16', '-mavx2', '-mfma'];
  if (x86 && compilerAccepts(compiler, bf16Flags)) {
    units.push({ source: 'kernel_avx512bf16.cpp', flags: bf16Flags });
    defines.push('-DBGEMM_HAVE_AVX512BF16');
  }

  mkdirSync(buildDir, { recursive: true });
  const objects = units.map((u) => path.join(buildDir, u.source.replace(/\.cpp$/, '.o')));
  say(`compiling ${units.length} files with ${compiler}`);
  try {
    // The kernel files compile in parallel; they are independent.
    await Promise.all(units.map((u, i) => compile(compiler, [...base, ...defines, ...u.flags], path.join(sourceDir, u.source), objects[i])));
  } catch (error) {
    giveUp(`compilation failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  // Link beside the target and rename, so a process loading the addon never sees half a file.
  const partial = `${target}.${process.pid}.tmp`;
  // libstdc++ linked statically on Linux, so the binary (also shipped prebuilt, see prebuild.mjs) needs only glibc.
  const staticRuntime = process.platform === 'linux' && compilerAccepts(compiler, ['-static-libstdc++', '-static-libgcc']) ? ['-static-libstdc++', '-static-libgcc'] : [];
  const link = spawnSync(compiler, ['-shared', '-pthread', ...staticRuntime, '-o', partial, ...objects], { encoding: 'utf8' });
  if (link.status !== 0) giveUp(`linking failed: ${(link.stderr || '').trim().split('\n').slice(0, 8).join('\n')}`);
  const smoke = smokeTest(partial);
  if (smoke.status !== 0) {
    rmSync(partial, { force: true });
    giveUp(`the built addon failed its smoke test: ${(smoke.stderr || '').trim().split('\n').slice(0, 4).join(' ')}`);
  }
  renameSync(partial, target);
  for (const object of objects) rmSync(object, { force: true });
  writeFileSync(path.join(buildDir, 'BUILD_INFO'), `${version.stdout.split('\n')[0]}\nnode ${process.version} ${process.arch}\n${smoke.stdout.trim()}\n`);
  say(`built ${path.relative(process.cwd(), target)} (kernels ${smoke.stdout.trim()})`);
}

main().catch((error) => giveUp(`unexpected error: ${error instanceof Error ? error.message : String(error)}`));
