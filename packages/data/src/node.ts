/**
 * @boltzmann/data for Node: everything in index.ts plus the readers and writers of files
 * (IDX, CSV, ratings, PNG, the bundled digits, Fashion-MNIST). The package's "browser"
 * condition gives index.ts alone.
 */
export * from './index.js';
export * from './source-bytes.js';
export * from './idx.js';
export * from './idx-writer.js';
export * from './idx-datasets.js';
export * from './mnist-files.js';
export * from './digits.js';
export * from './csv.js';
export * from './png.js';
export * from './ratings.js';
