/**
 * A small WebAssembly text-format assembler for the subset gemm.wat uses: one imported memory
 * (shared or not), functions with named params and locals, exports, and the i32 / f32 / v128
 * (SIMD) instructions listed in OPCODES, written flat or folded. It exists because no WAT
 * toolchain (wabt) is installed here; anything outside the subset is rejected with the line.
 */

type Node = Atom | List;
interface Atom {
  atom: string;
  line: number;
}
interface List {
  list: Node[];
  line: number;
}

const VALUE_TYPES: Record<string, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

type Immediate = 'none' | 'local' | 'i32' | 'f32' | 'label' | 'func' | 'memarg';

interface OpcodeInfo {
  bytes: number[];
  immediate: Immediate;
  /** log2 of the natural alignment, for memory instructions. */
  align?: number;
}

const simd = (code: number, immediate: Immediate = 'none', align?: number): OpcodeInfo => ({ bytes: [0xfd, ...unsignedLeb(code)], immediate, align });
const plain = (code: number, immediate: Immediate = 'none', align?: number): OpcodeInfo => ({ bytes: [code], immediate, align });

/** The instructions this assembler knows (besides block, loop, if, else, end). */
const OPCODES: Record<string, OpcodeInfo> = {
  unreachable: plain(0x00),
  nop: plain(0x01),
  br: plain(0x0c, 'label'),
  br_if: plain(0x0d, 'label'),
  return: plain(0x0f),
  call: plain(0x10, 'func'),
  drop: plain(0x1a),
  select: plain(0x1b),
  'local.get': plain(0x20, 'local'),
  'local.set': plain(0x21, 'local'),
  'local.tee': plain(0x22, 'local'),
  'i32.load': plain(0x28, 'memarg', 2),
  'f32.load': plain(0x2a, 'memarg', 2),
  'i32.store': plain(0x36, 'memarg', 2),
  'f32.store': plain(0x38, 'memarg', 2),
  'i32.const': plain(0x41, 'i32'),
  'f32.const': plain(0x43, 'f32'),
  'i32.eqz': plain(0x45),
  'i32.eq': plain(0x46),
  'i32.ne': plain(0x47),
  'i32.lt_s': plain(0x48),
  'i32.lt_u': plain(0x49),
  'i32.gt_s': plain(0x4a),
  'i32.gt_u': plain(0x4b),
  'i32.le_s': plain(0x4c),
  'i32.le_u': plain(0x4d),
  'i32.ge_s': plain(0x4e),
  'i32.ge_u': plain(0x4f),
  'f32.eq': plain(0x5b),
  'f32.ne': plain(0x5c),
  'i32.add': plain(0x6a),
  'i32.sub': plain(0x6b),
  'i32.mul': plain(0x6c),
  'i32.div_u': plain(0x6e),
  'i32.and': plain(0x71),
  'i32.or': plain(0x72),
  'i32.shl': plain(0x74),
  'i32.shr_u': plain(0x76),
  'f32.add': plain(0x92),
  'f32.mul': plain(0x94),
  'v128.load': simd(0x00, 'memarg', 4),
  'v128.load32_splat': simd(0x09, 'memarg', 2),
  'v128.store': simd(0x0b, 'memarg', 4),
  'f32x4.splat': simd(0x13),
  'f32x4.add': simd(0xe4),
  'f32x4.sub': simd(0xe5),
  'f32x4.mul': simd(0xe6),
};

export class WatError extends Error {}

function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function signedLeb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb(bytes.length), ...bytes];
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function tokenize(source: string): Node[] {
  const root: List = { list: [], line: 1 };
  const stack: List[] = [root];
  let line = 1;
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\n') {
      line++;
      i++;
    } else if (/\s/.test(ch)) {
      i++;
    } else if (source.startsWith(';;', i)) {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (source.startsWith('(;', i)) {
      const end = source.indexOf(';)', i);
      if (end < 0) throw new WatError(`line ${line}: unterminated block comment`);
      line += source.slice(i, end).split('\n').length - 1;
      i = end + 2;
    } else if (ch === '(') {
      const list: List = { list: [], line };
      stack[stack.length - 1]!.list.push(list);
      stack.push(list);
      i++;
    } else if (ch === ')') {
      if (stack.length === 1) throw new WatError(`line ${line}: unbalanced ")"`);
      stack.pop();
      i++;
    } else {
      let j = i;
      if (ch === '"') {
        j = source.indexOf('"', i + 1) + 1;
        if (j === 0) throw new WatError(`line ${line}: unterminated string`);
      } else {
        while (j < source.length && !/[\s()]/.test(source[j]!) && !source.startsWith(';;', j)) j++;
      }
      stack[stack.length - 1]!.list.push({ atom: source.slice(i, j), line });
      i = j;
    }
  }
  if (stack.length !== 1) throw new WatError(`unbalanced "(": ${stack.length - 1} list(s) not closed`);
  return root.list;
}

