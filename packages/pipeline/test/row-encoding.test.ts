import { expect } from 'chai';
import { CounterRng } from '@boltzmann/tensor';
import { RowDecodeError, checkRowEncoding, compareIds, decodeRow, encodeRow } from '@boltzmann/pipeline';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('row encodings of broker messages', function () {
  it('float32le and json round-trip random rows of odd sizes exactly (as float32), at any offset', function () {
    const rng = new CounterRng(4, 1);
    for (const columns of [1, 7, 33, 784]) {
      const values = Float32Array.from(rng.uniforms(new Float64Array(columns)), (u) => (u - 0.5) * 1e3);
      for (const encoding of ['float32le', 'json'] as const) {
        const payload = encodeRow(values, encoding);
        if (encoding === 'float32le') expect(payload.byteLength).to.equal(4 * columns);
        // a payload that is a view into a larger, unaligned buffer (as a client hands it over)
        const carrier = new Uint8Array(payload.byteLength + 3);
        carrier.set(payload, 3);
        const out = new Float32Array(2 * columns + 1).fill(-7);
        decodeRow(carrier.subarray(3), encoding, columns, out, columns + 1);
        expect(Array.from(out.subarray(columns + 1)), `${encoding} ${columns}`).to.deep.equal(Array.from(values));
        expect(out[columns]).to.equal(-7);
      }
    }
  });

  it('refuses what is not a row, saying why', function () {
    const out = new Float32Array(3);
    const refused = (payload: Uint8Array, encoding: 'float32le' | 'json') => {
      try {
        decodeRow(payload, encoding, 3, out);
        return 'decoded';
      } catch (error) {
        expect(error).to.be.instanceOf(RowDecodeError);
        return (error as RowDecodeError).reason;
      }
    };
    expect(refused(new Uint8Array(8), 'float32le')).to.equal('holds 8 bytes; 3 float32 values need 12');
    expect(refused(new Uint8Array(new Float32Array([1, Infinity, 0]).buffer), 'float32le')).to.equal('value 1 is Infinity');
    expect(refused(new Uint8Array(new Float32Array([1, 0, NaN]).buffer), 'float32le')).to.equal('value 2 is NaN');
    expect(refused(bytes('[1, 2'), 'json')).to.match(/^is not JSON text/);
    expect(refused(bytes('{"a": 1}'), 'json')).to.equal('is JSON but not an array of 3 numbers');
    expect(refused(bytes('[1, 2]'), 'json')).to.equal('holds 2 values; the rows have 3');
    expect(refused(bytes('[1, "2", 3]'), 'json')).to.equal('value 1 is "2", not a finite float32 number');
    expect(refused(bytes('[1, 2, 1e39]'), 'json')).to.equal('value 2 is 1e+39, not a finite float32 number');
    expect(refused(bytes(`[1, 2, 3${' '.repeat(200)}]`), 'json')).to.equal('holds 209 bytes of JSON; a row of 3 numbers takes at most 160');
    expect(refused(new Uint8Array([0x5b, 0xff, 0x5d]), 'json')).to.match(/^is not JSON text/);
    expect(refused(bytes('[0, 0.5, 1]'), 'json')).to.equal('decoded');
    expect(() => encodeRow([1, NaN], 'json')).to.throw(/value 1 of the row is NaN/);
    expect(() => checkRowEncoding('f32', '"encoding"')).to.throw('"encoding" must be one of "float32le", "json", got "f32"');
  });

  it('stream entry ids order by milliseconds, then sequence, as numbers', function () {
    expect(compareIds('9-0', '10-0')).to.equal(-1);
    expect(compareIds('10-2', '10-10')).to.equal(-1);
    expect(compareIds('18446744073709551615-1', '18446744073709551615-0')).to.equal(1);
    expect(compareIds('5-5', '5-5')).to.equal(0);
  });
});
