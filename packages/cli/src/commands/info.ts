import { describeCpuKernels, type CpuKernelReport } from '@boltzmann/backend-cpu';
import { cpus } from 'node:os';
import type { ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { Options, openContainer } from '../common.js';
import type { CliIO } from '../io.js';

/** One compute backend as `info` reports it. */
export interface BackendInfo {
  readonly name: string;
  readonly priority: number;
  readonly available: boolean;
  /** Why it does not run here, where known. */
  readonly reason?: string;
}

/** What `boltzmann info --json` prints. */
export interface InfoReport {
  readonly node: string;
  readonly platform: string;
  readonly cpus: number;
  /** Registered backends, best first; "auto" picks the first available one. */
  readonly backends: readonly BackendInfo[];
  readonly auto: string | undefined;
  /** Packages that could not be imported (e.g. the gpu.js backend without its native parts). */
  readonly unloadedBackendPackages: Readonly<Record<string, string>>;
  readonly cpu: CpuKernelReport;
}

/** gpu.js modes' probe results ("gpu.js:<mode>" -> why it does not run), when the package loaded. */
async function gpuReasons(): Promise<Map<string, string>> {
  const reasons = new Map<string, string>();
  try {
    const gpu = await import('@boltzmann/backend-gpu');
    for (const probe of await gpu.probeGpuModes()) if (!probe.ok) reasons.set(`gpu.js:${probe.mode}`, probe.reason);
  } catch {
    // not installed or not loadable: the container reports it as an unloaded package
  }
  return reasons;
}

/** Gathers the report: the container (with --plugin's) registers every backend it can import. */
export async function infoReport(args: ParsedArgs, io: CliIO): Promise<InfoReport> {
  const container = await openContainer(args, io, [], 'auto');
  const reasons = await gpuReasons();
  const registry = container.components.backends;
  const backends: BackendInfo[] = registry
    .names()
    .filter((name) => name !== 'auto')
    .map((name) => {
      const entry = registry.get(name);
      const available = entry.available();
      const reason = reasons.get(name);
      return { name, priority: entry.priority, available, ...(available || reason === undefined ? {} : { reason }) };
    })
    .sort((a, b) => b.priority - a.priority);
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    backends,
    auto: backends.find((b) => b.available)?.name,
    unloadedBackendPackages: Object.fromEntries(container.backendLoadFailures),
    cpu: describeCpuKernels(),
  };
}

/** The report as text, one fact per line. */
export function formatInfo(r: InfoReport): string {
  const lines = [`node ${r.node} on ${r.platform}, ${r.cpus} CPUs`, '', 'backends (best first; "auto" takes the first available):'];
  const width = Math.max(...r.backends.map((b) => b.name.length));
  for (const b of r.backends) lines.push(`  ${b.name.padEnd(width)}  priority ${String(b.priority).padStart(2)}  ${b.available ? 'available' : `not available${b.reason ? `: ${b.reason}` : ''}`}`);
  for (const [pkg, why] of Object.entries(r.unloadedBackendPackages)) lines.push(`  (${pkg} not loaded: ${why})`);
  lines.push(`  auto -> ${r.auto ?? 'none'}`, '', 'CPU backend:');
  const n = r.cpu.native;
  lines.push(n.loaded ? `  native addon: ${n.origin}, ${n.file}` : `  native addon: not loaded: ${n.reason}`);
  if (n.loaded) {
    lines.push(`  native matrix-product kernels (fastest first): ${n.gemmKernels.join(', ')}`);
    lines.push(`  native bfloat16-mixed kernels: ${n.bf16Kernels.join(', ')}`);
    lines.push(`  native element-wise kernels: ${n.elementwiseSets.join(', ')}`);
    lines.push(`  threads: ${n.threads}`);
  }
  lines.push(`  SIMD: ${r.cpu.simd}`);
  for (const c of r.cpu.choices) {
    lines.push(`  ${c.role}: ${c.chosen}`);
    for (const p of c.passedOver) lines.push(`    not ${p.name}: ${p.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `boltzmann info`: which backends and kernels run on this machine, and why a faster one does not. */
export const infoCommand: Command = {
  def: {
    name: 'info',
    brief: 'show the backends and CPU kernels this machine runs, and why a faster one is not used',
    summary:
      'Show the registered compute backends (with --plugin, plugins\' too) and which ones run here; for the CPU backend, where its native addon came from (prebuilt in the package or compiled here), its kernels, SIMD level and threads, and for each kind of kernel the one in use and the faster ones passed over, with the reason.',
    positionals: [],
    options: [Options.json, Options.plugin],
    details: ['Example: boltzmann info --json'],
  },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const report = await infoReport(args, io);
    io.stdout.write(args.options['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : formatInfo(report));
    return 0;
  },
};