const isAtom = (n: Node | undefined): n is Atom => n !== undefined && 'atom' in n;
const isList = (n: Node | undefined): n is List => n !== undefined && 'list' in n;
const head = (n: Node | undefined): string | undefined => (isList(n) && isAtom(n.list[0]) ? n.list[0].atom : undefined);
const unquote = (a: Atom): string => {
  if (!a.atom.startsWith('"')) throw new WatError(`line ${a.line}: expected a string, got ${a.atom}`);
  return a.atom.slice(1, -1);
};

function integer(a: Atom | undefined, line: number): number {
  if (a === undefined) throw new WatError(`line ${line}: expected an integer`);
  const text = a.atom.replace(/_/g, '');
  const v = /^-?0x[0-9a-f]+$/i.test(text) ? (text.startsWith('-') ? -parseInt(text.slice(1), 16) : parseInt(text, 16)) : Number(text);
  if (!Number.isInteger(v)) throw new WatError(`line ${a.line}: "${a.atom}" is not an integer`);
  return v;
}

interface FunctionDef {
  name: string | undefined;
  exportName: string | undefined;
  params: number[];
  results: number[];
  locals: number[];
  localNames: Map<string, number>;
  body: Node[];
  line: number;
}

class BodyEncoder {
  readonly out: number[] = [];
  private readonly labels: (string | undefined)[] = [];

  constructor(
    private readonly fn: FunctionDef,
    private readonly functions: Map<string, number>,
  ) {}

  private local(a: Atom | undefined, line: number): number {
    if (a === undefined) throw new WatError(`line ${line}: expected a local`);
    if (a.atom.startsWith('$')) {
      const index = this.fn.localNames.get(a.atom);
      if (index === undefined) throw new WatError(`line ${a.line}: unknown local ${a.atom}`);
      return index;
    }
    return integer(a, line);
  }

  private label(a: Atom | undefined, line: number): number {
    if (a === undefined) throw new WatError(`line ${line}: expected a label`);
    if (!a.atom.startsWith('$')) return integer(a, line);
    const at = this.labels.lastIndexOf(a.atom);
    if (at < 0) throw new WatError(`line ${a.line}: unknown label ${a.atom}`);
    return this.labels.length - 1 - at;
  }

  /** Emits `op` with its immediates taken from `atoms[from...]`; returns how many atoms it used. */
  private instruction(op: Atom, atoms: Node[], from: number): number {
    const info = OPCODES[op.atom];
    if (info === undefined) throw new WatError(`line ${op.line}: unsupported instruction "${op.atom}"`);
    this.out.push(...info.bytes);
    const next = atoms[from];
    switch (info.immediate) {
      case 'none':
        return 0;
      case 'local':
        this.out.push(...unsignedLeb(this.local(isAtom(next) ? next : undefined, op.line)));
        return 1;
      case 'label':
        this.out.push(...unsignedLeb(this.label(isAtom(next) ? next : undefined, op.line)));
        return 1;
      case 'func': {
        if (!isAtom(next)) throw new WatError(`line ${op.line}: call needs a function`);
        const index = next.atom.startsWith('$') ? this.functions.get(next.atom) : integer(next, op.line);
        if (index === undefined) throw new WatError(`line ${next.line}: unknown function ${next.atom}`);
        this.out.push(...unsignedLeb(index));
        return 1;
      }
      case 'i32': {
        const v = integer(isAtom(next) ? next : undefined, op.line);
        if (v < -(2 ** 31) || v >= 2 ** 32) throw new WatError(`line ${op.line}: ${v} does not fit in i32`);
        this.out.push(...signedLeb(v | 0));
        return 1;
      }
      case 'f32': {
        if (!isAtom(next) || Number.isNaN(Number(next.atom))) throw new WatError(`line ${op.line}: f32.const needs a number`);
        this.out.push(...new Uint8Array(new Float32Array([Number(next.atom)]).buffer));
        return 1;
      }
      case 'memarg': {
        let offset = 0;
        let align = info.align!;
        let used = 0;
        for (let a = atoms[from]; isAtom(a) && /^(offset|align)=/.test(a.atom); a = atoms[from + ++used]) {
          const [key, value] = a.atom.split('=') as [string, string];
          const v = integer({ atom: value, line: a.line }, a.line);
          if (key === 'offset') offset = v;
          else {
            if (v <= 0 || (v & (v - 1)) !== 0) throw new WatError(`line ${a.line}: align must be a power of two`);
            align = Math.log2(v);
          }
        }
        this.out.push(...unsignedLeb(align), ...unsignedLeb(offset));
        return used;
      }
    }
  }

