/**
 * @boltzmann/core for Node: everything in index.ts (which runs anywhere, browsers included)
 * plus model files on disk. The package's "browser" condition gives index.ts alone; there,
 * `encodeModel` / `decodeModel` turn a model into the same bytes and back.
 */
export * from './index.js';
export { saveModel, loadModel, loadRBM } from './serialization/model-file.js';
export { isRawRBMDescription, loadRawRBM, saveRawRBM, RAW_RBM_FORMAT, RAW_RBM_VERSION, type RawArray, type RawRBMDescription } from './serialization/raw-arrays.js';
