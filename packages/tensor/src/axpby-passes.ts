import type { AxpbyPass, Backend } from './backend.js';

/**
 * Runs `passes` (each `out = alpha * x + beta * y`, in order) on `backend`: through its fused
 * `axpbyPasses` where it has one, else one `axpby` call per pass. The results are the same
 * either way; the fused form only reads memory fewer times.
 */
export function runAxpbyPasses(backend: Backend, passes: readonly AxpbyPass[]): void {
  if (backend.axpbyPasses !== undefined) {
    backend.axpbyPasses(passes);
    return;
  }
  for (const p of passes) backend.axpby(p.alpha, p.x, p.beta, p.y, p.out);
}
