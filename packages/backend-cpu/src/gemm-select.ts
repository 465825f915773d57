/**
 * Picks the fastest matrix-product kernel that runs on this machine for a precision.
 * Candidates are tried in order, fastest first; the TypeScript one always works and ends the list.
 */
import { InvalidValueError, type FloatArray, type Precision } from '@boltzmann/tensor';
import type { Gemm } from './gemm.js';
import { bfloat16Hardware, nativeBf16Gemm, nativeGemm, nativeGemmUnavailableReason } from './gemm-native.js';
import { TsGemm } from './gemm-ts.js';
import { wasmGemm, wasmGemmUnavailableReason } from './gemm-wasm.js';

/** One way to get a Gemm; `create` returns undefined where it cannot run (no build, no SIMD...). */
export interface GemmCandidate {
  readonly name: string;
  create(): Gemm | undefined;
  /** Why `create` returns undefined here ('' when it does not); `boltzmann info` prints it. */
  unavailableReason?(): string;
}

/** Fastest first. A native or WebAssembly kernel is added here with one line. */
export const gemmCandidates: readonly GemmCandidate[] = [
  { name: 'native', create: () => nativeGemm(), unavailableReason: nativeGemmUnavailableReason },
  { name: 'wasm-simd', create: () => wasmGemm(), unavailableReason: wasmGemmUnavailableReason },
  { name: 'ts-blocked', create: () => new TsGemm() },
];

/** An empty array of the precision, to ask a kernel whether it handles that element type. */
export function probeArray(precision: Precision): FloatArray {
  return precision === 'float64' ? new Float64Array(0) : new Float32Array(0);
}

/**
 * A new instance of the first candidate that is available and handles `precision`. For
 * "bfloat16-mixed", the fastest mixed-precision kernel on bfloat16 instructions, or an error
 * saying why there is none (the portable emulation is never picked: it is for checking, not speed).
 */
export function selectGemm(precision: Precision): Gemm {
  if (precision === 'bfloat16-mixed') {
    const hardware = bfloat16Hardware();
    if ('kernel' in hardware) return nativeBf16Gemm({ kernel: hardware.kernel })!;
    throw new InvalidValueError(
      `precision "bfloat16-mixed" is not available here: ${hardware.why}. Use "best-available" to fall back to float32, or pass gemm: nativeBf16Gemm({ kernel: "bf16-emulated-4x16" }) for the (slow) portable emulation`,
    );
  }
  const probe = probeArray(precision);
  for (const candidate of gemmCandidates) {
    const gemm = candidate.create();
    if (gemm !== undefined && gemm.supports(probe)) return gemm;
  }
  throw new InvalidValueError(`no matrix-product kernel handles ${precision}; tried ${gemmCandidates.map((c) => c.name).join(', ')}`);
}
