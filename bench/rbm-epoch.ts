/**
 * Seconds per epoch of a Bernoulli RBM 784 x 500, batch 100, CD-1 over 60,000 rows, for each
 * matrix-product kernel of the CPU backend, any gpu.js backend, and (with --python) the
 * scikit-learn and PyTorch references. One JSON line per configuration on stdout.
 *
 *   npx tsx bench/rbm-epoch.ts [--epochs 3] [--configs native,wasm,ts] [--python] [--rows 60000]
 *
 * Each configuration runs in its own child process (so its peak RSS is its own) that loads the
 * data once and waits; the parent then asks them for one epoch each in turn, round after
 * round, so all configurations see the same machine conditions (this machine's speed swings
 * up to 2x over minutes). A configuration whose epoch takes longer than --slow-seconds stops
 * after its first epoch (reported as "epochs": 1).
 *
 * With --profile each configuration's backend times every op it runs: the result lines gain
 * "profile_ms_per_step" (op and operand shapes -> milliseconds per step, averaged over the
 * configuration's last epoch, largest first) and "profile_calls_per_step"; the epoch times then
 * include the timing wrapper's own cost (about a microsecond per op), so compare them only with
 * other --profile runs. `--profile --rows 12000 --epochs 2 --configs native,core-rbm` shows where
 * the Trainer's step spends its time beyond the raw CD-1 step's ops.
 *
 * Child mode (internal): --child NAME; reads "epoch" / "exit" lines on stdin, writes JSON lines.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CounterRng, Matrix, type Backend, type Tensor } from '@boltzmann/tensor';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { cd1Step, cd1StepFlops, createCd1State } from './cd1-step.js';
import { backendFor, cpuBackendLabel, epochConfigurationNames, gpuBackendNames } from './configurations.js';
import { loadTrainingImages } from './fashion-mnist.js';

/** The Python references: scikit-learn, PyTorch float32, PyTorch with bfloat16 products. */
const PYTHON_CONFIGS = ['sklearn', 'torch', 'torch-bf16'] as const;

const VISIBLE = 784;
const HIDDEN = 500;
const BATCH = 100;
/** A 2-core float32 FMA ceiling the results are compared with (OpenBLAS reaches ~100 GFLOP/s per core on these machines). */
const CEILING_GFLOPS = 200;

interface Options {
  epochs: number;
  rows: number;
  configs: string[] | undefined;
  python: boolean;
  pythonBin: string;
  slowSeconds: number;
  child: string | undefined;
  profile: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { epochs: 3, rows: 60000, configs: undefined, python: false, pythonBin: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', slowSeconds: 60, child: undefined, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const count = (what: string): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${what} must be a positive integer`);
      return v;
    };
    if (flag === '--epochs') options.epochs = count('--epochs');
    else if (flag === '--rows') options.rows = count('--rows');
    else if (flag === '--configs') options.configs = value().split(',').filter(Boolean);
    else if (flag === '--python') options.python = true;
    else if (flag === '--python-bin') options.pythonBin = value();
    else if (flag === '--slow-seconds') options.slowSeconds = Number(value());
    else if (flag === '--child') options.child = value();
    else if (flag === '--profile') options.profile = true;
    else throw new Error(`unknown option ${flag}; see the comment at the top of bench/rbm-epoch.ts`);
  }
  if (options.rows % BATCH !== 0) throw new Error(`--rows must be a multiple of the batch size ${BATCH}`);
  return options;
}

