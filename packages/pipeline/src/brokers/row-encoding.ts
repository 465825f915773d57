import { InvalidValueError } from '@boltzmann/tensor';

/**
 * How one message carries one row (an example: one value per visible unit):
 *
 * - `"float32le"`: the row's values as IEEE-754 float32, little-endian, packed: exactly
 *   4 x columns bytes (what `new Uint8Array(Float32Array.from(row).buffer)` gives on every
 *   common machine). Compact and exact for float32 training.
 * - `"json"`: the row as a JSON array of numbers in UTF-8 text (`[0, 0.5, 1, ...]`), exactly
 *   `columns` finite numbers. Easy to write from any language; about 3x larger.
 *
 * A message that does not decode (wrong length, not an array, a value that is not a finite
 * number) is refused with the reason: the source moves it to its dead-letter place and says so.
 */
export type RowEncoding = 'float32le' | 'json';

/** The encodings a source accepts, in the order errors list them. */
export const ROW_ENCODINGS: readonly RowEncoding[] = ['float32le', 'json'];

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Largest JSON row accepted, per column (a number written in full, plus its separator). */
const JSON_BYTES_PER_COLUMN = 32;

/** A message that cannot be a row: `reason` says why ("holds 100 bytes; 784 float32 values need 3136"). */
export class RowDecodeError extends InvalidValueError {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RowDecodeError';
  }
}

/** `x` as a row encoding, or an error naming `where` and the encodings there are. */
export function checkRowEncoding(x: unknown, where: string): RowEncoding {
  if (typeof x === 'string' && (ROW_ENCODINGS as readonly string[]).includes(x)) return x as RowEncoding;
  throw new InvalidValueError(`${where} must be one of ${ROW_ENCODINGS.map((e) => `"${e}"`).join(', ')}, got ${JSON.stringify(x) ?? 'nothing'}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes one message into `out[offset .. offset + columns)`; throws a {@link RowDecodeError}
 * (nothing written that counts) when the payload is not `columns` finite values in `encoding`.
 * The payload's size is checked before anything is parsed, so a huge message costs no more
 * than reading it.
 */
export function decodeRow(payload: Uint8Array, encoding: RowEncoding, columns: number, out: Float32Array, offset = 0): void {
  if (encoding === 'float32le') {
    const need = 4 * columns;
    if (payload.byteLength !== need) throw new RowDecodeError(`holds ${payload.byteLength} bytes; ${columns} float32 values need ${need}`);
    if (LITTLE_ENDIAN) {
      // The bytes are already this machine's float32s: copy them into place, then check them.
      new Uint8Array(out.buffer, out.byteOffset + 4 * offset, need).set(payload);
      for (let j = 0; j < columns; j++) {
        const v = out[offset + j]!;
        if (v - v !== 0) throw new RowDecodeError(`value ${j} is ${v}`); // NaN or +-Infinity
      }
      return;
    }
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    for (let j = 0; j < columns; j++) {
      const v = view.getFloat32(4 * j, true);
      if (!Number.isFinite(v)) throw new RowDecodeError(`value ${j} is ${v}`);
      out[offset + j] = v;
    }
    return;
  }
  const limit = JSON_BYTES_PER_COLUMN * columns + 64;
  if (payload.byteLength > limit) throw new RowDecodeError(`holds ${payload.byteLength} bytes of JSON; a row of ${columns} numbers takes at most ${limit}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(payload));
  } catch (error) {
    throw new RowDecodeError(`is not JSON text (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new RowDecodeError(`is JSON but not an array of ${columns} numbers`);
  if (parsed.length !== columns) throw new RowDecodeError(`holds ${parsed.length} values; the rows have ${columns}`);
  for (let j = 0; j < columns; j++) {
    const v: unknown = parsed[j];
    if (typeof v !== 'number' || !Number.isFinite(Math.fround(v))) throw new RowDecodeError(`value ${j} is ${JSON.stringify(v)}, not a finite float32 number`);
    out[offset + j] = v;
  }
}

/** One row as a message payload in `encoding` (what a producer sends); throws on a value that is not finite. */
export function encodeRow(values: ArrayLike<number>, encoding: RowEncoding): Uint8Array {
  for (let j = 0; j < values.length; j++) {
    if (!Number.isFinite(values[j]!)) throw new InvalidValueError(`value ${j} of the row is ${values[j]}; rows hold finite numbers`);
  }
  if (encoding === 'json') return new TextEncoder().encode(JSON.stringify(Array.from(values)));
  const bytes = new Uint8Array(4 * values.length);
  const view = new DataView(bytes.buffer);
  for (let j = 0; j < values.length; j++) view.setFloat32(4 * j, values[j]!, true);
  return bytes;
}