  /** Block type: (result t) or nothing. */
  private blockType(nodes: Node[], from: number): { type: number; used: number } {
    const n = nodes[from];
    if (head(n) === 'result') {
      const t = (n as List).list[1];
      const code = isAtom(t) ? VALUE_TYPES[t.atom] : undefined;
      if (code === undefined) throw new WatError(`line ${n!.line}: bad block result type`);
      return { type: code, used: 1 };
    }
    return { type: 0x40, used: 0 };
  }

  /** A sequence of flat instructions and folded expressions. */
  sequence(nodes: Node[]): void {
    let i = 0;
    while (i < nodes.length) {
      const node = nodes[i++]!;
      if (isList(node)) {
        this.folded(node);
        continue;
      }
      const op = node.atom;
      if (op === 'block' || op === 'loop' || op === 'if') {
        let label: string | undefined;
        if (isAtom(nodes[i]) && (nodes[i] as Atom).atom.startsWith('$')) label = (nodes[i++] as Atom).atom;
        const { type, used } = this.blockType(nodes, i);
        i += used;
        this.out.push(op === 'block' ? 0x02 : op === 'loop' ? 0x03 : 0x04, type);
        this.labels.push(label);
      } else if (op === 'else') {
        this.out.push(0x05);
      } else if (op === 'end') {
        if (this.labels.length === 0) throw new WatError(`line ${node.line}: "end" without a block`);
        this.labels.pop();
        this.out.push(0x0b);
      } else {
        i += this.instruction(node, nodes, i);
      }
    }
  }

  /** (op immediates... operands...), (block ...), (loop ...), (if cond... (then ...) (else ...)). */
  private folded(node: List): void {
    const [first, ...rest] = node.list;
    if (!isAtom(first)) throw new WatError(`line ${node.line}: expected an instruction name`);
    const op = first.atom;
    if (op === 'block' || op === 'loop' || op === 'if') {
      let i = 0;
      let label: string | undefined;
      if (isAtom(rest[0]) && rest[0].atom.startsWith('$')) label = (rest[i++] as Atom).atom;
      const { type, used } = this.blockType(rest, i);
      i += used;
      if (op === 'if') {
        const then = rest.find((n) => head(n) === 'then');
        const otherwise = rest.find((n) => head(n) === 'else');
        this.sequence(rest.slice(i).filter((n) => n !== then && n !== otherwise));
        this.out.push(0x04, type);
        this.labels.push(label);
        if (then) this.sequence((then as List).list.slice(1));
        if (otherwise) {
          this.out.push(0x05);
          this.sequence((otherwise as List).list.slice(1));
        }
      } else {
        this.out.push(op === 'block' ? 0x02 : 0x03, type);
        this.labels.push(label);
        this.sequence(rest.slice(i));
      }
      this.labels.pop();
      this.out.push(0x0b);
      return;
    }
    // Immediates are the leading atoms; the operands (lists) follow and are emitted first.
    let immediates = 0;
    while (isAtom(rest[immediates])) immediates++;
    for (const operand of rest.slice(immediates)) {
      if (!isList(operand)) throw new WatError(`line ${node.line}: ${op}: unexpected atom after operands`);
      this.folded(operand);
    }
    const used = this.instruction(first, rest, 0);
    if (used !== immediates) throw new WatError(`line ${node.line}: ${op} takes ${used} immediate(s), got ${immediates}`);
  }
}

