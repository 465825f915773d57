#!/usr/bin/env node
/**
 * Builds the workspace packages that have a tsconfig.build.json into their dist/ (ES modules,
 * .d.ts, source maps with the sources inlined), each after the workspace packages it depends
 * on, and copies the repository's LICENSE beside each package.json. A package whose sources,
 * package.json, build config and dependencies are unchanged since its last build is skipped.
 *
 *   node scripts/build.mjs                 every buildable package
 *   node scripts/build.mjs --package DIR   the package in DIR and the workspace packages it needs
 *   --force                                rebuild even when up to date
 *
 * Run by the root `prepare` (so `npm install` leaves every dist/ built) and by each package's
 * `prepack` (so `npm pack` / `lerna publish` always ship a fresh build).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { dependencyOrder, ROOT, workspacePackages } from './workspaces.mjs';

const args = process.argv.slice(2);
const force = args.includes('--force');
const only = args.includes('--package') ? path.resolve(args[args.indexOf('--package') + 1] ?? '.') : undefined;

const tsc = path.join(path.dirname(createRequire(path.join(ROOT, 'package.json')).resolve('typescript/package.json')), 'bin', 'tsc');
const stampDir = path.join(ROOT, 'node_modules', '.cache', 'boltzmann-build');

const buildable = workspacePackages().filter((p) => existsSync(path.join(p.dir, 'tsconfig.build.json')));
const byName = new Map(buildable.map((p) => [p.name, p]));
let selected = dependencyOrder(buildable);
if (only !== undefined) {
  const target = buildable.find((p) => p.dir === only);
  if (!target) fail(`${only} is not a workspace package with a tsconfig.build.json`);
  const needed = new Set();
  const want = (p) => {
    if (needed.has(p.name)) return;
    needed.add(p.name);
    for (const d of p.internalDeps) if (byName.has(d)) want(byName.get(d));
  };
  want(target);
  selected = selected.filter((p) => needed.has(p.name));
}

function fail(message) {
  console.error(`scripts/build.mjs: ${message}`);
  process.exit(1);
}

/** Every file under `dir`, sorted, as paths relative to `dir`. */
function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** A hash of what the build of `p` reads: its sources, manifests, configs and its dependencies' hashes. */
const hashes = new Map();
function inputHash(p) {
  const hash = createHash('sha256');
  for (const f of ['package.json', 'tsconfig.build.json', '../../tsconfig.build.json', '../../tsconfig.json', '../../LICENSE']) {
    const file = path.join(p.dir, f);
    hash.update(f).update(existsSync(file) ? readFileSync(file) : '');
  }
  for (const f of filesUnder(path.join(p.dir, 'src'))) hash.update(f).update(readFileSync(path.join(p.dir, 'src', f)));
  for (const d of p.internalDeps) if (hashes.has(d)) hash.update(d).update(hashes.get(d));
  return hash.digest('hex');
}

for (const p of selected) {
  const hash = inputHash(p);
  hashes.set(p.name, hash);
  const stamp = path.join(stampDir, `${p.name.replace('/', '+')}.sha256`);
  const dist = path.join(p.dir, 'dist');
  const rel = path.relative(ROOT, p.dir);
  const license = path.join(ROOT, 'LICENSE');
  if (existsSync(license)) copyFileSync(license, path.join(p.dir, 'LICENSE'));
  if (!force && existsSync(dist) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) continue;
  rmSync(dist, { recursive: true, force: true });
  rmSync(stamp, { force: true });
  const started = Date.now();
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(p.dir, 'tsconfig.build.json')], { cwd: p.dir, stdio: 'inherit' });
  if (r.status !== 0) fail(`tsc failed for ${rel} (exit ${r.status})`);
  mkdirSync(stampDir, { recursive: true });
  writeFileSync(stamp, hash);
  console.log(`built ${rel}/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
