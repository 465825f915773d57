/**
 * Element-wise kernels: one thread per output element, the result a WGSL expression of the loaded
 * inputs `x0`, `x1`... (and of `i`, the element index, for random ops). An input is a full tensor
 * of the output's shape, a 1 x cols row or a rows x 1 column broadcast over it. A full input that
 * is the output tensor itself is read through the output binding (WebGPU forbids binding one
 * buffer both read-only and writable in a dispatch), which is what makes every element-wise op
 * safe in place.
 *
 * Params: u0 = elements, u1 = columns, u2 = random key, u3 = threads per grid row; f0..f3 = the
 * op's scalars.
 */
import { FLAT_INDEX_WGSL, PARAMS_WGSL, WORKGROUP, memoize } from './kernel.js';
import { MATH_WGSL, RNG_WGSL } from './wgsl-math.js';

/** How an input is indexed by the output's element `i`. */
export type InputKind = 'full' | 'row' | 'col';

/** One input of an element-wise kernel; `aliased`: it is the output tensor (full inputs only). */
export interface ElementwiseInput {
  readonly kind: InputKind;
  readonly aliased: boolean;
}

function load(j: number, input: ElementwiseInput): string {
  const source = input.aliased ? 'out' : `in${j}`;
  const index = input.kind === 'full' ? 'i' : input.kind === 'row' ? 'i % P.u1' : 'i / P.u1';
  return `let x${j} = ${source}[${index}];`;
}

/**
 * The kernel computing `out[i] = expression` for every element; `name` identifies the expression
 * and `helpers` (extra WGSL functions it calls), the cache key is name plus the input layout.
 */
export const elementwiseKernel = memoize(
  (name: string, _expression: string, inputs: readonly ElementwiseInput[], _helpers = '') => `ew:${name}:${inputs.map((x) => x.kind[0] + (x.aliased ? '*' : '')).join('')}`,
  (_key, _name, expression, inputs, helpers) => {
    let binding = 2;
    const declarations = inputs.map((x, j) => (x.aliased ? '' : `@group(0) @binding(${binding++}) var<storage, read> in${j}: array<f32>;`)).join('\n');
    return `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${declarations}
${MATH_WGSL}
${RNG_WGSL}
${helpers}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX_WGSL}
  if (i >= P.u0) { return; }
  ${inputs.map((x, j) => load(j, x)).join('\n  ')}
  out[i] = ${expression};
}
`;
  },
);
