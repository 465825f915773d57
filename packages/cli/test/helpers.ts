/** Shared pieces of the CLI tests: an in-memory CliIO, PNG header reading, float64 references. */
import { readFileSync } from 'node:fs';
import type { CliIO } from '@boltzmann/cli';
import type { Matrix } from '@boltzmann/tensor';

/** A CliIO whose output is kept in strings. */
export function memoryIO(cwd: string): { io: CliIO; stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, cwd },
    stdout: () => out,
    stderr: () => err,
  };
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's IHDR; fails unless the file starts with the PNG signature. */
export function pngSize(path: string): { width: number; height: number } {
  const b = readFileSync(path);
  if (!SIGNATURE.every((x, i) => b[i] === x)) throw new Error(`${path} does not start with the PNG signature`);
  if (b.toString('latin1', 12, 16) !== 'IHDR') throw new Error(`${path} has no IHDR first`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** Bernoulli RBM parameters in float64 arrays (W[i][j], visible i, hidden j). */
export interface HostParams {
  W: number[][];
  b: number[];
  c: number[];
}

export function hostParams(params: Record<string, Matrix>): HostParams {
  const w = params['visible-hidden.weights']!;
  return {
    W: Array.from({ length: w.rows }, (_, i) => Array.from(w.row(i))),
    b: Array.from(params['visible.bias']!.data),
    c: Array.from(params['hidden.bias']!.data),
  };
}

const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** F(v) = -b.v - sum_j softplus(c_j + v W_j), from the definition. */
export function freeEnergy(p: HostParams, v: ArrayLike<number>): number {
  let f = 0;
  for (let i = 0; i < p.b.length; i++) f -= p.b[i]! * v[i]!;
  for (let j = 0; j < p.c.length; j++) {
    let x = p.c[j]!;
    for (let i = 0; i < p.b.length; i++) x += v[i]! * p.W[i]![j]!;
    f -= softplus(x);
  }
  return f;
}

/** log Z by enumerating every binary visible vector (hidden units summed out). */
export function bruteLogZ(p: HostParams): number {
  const n = p.b.length;
  const xs: number[] = [];
  for (let s = 0; s < 2 ** n; s++) xs.push(-freeEnergy(p, Array.from({ length: n }, (_, i) => (s >> i) & 1)));
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((acc, x) => acc + Math.exp(x - m), 0));
}

/** E[h_j | v] = sigmoid(c_j + v W_j). */
export function hiddenMeans(p: HostParams, v: ArrayLike<number>): number[] {
  return p.c.map((c, j) => 1 / (1 + Math.exp(-(c + p.b.reduce((s, _, i) => s + v[i]! * p.W[i]![j]!, 0)))));
}
