import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { FormatError, InvalidValueError } from '@boltzmann/tensor';
import { parseCsv, readCsv } from '@boltzmann/data';
import { tempDir, thrown } from './helpers.js';

describe('CSV reader', function () {
  it('reads numbers with a header found automatically and a label column by name', function () {
    const t = parseCsv('a,b,label\n1,2.5,0\r\n-3e2, .5 ,1\n\n', { labelColumn: 'label' });
    expect(t.data.toArray()).to.deep.equal([[1, 2.5], [-300, 0.5]]);
    expect(Array.from(t.labels!)).to.deep.equal([0, 1]);
    expect(t.columns).to.deep.equal(['a', 'b']);
    expect(t.labelName).to.equal('label');
  });

  it('reads a headerless file, a label column by index (negative from the end), quotes and another delimiter', function () {
    const t = parseCsv('7;"1";2\n8;3;4\n9;5;6', { delimiter: ';', labelColumn: 0, precision: 'float64' });
    expect(t.data.data).to.be.instanceOf(Float64Array);
    expect(t.data.toArray()).to.deep.equal([[1, 2], [3, 4], [5, 6]]);
    expect(Array.from(t.labels!)).to.deep.equal([7, 8, 9]);
    expect(t.columns).to.equal(undefined);
    expect(Array.from(parseCsv('1,2,3\n4,5,6', { labelColumn: -1 }).labels!)).to.deep.equal([3, 6]);
    expect(parseCsv('0.1,2\n3,4', { header: false }).data.get(0, 0)).to.equal(Math.fround(0.1));
  });

  it('reads a (gzipped) file and names it in errors', function () {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'data.csv.gz');
      writeFileSync(path, gzipSync('x,y\n1,2\n3,4\n'));
      expect(readCsv(path).data.toArray()).to.deep.equal([[1, 2], [3, 4]]);
      const bad = join(dir, 'bad.csv');
      writeFileSync(bad, 'x,y\n1,2\n3,oops\n');
      const e = thrown(() => readCsv(bad), FormatError);
      expect(e.message).to.equal(`${bad}: line 3, column 2 ("y"): "oops" is not a number`);
    } finally {
      cleanup();
    }
  });

  it('a non-number gives the line and column', function () {
    const cases: Array<[string, string]> = [
      ['1,2\n3,\n', 'line 2, column 2: "" is not a number'],
      ['1,2\n\n3,NaN\n', 'line 3, column 2: "NaN" is not a number'],
      ['1,Infinity\n', 'line 1, column 2: "Infinity" is not a number'],
      ['0x10,1\n2,3', 'line 1, column 1: "0x10" is not a number'],
      ['1,2\n3,1e999\n', 'line 2, column 2: 1e999 overflows to Infinity'],
    ];
    for (const [text, message] of cases) expect(thrown(() => parseCsv(text, { name: 't.csv' }), FormatError).message).to.contain(`t.csv: ${message}`);
    // A first line mixing names and numbers is a row with a typo, not a header.
    expect(thrown(() => parseCsv('a,2\n1,2'), FormatError).message).to.contain('line 1, column 1').and.contain('header: true');
  });

  it('a ragged row gives the line and both field counts', function () {
    const e = thrown(() => parseCsv('a,b,c\n1,2,3\n4,5\n', { name: 'r.csv' }), FormatError);
    expect(e.message).to.equal('r.csv: line 3 has 2 fields, expected 3 (as on line 1)');
  });

  it('rejects bad options and empty tables', function () {
    thrown(() => parseCsv(''), FormatError);
    thrown(() => parseCsv('a,b\n'), FormatError);
    thrown(() => parseCsv('1\n2', { labelColumn: 0 }), FormatError);
    thrown(() => parseCsv('1,2', { labelColumn: 2 }), InvalidValueError);
    thrown(() => parseCsv('1,2', { labelColumn: 'y' }), InvalidValueError);
    thrown(() => parseCsv('x,y\n1,2', { labelColumn: 'z' }), InvalidValueError);
    thrown(() => parseCsv('1,2', { delimiter: '::' }), InvalidValueError);
  });
});