function send(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** The Backend methods that `profileOps` times (every op of the interface but the readbacks). */
const PROFILED_OPS = [
  'zeros', 'upload', 'write', 'dispose', 'copy', 'fill', 'gatherRows', 'matmul', 'linear', 'unary', 'binary', 'axpby', 'affine', 'addRowVector',
  'mulRowVector', 'mulColVector', 'softmaxGroups', 'logSumExpGroups', 'sumColumns', 'sumRows', 'reduce', 'sampleBernoulli', 'sampleGaussian',
  'sampleCategorical', 'uniform',
] as const;

/** Milliseconds and calls per step of each op ("linear:sigmoid(100x784,784x500,1x500,100x500)"), largest first. */
interface OpProfileStep {
  msPerStep: Record<string, number>;
  callsPerStep: Record<string, number>;
}

/** Per-op timings of a backend since the last `take`. */
interface OpProfile {
  /** The timings per step since the last call; resets. */
  take(steps: number): OpProfileStep;
}

/**
 * Wraps the ops of `backend` (on the instance) with a timer keyed by the op, its variant (the
 * unary / binary op, linear's activation) and its operands' shapes (tensors and matrices). A synchronous CPU
 * backend's op time is its compute time; an asynchronous backend's is only the time to queue it.
 */
function profileOps(backend: Backend): OpProfile {
  const totals = new Map<string, { ms: number; calls: number }>();
  const target = backend as unknown as Record<string, (...args: unknown[]) => unknown>;
  const isShaped = (x: unknown): x is Pick<Tensor, 'rows' | 'cols'> => typeof x === 'object' && x !== null && 'rows' in x && 'cols' in x;
  for (const name of PROFILED_OPS) {
    const op = target[name]!.bind(backend);
    target[name] = (...args: unknown[]) => {
      const variant = name === 'unary' || name === 'binary' ? `:${String(args[0])}` : name === 'linear' ? `:${(args[4] as { activation?: string } | undefined)?.activation ?? 'identity'}` : '';
      const shapes = args.filter(isShaped).map((t) => `${t.rows}x${t.cols}`).join(',');
      const start = performance.now();
      const result = op(...args);
      const ms = performance.now() - start;
      const key = `${name}${variant}(${shapes})`;
      const entry = totals.get(key);
      if (entry === undefined) totals.set(key, { ms, calls: 1 });
      else {
        entry.ms += ms;
        entry.calls += 1;
      }
      return result;
    };
  }
  return {
    take(steps) {
      const sorted = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
      totals.clear();
      return {
        msPerStep: Object.fromEntries(sorted.map(([key, v]) => [key, round(v.ms / steps, 4)])),
        callsPerStep: Object.fromEntries(sorted.map(([key, v]) => [key, round(v.calls / steps, 3)])),
      };
    },
  };
}

/**
 * OPENBLAS_CORETYPE for the Python references: OpenBLAS picks a 2-3x slower kernel by itself on
 * some of these AVX-512 machines, so where the processor has AVX-512 name its SkylakeX kernels
 * (unless BENCH_OPENBLAS_CORETYPE says otherwise); elsewhere leave OpenBLAS to choose.
 */
function openblasCoreType(): { OPENBLAS_CORETYPE?: string } {
  const chosen = process.env.BENCH_OPENBLAS_CORETYPE;
  if (chosen !== undefined) return { OPENBLAS_CORETYPE: chosen };
  const flags = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  return / avx512f /.test(flags) ? { OPENBLAS_CORETYPE: 'SkylakeX' } : {};
}

/** CPU seconds (user + system, every thread of the process) since `start`. */
function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** The CpuBackend precision of each core Trainer configuration. */
const CORE_CONFIGS: Readonly<Record<string, 'float32' | 'bfloat16-mixed'>> = { 'core-rbm': 'float32', 'core-rbm-bf16': 'bfloat16-mixed' };

/**
 * Child for "core-rbm" / "core-rbm-bf16": the core package's RBM and Trainer (CD-1 with its
 * defaults: momentum, L2) on CpuBackend with its default kernel choice, in float32 or
 * bfloat16-mixed. The time is the Trainer's own epoch time (its fit() also validates and
 * uploads the data, which is not part of an epoch).
 */
async function runCoreChild(options: Options, precision: 'float32' | 'bfloat16-mixed'): Promise<void> {
  let core: typeof import('@boltzmann/core');
  let cpu: typeof import('@boltzmann/backend-cpu');
  try {
    core = await import('@boltzmann/core');
    cpu = await import('@boltzmann/backend-cpu');
  } catch (error) {
    send({ unavailable: `@boltzmann/core did not load: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` });
    return;
  }
  let backend: InstanceType<typeof cpu.CpuBackend>;
  try {
    backend = new cpu.CpuBackend({ precision });
  } catch (error) {
    send({ unavailable: error instanceof Error ? error.message : String(error) });
    return;
  }
  const images = loadTrainingImages(options.rows);
  const train = new Matrix(images.rows, images.cols, images.data);
  const rbm = core.RBM.create(backend, { visible: VISIBLE, hidden: HIDDEN, seed: 1 });
  const trainer = new core.Trainer(rbm, { seed: 1, batchSize: BATCH, learningRate: 0.05 });
  const monitor = { freeEnergy: false, pseudoLikelihood: false };
  const profile = options.profile ? profileOps(backend) : undefined;
  await trainer.fit(new Matrix(BATCH * 5, images.cols, images.data.subarray(0, BATCH * 5 * images.cols)), { epochs: 1, monitor });
  send({ ready: true, gemm: `core RBM + Trainer on ${cpuBackendLabel(backend)}`, data: images.source });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'epoch') break;
    profile?.take(1); // from here: fit's upload of the data (outside its epoch time) shows as upload(rows x 784)
    const cpuStart = process.cpuUsage();
    const [report] = await trainer.fit(train, { epochs: 1, monitor });
    send({ seconds: report!.seconds, cpuSeconds: cpuSecondsSince(cpuStart), rssMb: peakRssMb(), rssNowMb: process.memoryUsage().rss / 2 ** 20, ...(profile ? { profile: profile.take(images.rows / BATCH) } : {}) });
  }
  backend.destroy();
}

