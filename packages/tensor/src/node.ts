/**
 * @boltzmann/tensor for Node: everything in index.ts (which runs anywhere, browsers included)
 * plus atomic file writes. The package's "browser" condition gives index.ts alone.
 */
export * from './index.js';
export * from './atomic-file.js';
