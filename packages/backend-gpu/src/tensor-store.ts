/**
 * Where a gpu.js mode keeps tensor data, and the only places data crosses between host and
 * device. cpu and webasm compute in host memory, so a tensor is a flat Float32Array; headlessgl
 * and webgpu keep each kernel's result on the device (pipeline mode: a GL texture or a WebGPU
 * storage buffer) and pass it straight into the next kernel.
 */
import { gpujs, isDeviceHandle, type DeviceHandle, type KernelArgument } from './gpujs.js';

/** What a tensor holds: host elements (row-major) or a device-resident kernel result. */
export type StoredValue = Float32Array | DeviceHandle;

/** The storage side of a mode. */
export interface TensorStore {
  /** True when values live on the device and kernels run in pipeline mode. */
  readonly deviceResident: boolean;
  /** Whether `readSync` can work (WebGPU has no synchronous readback). */
  readonly syncReadback: boolean;
  /** The value as a kernel argument indexed `t[row][col]`. */
  argument(value: StoredValue, rows: number, cols: number): KernelArgument;
  /** The value a tensor keeps for a kernel's result. */
  adopt(result: unknown, rows: number, cols: number): StoredValue;
  /** Frees a value no tensor uses any more. */
  release(value: StoredValue): void;
  /** A host copy, blocking. */
  readSync(value: StoredValue, rows: number, cols: number): Float32Array;
  /** A host copy. */
  read(value: StoredValue, rows: number, cols: number): Promise<Float32Array>;
}

/** A host array as a kernel argument indexed `a[row][col]`. */
export function hostArgument(data: Float32Array, rows: number, cols: number): KernelArgument {
  return gpujs.input(data, [cols, rows]);
}

/**
 * A kernel's rows x cols result as one flat row-major Float32Array: the array itself, a view
 * when its rows are consecutive slices of one buffer (webasm), else a copy (cpu, GL readback).
 */
export function flattenResult(result: unknown, rows: number, cols: number): Float32Array {
  const n = rows * cols;
  if (result instanceof Float32Array) {
    if (result.length === n) return result;
    throw new Error(`gpu.js returned ${result.length} values where ${rows}x${cols} were expected`);
  }
  if (!Array.isArray(result) || result.length !== rows) throw new Error(`gpu.js returned an unexpected result for a ${rows}x${cols} output`);
  const first: unknown = result[0];
  if (first instanceof Float32Array && first.length === cols) {
    let contiguous = true;
    for (let r = 1; r < rows && contiguous; r++) {
      const row: unknown = result[r];
      contiguous = row instanceof Float32Array && row.buffer === first.buffer && row.byteOffset === first.byteOffset + r * cols * 4;
    }
    if (contiguous) return new Float32Array(first.buffer, first.byteOffset, n);
  }
  const out = new Float32Array(n);
  for (let r = 0; r < rows; r++) {
    const row = result[r] as ArrayLike<number>;
    if (!row || row.length !== cols) throw new Error(`gpu.js returned a row of ${row?.length} values where ${cols} were expected`);
    out.set(row, r * cols);
  }
  return out;
}

/** cpu and webasm: tensors are host arrays; a kernel's result is adopted without a copy where possible. */
export const hostStore: TensorStore = {
  deviceResident: false,
  syncReadback: true,
  argument: hostArgument,
  adopt: flattenResult,
  release: () => {},
  readSync: (value) => (value as Float32Array).slice(),
  read: (value) => Promise.resolve((value as Float32Array).slice()),
};

function handle(value: StoredValue): DeviceHandle {
  if (!isDeviceHandle(value)) throw new Error('expected a device-resident value');
  return value;
}

/** headlessgl and webgpu: tensors are pipeline results; readback only on request. */
export function deviceStore(syncReadback: boolean): TensorStore {
  return {
    deviceResident: true,
    syncReadback,
    argument: (value) => handle(value),
    adopt: (result, rows, cols) => {
      const h = handle(result as StoredValue);
      if (h.output[0] !== cols || (h.output[1] ?? 1) !== rows) throw new Error(`a kernel result of size [${h.output.join(', ')}] where [${cols}, ${rows}] was expected`);
      return h;
    },
    release: (value) => handle(value).delete(),
    readSync: (value, rows, cols) => {
      const data = handle(value).toArray();
      if (data instanceof Promise) throw new Error('this mode has no synchronous readback');
      return flattenResult(data, rows, cols);
    },
    read: async (value, rows, cols) => flattenResult(await handle(value).toArray(), rows, cols),
  };
}