/** Child: one configuration; loads the data, warms up, then runs an epoch per "epoch" line. */
async function runChild(name: string, options: Options): Promise<void> {
  const core = CORE_CONFIGS[name];
  if (core !== undefined) return runCoreChild(options, core);
  const { backend, why } = await backendFor(name);
  if (backend === undefined) {
    send({ unavailable: why });
    return;
  }
  const images = loadTrainingImages(options.rows);
  const data = backend.upload(new Matrix(images.rows, images.cols, images.data));
  const profile = options.profile ? profileOps(backend) : undefined;
  const state = createCd1State(backend, { visible: VISIBLE, hidden: HIDDEN, batch: BATCH, learningRate: 0.05, momentum: 0.5, weightDecay: 1e-4, seed: 1 });
  const shuffle = new CounterRng(3, 9);
  const batches = images.rows / BATCH;
  // Warm-up: JIT, kernel compilation, packing buffers and thread pools are not part of an epoch.
  const warm = shuffle.permutation(images.rows);
  for (let i = 0; i < 5; i++) cd1Step(state, data, warm.subarray(i * BATCH, (i + 1) * BATCH));
  await backend.read(state.c);
  send({ ready: true, gemm: backend instanceof CpuBackend ? cpuBackendLabel(backend) : backend.name, data: images.source });
  let epoch = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'epoch') break;
    state.options.momentum = epoch === 0 ? 0.5 : 0.9;
    profile?.take(1);
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const order = shuffle.permutation(images.rows);
    for (let b = 0; b < batches; b++) cd1Step(state, data, order.subarray(b * BATCH, (b + 1) * BATCH));
    // A read-back, so a backend that queues work asynchronously has finished it.
    const bias = await backend.read(state.c);
    const seconds = (performance.now() - start) / 1000;
    if (!Number.isFinite(bias.data[0]!)) throw new Error(`${name}: training diverged (hidden bias ${bias.data[0]})`);
    epoch++;
    send({ seconds, cpuSeconds: cpuSecondsSince(cpuStart), rssMb: peakRssMb(), rssNowMb: process.memoryUsage().rss / 2 ** 20, ...(profile ? { profile: profile.take(batches) } : {}) });
  }
  backend.destroy();
}