/** Assembles the module text into a WebAssembly binary. */
export function assembleWat(source: string): Uint8Array {
  const top = tokenize(source);
  if (top.length !== 1 || head(top[0]) !== 'module') throw new WatError('expected one (module ...)');
  const items = (top[0] as List).list.slice(1);
  let memoryImport: number[] | undefined;
  const functions: FunctionDef[] = [];
  for (const item of items) {
    const kind = head(item);
    const parts = (item as List).list;
    if (kind === 'import') {
      const [, moduleName, field, desc] = parts;
      if (!isAtom(moduleName) || !isAtom(field) || head(desc) !== 'memory') throw new WatError(`line ${item.line}: only a memory import is supported`);
      const limits = (desc as List).list.slice(1) as Atom[];
      const shared = limits.some((a) => a.atom === 'shared');
      const numbers = limits.filter((a) => a.atom !== 'shared').map((a) => integer(a, item.line));
      if (numbers.length < 1 || numbers.length > 2 || (shared && numbers.length !== 2)) throw new WatError(`line ${item.line}: memory needs min (and max when shared)`);
      const flags = (numbers.length === 2 ? 1 : 0) | (shared ? 2 : 0);
      memoryImport = [...name(unquote(moduleName)), ...name(unquote(field)), 0x02, flags, ...numbers.flatMap((n) => unsignedLeb(n))];
    } else if (kind === 'func') {
      const fn: FunctionDef = { name: undefined, exportName: undefined, params: [], results: [], locals: [], localNames: new Map(), body: [], line: item.line };
      let i = 1;
      if (isAtom(parts[i]) && (parts[i] as Atom).atom.startsWith('$')) fn.name = (parts[i++] as Atom).atom;
      for (; i < parts.length; i++) {
        const part = parts[i]!;
        const h = head(part);
        if (h === 'export') fn.exportName = unquote((part as List).list[1] as Atom);
        else if (h === 'param' || h === 'local' || h === 'result') {
          const list = (part as List).list.slice(1) as Atom[];
          const named = list.length === 2 && list[0]!.atom.startsWith('$');
          const types = named ? [list[1]!] : list;
          for (const t of types) {
            const code = VALUE_TYPES[t.atom];
            if (code === undefined) throw new WatError(`line ${t.line}: unknown type ${t.atom}`);
            if (h === 'result') fn.results.push(code);
            else {
              if (named) fn.localNames.set(list[0]!.atom, fn.params.length + fn.locals.length);
              (h === 'param' ? fn.params : fn.locals).push(code);
              if (h === 'param' && fn.locals.length > 0) throw new WatError(`line ${t.line}: params must come before locals`);
            }
          }
        } else break;
      }
      fn.body = parts.slice(i);
      functions.push(fn);
    } else {
      throw new WatError(`line ${item.line}: unsupported module field ${kind ?? '?'}`);
    }
  }

  const functionIndex = new Map<string, number>();
  functions.forEach((f, i) => f.name && functionIndex.set(f.name, i));
  const signatures: string[] = [];
  const typeIndex = functions.map((f) => {
    const signature = [0x60, ...vector(f.params.map((t) => [t])), ...vector(f.results.map((t) => [t]))].join(',');
    if (!signatures.includes(signature)) signatures.push(signature);
    return signatures.indexOf(signature);
  });
  const bodies = functions.map((f) => {
    const encoder = new BodyEncoder(f, functionIndex);
    encoder.sequence(f.body);
    // Locals as runs of one type.
    const runs: number[][] = [];
    for (const t of f.locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]!++;
      else runs.push([1, t]);
    }
    const code = [...vector(runs.map(([count, t]) => [...unsignedLeb(count!), t!])), ...encoder.out, 0x0b];
    return [...unsignedLeb(code.length), ...code];
  });
  const exports = functions.flatMap((f, i) => (f.exportName ? [[...name(f.exportName), 0x00, ...unsignedLeb(i)]] : []));

  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(signatures.map((s) => s.split(',').map(Number)))),
    ...(memoryImport ? section(2, vector([memoryImport])) : []),
    ...section(3, vector(typeIndex.map((t) => unsignedLeb(t)))),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
  ];
  return Uint8Array.from(bytes);
}
