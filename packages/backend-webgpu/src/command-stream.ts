/// <reference types="@webgpu/types" />
/**
 * The ordered stream of GPU work of one backend. Ops record dispatches into one open command
 * encoder (one compute pass); their 32-byte parameter blocks and small host arrays (row indices)
 * go into a staging ring that is uploaded with a single `writeBuffer` just before the encoder is
 * submitted, so a training step costs one upload and one submit per `FLUSH_DISPATCHES` ops,
 * never a round trip. Anything that writes a buffer directly from the host (`write`) first
 * submits what was recorded, so the queue sees host writes and kernels in program order.
 *
 * WebGPU reports validation, out-of-memory and internal errors asynchronously: an error scope of
 * each kind stays open all the time and is closed and reopened at every submit, and the first
 * error any scope catches (or a lost device) fails every later read.
 */

/** GPUBufferUsage and GPUMapMode values (spelled out: Node has no such globals without Dawn's). */
export const BufferUsage = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, UNIFORM: 64, STORAGE: 128 } as const;
const MAP_MODE_READ = 1;

/** Bytes of the staging ring; a submit happens at the latest when it is full. */
const RING_BYTES = 1 << 20;
/** Offsets of bindings into the ring (WebGPU's minimum offset alignment is at most 256). */
const ALIGN = 256;
/** Dispatches recorded before a submit, so the GPU starts while the host records more. */
const FLUSH_DISPATCHES = 128;

const ERROR_FILTERS: readonly GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/** A binding resource of a dispatch: a whole buffer or a range of one. */
export type Binding = GPUBuffer | GPUBufferBinding;

export class CommandStream {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly ring: GPUBuffer;
  private readonly staging = new ArrayBuffer(RING_BYTES);
  private used = 0;
  private dispatches = 0;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Buffers to destroy once the work recorded so far is submitted. */
  private retired: GPUBuffer[] = [];
  private scopes: Promise<void>[] = [];
  private failure: Error | undefined;
  private closed = false;

  constructor(readonly device: GPUDevice) {
    this.ring = device.createBuffer({ size: RING_BYTES, usage: BufferUsage.UNIFORM | BufferUsage.STORAGE | BufferUsage.COPY_DST });
    this.openScopes();
    void device.lost.then((info) => {
      if (!this.closed) this.failure ??= new Error(`WebGPU device lost (${info.reason}): ${info.message}`);
    });
  }

  /** The first error the device reported, if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  private openScopes(): void {
    for (const f of ERROR_FILTERS) this.device.pushErrorScope(f);
  }

  private closeScopes(): void {
    for (let k = 0; k < ERROR_FILTERS.length; k++) {
      this.scopes.push(
        this.device.popErrorScope().then(
          (e) => {
            if (e) this.failure ??= new Error(`WebGPU: ${e.message}`);
          },
          (e: unknown) => {
            this.failure ??= e instanceof Error ? e : new Error(String(e));
          },
        ),
      );
    }
    this.openScopes();
  }

  /** Resolves once every error scope closed so far has answered; rejects with the first error. */
  async settled(): Promise<void> {
    const scopes = this.scopes;
    this.scopes = [];
    await Promise.all(scopes);
    if (this.failure) throw this.failure;
  }

  private pipeline(key: string, code: string): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code, label: key });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Pipelines compiled so far (one per kernel variant); steady-state training adds none. */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /**
   * Copies `bytes` into the ring; the binding that will see them once submitted. It leaves room
   * for one more parameter block, so the dispatch staged right after never submits in between
   * (a submit there would separate the staged bytes from the dispatch that reads them).
   */
  stage(bytes: ArrayBufferView): GPUBufferBinding {
    const size = Math.max(4, Math.ceil(bytes.byteLength / 4) * 4);
    const aligned = Math.ceil(size / ALIGN) * ALIGN;
    if (aligned + ALIGN > RING_BYTES) {
      // too big for the ring: a buffer of its own, freed after the submit that uses it
      if (this.used + ALIGN > RING_BYTES) this.flush();
      const buffer = this.device.createBuffer({ size, usage: BufferUsage.STORAGE | BufferUsage.UNIFORM, mappedAtCreation: true });
      new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      buffer.unmap();
      this.retired.push(buffer);
      return { buffer, offset: 0, size };
    }
    if (this.used + aligned + ALIGN > RING_BYTES) this.flush();
    const offset = this.used;
    new Uint8Array(this.staging, offset, bytes.byteLength).set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.used = offset + aligned;
    return { buffer: this.ring, offset, size };
  }

  /** Records one dispatch; bindings[0] is the kernel's Params block, the rest follow in binding order. */
  dispatch(kernel: { key: string; code: string }, params: ArrayBuffer, bindings: readonly Binding[], groups: readonly [number, number?, number?]): void {
    if (this.closed) throw new Error('the WebGPU backend was destroyed');
    const paramBinding = this.stage(new Uint8Array(params));
    const pipeline = this.pipeline(kernel.key, kernel.code);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: paramBinding }];
    bindings.forEach((b, i) => entries.push({ binding: i + 1, resource: 'buffer' in b ? b : { buffer: b } }));
    const group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.openPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
    if (++this.dispatches >= FLUSH_DISPATCHES) this.flush();
  }

  private openPass(): GPUComputePassEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    return this.pass;
  }

  /** Records a buffer-to-buffer copy. */
  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number): void {
    this.pass?.end();
    this.pass = null;
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
  }

  /** Submits everything recorded (after uploading the ring), then frees retired buffers. */
  flush(): void {
    if (this.encoder) {
      this.pass?.end();
      this.pass = null;
      if (this.used > 0) this.device.queue.writeBuffer(this.ring, 0, this.staging, 0, this.used);
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
    }
    this.used = 0;
    this.dispatches = 0;
    for (const b of this.retired) b.destroy();
    this.retired = [];
    this.closeScopes();
  }

  /** Overwrites a buffer from the host, after everything recorded before. */
  write(buffer: GPUBuffer, data: Float32Array): void {
    this.flush();
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Frees a buffer once the work recorded so far that may use it is submitted. */
  retire(buffer: GPUBuffer): void {
    if (this.encoder) this.retired.push(buffer);
    else buffer.destroy();
  }

  /** Reads `bytes` of a buffer back to the host after everything recorded before. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const staging = this.device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    this.copy(buffer, staging, bytes);
    this.flush();
    try {
      await staging.mapAsync(MAP_MODE_READ);
      const copy = staging.getMappedRange().slice(0);
      staging.unmap();
      await this.settled();
      return copy;
    } catch (e) {
      await this.settled();
      throw e;
    } finally {
      staging.destroy();
    }
  }

  /** Submits what is left and frees the ring; further work is refused. */
  destroy(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.ring.destroy();
    for (let k = 0; k < ERROR_FILTERS.length; k++) void this.device.popErrorScope().catch(() => {});
  }
}
