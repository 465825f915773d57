#!/usr/bin/env node
/**
 * Puts the native addon for this platform into prebuilds/<platform>-<arch>/boltzmann_gemm.node,
 * where the CPU backend finds it when no addon was compiled on the user's machine (the
 * prebuildify / node-gyp-build layout). Run by the package's `prepack`, so every tarball of
 * @boltzmann/backend-cpu carries the binary of the machine that packed it; binaries that CI
 * built on other platforms can be dropped into prebuilds/ beside it before packing.
 *
 * It compiles with native/build.mjs (which checks the processor at load time and picks AVX-512,
 * AVX2 or generic kernels, so one x64 binary serves every x64 processor; libstdc++ is linked
 * statically so the binary needs only glibc) and fails when that build fails: a package
 * without its binary would silently be 3-5x slower for everyone who installs it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const built = path.join(here, 'build', 'boltzmann_gemm.node');
const platformDir = path.join(here, '..', 'prebuilds', `${process.platform}-${process.arch}`);

const build = spawnSync(process.execPath, [path.join(here, 'build.mjs'), '--quiet'], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
process.stderr.write(build.stderr ?? '');
if (build.status !== 0 || !existsSync(built) || /WARNING: not built/.test(build.stderr ?? '')) {
  console.error(`native/prebuild.mjs: the native addon did not build for ${process.platform}-${process.arch}, so the package cannot carry it; fix the build (see the warning above) before packing`);
  process.exit(1);
}
mkdirSync(platformDir, { recursive: true });
const target = path.join(platformDir, 'boltzmann_gemm.node');
copyFileSync(built, `${target}.tmp`);
renameSync(`${target}.tmp`, target);
const info = path.join(here, 'build', 'BUILD_INFO');
if (existsSync(info)) copyFileSync(info, path.join(platformDir, 'BUILD_INFO'));
console.log(`native/prebuild.mjs: ${path.relative(process.cwd(), target)} (${existsSync(info) ? readFileSync(info, 'utf8').trim().split('\n').pop() : 'built'})`);
