import { InvalidValueError, type Backend, type Matrix, type Tensor } from '@boltzmann/tensor';

/**
 * A host copy of `t` read with `backend.readSync`, for the APIs that are synchronous by
 * contract (`RBM.create` copying `initFrom`); training steps and metrics read with `await backend.read`.
 * Backends without synchronous readback (gpu.js webgpu, threaded webasm) refuse readSync; the
 * refusal comes back as an InvalidValueError that names `api`, the backend and its reason, and
 * says what to use instead (`instead`), rather than failing somewhere inside the caller.
 */
export function readSyncFor(backend: Backend, t: Tensor, api: string, instead: string): Matrix {
  try {
    return backend.readSync(t);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const wrapped = new InvalidValueError(`${api} is synchronous and needs backend.readSync, which backend "${backend.name}" refused (${why}); ${instead}`);
    throw Object.assign(wrapped, { cause: error });
  }
}
