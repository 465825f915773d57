/**
 * A typed handle on the global WebAssembly object. The repo's TypeScript libs (es2023, node)
 * do not declare it, so the few parts the WebAssembly kernel uses are declared here.
 */

/** A shared or plain WebAssembly linear memory. */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

/** A compiled module (opaque; it can be posted to worker threads). */
export type WasmModule = object;

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports?: Record<string, Record<string, unknown>>) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  validate(bytes: Uint8Array): boolean;
}

/** The global WebAssembly object, or undefined in an engine without one. */
export const wasmApi: WasmApi | undefined = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