/** A running configuration: a child process speaking JSON lines. */
class Worker {
  readonly seconds: number[] = [];
  /** CPU seconds (user + system, all threads) of each epoch, where the child reports them. */
  readonly cpuSeconds: number[] = [];
  rssMb = 0;
  /** Resident memory after each epoch (MB), where the child reports it: flat means no growth. */
  readonly rssAfterEpochMb: number[] = [];
  done = false;
  info: Record<string, unknown> = {};
  /** The last epoch's op profile (--profile). */
  profile: OpProfileStep | undefined;
  private readonly lines: AsyncIterator<string>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk}`));
  }

  async next(): Promise<Record<string, unknown>> {
    for (;;) {
      const { value, done } = await this.lines.next();
      if (done) throw new Error(`${this.name}: the child process ended early`);
      // Libraries may print to stdout; only JSON objects are messages.
      if (value.startsWith('{')) return JSON.parse(value) as Record<string, unknown>;
    }
  }

  async epoch(): Promise<number> {
    this.child.stdin.write('epoch\n');
    const reply = await this.next();
    if (typeof reply.seconds !== 'number') throw new Error(`${this.name}: unexpected reply ${JSON.stringify(reply)}`);
    this.seconds.push(reply.seconds);
    if (typeof reply.cpuSeconds === 'number') this.cpuSeconds.push(reply.cpuSeconds);
    this.rssMb = Math.max(this.rssMb, Number(reply.rssMb ?? 0));
    if (typeof reply.rssNowMb === 'number') this.rssAfterEpochMb.push(reply.rssNowMb);
    if (reply.profile !== undefined) this.profile = reply.profile as OpProfileStep;
    return reply.seconds;
  }

  stop(): void {
    this.child.stdin.end('exit\n');
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.child !== undefined) return runChild(options.child, options);

  const self = fileURLToPath(import.meta.url);
  const here = path.dirname(self);
  const gpu = await gpuBackendNames();
  let names = options.configs ?? [...epochConfigurationNames(), ...Object.keys(CORE_CONFIGS), ...gpu.names];
  if (options.configs === undefined && gpu.names.length === 0) send({ config: 'gpu.js', unavailable: gpu.why });
  if (options.python && options.configs === undefined) names = [...names, ...PYTHON_CONFIGS];
  const flopsPerEpoch = cd1StepFlops({ visible: VISIBLE, hidden: HIDDEN, batch: BATCH }) * (options.rows / BATCH);

  // Start the children one after another (loading data in parallel would skew nothing but
  // would double the memory peak and the start-up time on 2 cores).
  const workers: Worker[] = [];
  for (const name of names) {
    const python = (PYTHON_CONFIGS as readonly string[]).includes(name);
    const library = name.startsWith('torch') ? 'torch' : 'sklearn';
    const command = python ? options.pythonBin : process.execPath;
    const args = python
      ? [path.join(here, `reference_${library}.py`), '--serve', '--rows', String(options.rows), ...(name === 'torch-bf16' ? ['--precision', 'bfloat16'] : [])]
      : [...process.execArgv, self, '--child', name, '--rows', String(options.rows), ...(options.profile ? ['--profile'] : [])];
    const env = python ? { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', ...openblasCoreType() } : process.env;
    if (python && spawnSync(options.pythonBin, ['-c', `import ${library}`]).status !== 0) {
      send({ config: name, unavailable: `${options.pythonBin} cannot import ${library} (apt-get install python3-${library})` });
      continue;
    }
    const worker = new Worker(name, spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] }));
    const hello = await worker.next();
    if (hello.unavailable !== undefined) {
      send({ config: name, unavailable: hello.unavailable });
      worker.stop();
      continue;
    }
    worker.info = hello;
    workers.push(worker);
    process.stderr.write(`ready: ${name} (${String(hello.gemm ?? name)})\n`);
  }

  // Interleaved rounds: every configuration runs its n-th epoch before any runs its (n+1)-th.
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (const worker of workers) {
      if (worker.done) continue;
      const seconds = await worker.epoch();
      process.stderr.write(`epoch ${epoch + 1}: ${worker.name} ${seconds.toFixed(2)} s\n`);
      if (seconds > options.slowSeconds) worker.done = true;
    }
  }
  for (const worker of workers) {
    worker.stop();
    const s = median(worker.seconds);
    const gflops = flopsPerEpoch / s / 1e9;
    send({
      config: worker.name,
      gemm: worker.info.gemm ?? worker.name,
      data: worker.info.data ?? 'unknown',
      rows: options.rows,
      batch: BATCH,
      visible: VISIBLE,
      hidden: HIDDEN,
      epochs: worker.seconds.length,
      seconds_per_epoch: round(s, 3),
      epoch_seconds: worker.seconds.map((x) => round(x, 3)),
      ...(worker.cpuSeconds.length > 0 ? { cpu_seconds_per_epoch: round(median(worker.cpuSeconds), 3), epoch_cpu_seconds: worker.cpuSeconds.map((x) => round(x, 3)) } : {}),
      gflops: round(gflops, 1),
      ceiling_fraction: round(gflops / CEILING_GFLOPS, 3),
      peak_rss_mb: round(worker.rssMb, 0),
      ...(worker.rssAfterEpochMb.length > 0 ? { rss_mb_after_epoch: worker.rssAfterEpochMb.map((x) => round(x, 0)) } : {}),
      ...(worker.profile !== undefined
        ? {
            profile_ms_per_step: worker.profile.msPerStep,
            profile_calls_per_step: worker.profile.callsPerStep,
          }
        : {}),
    });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
