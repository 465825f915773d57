import { InvalidValueError, Matrix, ShapeError, assertFinite } from '@boltzmann/tensor';

/**
 * Checks host data handed to a public entry: a Matrix, `cols` columns (when given), at least
 * one row, no NaN/Inf. `what` names the argument in the message ("training data").
 */
export function checkMatrix(what: string, m: unknown, cols?: number): asserts m is Matrix {
  if (!(m instanceof Matrix)) throw new InvalidValueError(`${what} must be a Matrix, got ${describe(m)}`);
  if (cols !== undefined && m.cols !== cols) {
    throw new ShapeError(`${what} has ${m.cols} columns but the layer has ${cols} units`);
  }
  assertFinite(what, m);
}

/** Throws unless `x` is a finite number in [lo, hi] (options such as a learning rate). */
export function checkNumber(what: string, x: unknown, lo = -Infinity, hi = Infinity): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < lo || x > hi) {
    throw new InvalidValueError(`${what} must be a finite number in [${lo}, ${hi}], got ${String(x)}`);
  }
  return x;
}

/** Throws unless `x` is an integer in [lo, hi] (batch sizes, step counts). */
export function checkInteger(what: string, x: unknown, lo = 1, hi = Number.MAX_SAFE_INTEGER): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < lo || x > hi) {
    throw new InvalidValueError(`${what} must be an integer in [${lo}, ${hi}], got ${String(x)}`);
  }
  return x;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'an object';
  return typeof x;
}

/**
 * Throws unless every key of the JSON spec `spec` is one of its `options` or one of the `fixed`
 * keys every spec of its kind has ("type"; a layer's "name" and "size"), so a misspelt option
 * ("coeficient") is an error rather than silently ignored. `what` names the spec in the message
 * ('regularizer "l2"'), which lists the options and suggests the nearest known key:
 *
 *   regularizer "l2" has an unknown option "coeficient"; its options are "coefficient", "roles" (did you mean "coefficient"?)
 */
export function checkOptionKeys(what: string, spec: unknown, options: readonly string[], fixed: readonly string[] = ['type']): void {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new InvalidValueError(`${what} must be an object of options, got ${show(spec)}`);
  for (const key of Object.keys(spec)) {
    if (fixed.includes(key) || options.includes(key)) continue;
    const list = options.length > 0 ? `its options are ${options.map((k) => `"${k}"`).join(', ')}` : 'it takes no options';
    throw new InvalidValueError(`${what} has an unknown option "${key}"; ${list}${suggestName(key, [...options, ...fixed])}`);
  }
}

/**
 * `spec` as its options type `T`, once {@link checkOptionKeys} has found every key one of
 * `options` or `fixed` (a misspelt option is an error, not ignored). The spec is named
 * `<kind> "<type>"` in the message ('sampler "glauber" has an unknown option ...'), or `what`
 * when given (a connection names itself by its name and type).
 */
export function checkSpec<T>(
  kind: string,
  spec: { readonly type: string },
  options: readonly string[],
  fixed: readonly string[] = ['type'],
  what = `${kind} "${spec.type}"`,
): T {
  checkOptionKeys(what, spec, options, fixed);
  return spec as T;
}

/** Throws unless `x` is true or false (a flag such as SGD's "nesterov"), naming `what` and the value given. */
export function checkBoolean(what: string, x: unknown): boolean {
  if (typeof x !== 'boolean') throw new InvalidValueError(`${what} must be true or false, got ${show(x)}`);
  return x;
}

/**
 * The one of `known` a few edits from `name` (at most one edit per three letters, at least one;
 * a swap of two neighbouring letters is one edit; case ignored), or undefined when none is
 * that close or `name` itself is known.
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  }
  return best !== name ? best : undefined;
}

/** ' (did you mean "x"?)' when {@link nearestName} finds one, else ''. */
export function suggestName(name: string, known: readonly string[]): string {
  const best = nearestName(name, known);
  return best !== undefined ? ` (did you mean "${best}"?)` : '';
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b` (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** A value as JSON for messages ("yes" quoted, undefined as "nothing"), cut at 60 characters. */
function show(x: unknown): string {
  if (x === undefined) return 'nothing';
  let s: string;
  try {
    s = JSON.stringify(x) ?? String(x);
  } catch {
    s = String(x);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
