/**
 * Node's WebGPU: Dawn's binding from the `webgpu` package, registered with webgpu-globals.ts.
 * Imported by the Node entry only, so a browser bundle never reaches node:module.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { provideDawnLoader, type DawnBinding } from './webgpu-globals.js';

provideDawnLoader(() => {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('webgpu/package.json'));
  return require(join(root, 'dist', `${process.platform}-${process.arch}.dawn.node`)) as DawnBinding;
});
