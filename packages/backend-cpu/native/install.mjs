#!/usr/bin/env node
/**
 * The package's install script (the node-gyp-build convention): nothing to do when the
 * prebuilt addon for this platform (prebuilds/<platform>-<arch>) loads here; otherwise it
 * compiles one with native/build.mjs, which needs a C++ compiler and the Node.js headers and,
 * failing that, warns and leaves the CPU backend on its WebAssembly kernel. It never fails the
 * install. (npm 11 runs dependencies' install scripts only when allowed, e.g.
 * `npm install-scripts approve @boltzmann/backend-cpu`; where a prebuilt binary fits, none is needed.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const prebuilt = path.join(here, '..', 'prebuilds', `${process.platform}-${process.arch}`, 'boltzmann_gemm.node');

/** Whether the prebuilt addon loads in a fresh process and lists its kernels. */
function prebuiltLoads() {
  if (!existsSync(prebuilt)) return false;
  const script = `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(prebuilt)}); if (!(m.exports.kernels?.length > 0)) process.exit(1);`;
  return spawnSync(process.execPath, ['-e', script], { stdio: 'ignore' }).status === 0;
}

if (prebuiltLoads()) {
  console.log(`boltzmann native gemm: the prebuilt addon for ${process.platform}-${process.arch} loads here; nothing to compile`);
} else {
  // build.mjs reports its own failures as warnings and exits 0: the install goes on either way.
  spawnSync(process.execPath, [path.join(here, 'build.mjs'), '--quiet'], { stdio: 'inherit' });
}
