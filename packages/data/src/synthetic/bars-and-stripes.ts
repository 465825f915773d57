import { type CounterRng, InvalidValueError, Matrix, assertDimension } from '@boltzmann/tensor';

/** Options of {@link barsAndStripes}. */
export interface BarsAndStripesOptions {
  /** Draw this many patterns instead of listing every distinct one. Needs `rng`. */
  count?: number;
  /** The random source for sampling. */
  rng?: CounterRng;
}

/** Largest matrix (elements) the full enumeration will build; beyond it, sample with `count`. */
const MAX_ENUMERATED_ELEMENTS = 2 ** 27;

/** How many distinct size x size bars-and-stripes patterns exist: 2^(size+1) - 2. */
export function barsAndStripesCount(size: number): number {
  assertDimension('bars and stripes size', size);
  return 2 ** (size + 1) - 2;
}

/**
 * The bars-and-stripes data set (MacKay): size x size binary images in which either every row
 * is all on or all off (stripes), or every column is (bars). One image a row, size*size
 * columns, 0/1 values, row-major pixels.
 *
 * Without `count`: all 2^(size+1) - 2 distinct patterns, in a fixed order: the 2^size stripe
 * patterns (row r is on when bit r of the pattern index is set), then the 2^size - 2 bar
 * patterns other than all-off and all-on (column c on when bit c of index - 2^size + 1 is set).
 *
 * With `count` and `rng`: `count` patterns drawn independently and uniformly from those
 * distinct patterns (so all-off and all-on are not twice as likely; the sample follows the same
 * distribution as the full list): pick stripes or bars by a fair coin, each line on by a fair
 * coin, and redraw the bars that are all-off or all-on.
 */
export function barsAndStripes(size: number, options: BarsAndStripesOptions = {}): Matrix {
  const total = barsAndStripesCount(size);
  const pixels = size * size;
  if (options.count === undefined) {
    if (total * pixels > MAX_ENUMERATED_ELEMENTS) {
      throw new InvalidValueError(`barsAndStripes: all ${total} patterns of size ${size} are too many to list; pass { count, rng } to sample`);
    }
    const out = new Matrix(total, pixels);
    const stripes = 2 ** size;
    for (let p = 0; p < total; p++) {
      if (p < stripes) drawPattern(out, p, size, false, (line) => bit(p, line));
      else drawPattern(out, p, size, true, (line) => bit(p - stripes + 1, line));
    }
    return out;
  }

  const { count, rng } = options;
  assertDimension('barsAndStripes count', count);
  if (rng === undefined) throw new InvalidValueError('barsAndStripes: sampling with { count } needs { rng }');
  const out = new Matrix(count, pixels);
  // Each attempt uses size+1 fair coins: orientation, then one per line.
  let pending = Array.from({ length: count }, (_, i) => i);
  const coins = new Float64Array(count * (size + 1));
  while (pending.length > 0) {
    rng.uniforms(coins);
    const redo: number[] = [];
    pending.forEach((row, k) => {
      const at = k * (size + 1);
      const bars = coins[at]! < 0.5;
      let on = 0;
      for (let line = 0; line < size; line++) if (coins[at + 1 + line]! < 0.5) on++;
      if (bars && (on === 0 || on === size)) {
        redo.push(row);
        return;
      }
      drawPattern(out, row, size, bars, (line) => coins[at + 1 + line]! < 0.5);
    });
    pending = redo;
  }
  return out;
}

function bit(value: number, index: number): boolean {
  return Math.floor(value / 2 ** index) % 2 === 1;
}

/** Writes one pattern into row `row`: line i (a column for bars, a row for stripes) is on when isOn(i). */
function drawPattern(out: Matrix, row: number, size: number, bars: boolean, isOn: (line: number) => boolean): void {
  const base = row * size * size;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) out.data[base + r * size + c] = isOn(bars ? c : r) ? 1 : 0;
  }
}
