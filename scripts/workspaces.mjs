/**
 * The repository's workspace packages, read from the root package.json "workspaces" (patterns
 * of the form "dir/*" or "dir/name"), with their package.json and their dependencies on each
 * other. Shared by the build and the packaging test, so a new package needs no list edited.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Every workspace package: `{ dir, name, manifest, internalDeps }`, where internalDeps are the
 * names of the other workspace packages it depends on (dependencies, peer and dev).
 */
export function workspacePackages() {
  const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const dirs = [];
  for (const pattern of root.workspaces ?? []) {
    if (pattern.endsWith('/*')) {
      const parent = path.join(ROOT, pattern.slice(0, -2));
      for (const entry of readdirSync(parent, { withFileTypes: true })) if (entry.isDirectory()) dirs.push(path.join(parent, entry.name));
    } else if (!pattern.includes('*')) {
      dirs.push(path.join(ROOT, pattern));
    } else {
      throw new Error(`scripts/workspaces.mjs: unsupported workspace pattern "${pattern}" in package.json (use "dir/*" or a plain path)`);
    }
  }
  const packages = dirs
    .filter((dir) => existsSync(path.join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) }));
  const names = new Set(packages.map((p) => p.manifest.name));
  return packages.map(({ dir, manifest }) => {
    const all = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.devDependencies };
    return { dir, name: manifest.name, manifest, internalDeps: Object.keys(all).filter((d) => names.has(d) && d !== manifest.name) };
  });
}

/** `packages` ordered so that each comes after the workspace packages it depends on. */
export function dependencyOrder(packages) {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const order = [];
  const state = new Map();
  const visit = (p, trail) => {
    if (state.get(p.name) === 'done') return;
    if (state.get(p.name) === 'visiting') throw new Error(`dependency cycle between workspace packages: ${[...trail, p.name].join(' -> ')}`);
    state.set(p.name, 'visiting');
    for (const dep of p.internalDeps) if (byName.has(dep)) visit(byName.get(dep), [...trail, p.name]);
    state.set(p.name, 'done');
    order.push(p);
  };
  for (const p of packages) visit(p, []);
  return order;
}
