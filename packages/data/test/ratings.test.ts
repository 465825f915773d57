import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { CounterRng, FormatError, InvalidValueError } from '@boltzmann/tensor';
import { parseRatings, plantedTastes, readRatings } from '@boltzmann/data';
import { tempDir, thrown } from './helpers.js';

describe('ratings reader (MovieLens-style)', function () {
  it('reads ml-100k tab-separated lines with timestamps; ids become dense indices in order of appearance', function () {
    const t = parseRatings('196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116\r\n\n22\t242\t5\t880606923\n');
    expect(Array.from(t.users)).to.deep.equal([0, 1, 0, 2]);
    expect(Array.from(t.items)).to.deep.equal([0, 1, 2, 0]);
    expect(Array.from(t.ratings)).to.deep.equal([3, 3, 1, 5]);
    expect(Array.from(t.timestamps!)).to.deep.equal([881250949, 891717742, 878887116, 880606923]);
    expect(t.userIds).to.deep.equal(['196', '186', '22']);
    expect(t.itemIds).to.deep.equal(['242', '302', '377']);
    expect([t.userCount, t.itemCount]).to.deep.equal([3, 3]);
    expect(t.levels).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it("reads ml-1m '::' lines, ml-latest CSV with a header and half-star levels, and space-separated lines without timestamps", function () {
    const a = parseRatings('1::1193::5::978300760\n1::661::3::978302109\n');
    expect(Array.from(a.ratings)).to.deep.equal([5, 3]);
    const b = parseRatings('userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,0.5,964981247\n', { levels: [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5] });
    expect(Array.from(b.ratings)).to.deep.equal([4, 0.5]);
    expect(b.userIds).to.deep.equal(['1']);
    const c = parseRatings('u1  i1 2\nu2\ti1   4\n');
    expect(Array.from(c.ratings)).to.deep.equal([2, 4]);
    expect(c.timestamps).to.equal(undefined);
  });

  it('reads a (gzipped) file', function () {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, 'u.data.gz'), gzipSync('1\t2\t3\t4\n'));
      expect(Array.from(readRatings(join(dir, 'u.data.gz')).ratings)).to.deep.equal([3]);
      expect(thrown(() => readRatings(join(dir, 'missing.data')), FormatError).message).to.match(/missing\.data: cannot read/);
    } finally {
      cleanup();
    }
  });

  it('FormatError with the line number: rating outside the levels, bad fields, repeated pairs', function () {
    const named = { name: 'u.data' };
    expect(thrown(() => parseRatings('1\t2\t3\t9\n1\t3\t6\t9\n', named), FormatError).message).to.equal('u.data: line 2: rating 6 is not one of the declared levels 1, 2, 3, 4, 5');
    expect(thrown(() => parseRatings('1\t2\t4.5\n', named), FormatError).message).to.match(/line 1: rating 4.5 is not one of the declared levels/);
    expect(thrown(() => parseRatings('1\t2\t3\n\n1\t2\n', named), FormatError).message).to.match(/line 3 has 2 fields; expected user, item, rating and an optional timestamp separated by tabs/);
    expect(thrown(() => parseRatings('1,2,3\n1,3,x\n', named), FormatError).message).to.match(/line 2: rating "x" is not a number/);
    expect(thrown(() => parseRatings('1,2,3,100\n1,3,4\n', named), FormatError).message).to.match(/line 2 has 3 fields but earlier lines have 4/);
    expect(thrown(() => parseRatings('1,2,3,t\n', named), FormatError).message).to.match(/line 1: timestamp "t" is not a number/);
    expect(thrown(() => parseRatings('7::9::3\n8::9::4\n7::9::5\n', named), FormatError).message).to.equal('u.data: line 3: user 7 rates item 9 again (first on line 1)');
    expect(thrown(() => parseRatings('\n\n', named), FormatError).message).to.equal('u.data: holds no ratings');
    expect(thrown(() => parseRatings('user,item,rating\n', named), FormatError).message).to.match(/header but no ratings/);
    expect(thrown(() => parseRatings('a,b,c\n', { header: false }), FormatError).message).to.match(/drop \{ header: false \}/);
    expect(thrown(() => parseRatings('1,2,3\n', { levels: [1] }), InvalidValueError).message).to.match(/at least two/);
    expect(thrown(() => parseRatings('1,2,3\n', { levels: [1, 2, 2] }), InvalidValueError).message).to.match(/listed twice/);
  });
});

describe('planted-taste ratings', function () {
  it('users of one taste agree up to the noise; item means carry little of it', function () {
    const s = plantedTastes({ users: 400, items: 30, tastes: 3, density: 0.5, fidelity: 0.8, rng: new CounterRng(3) });
    expect(s.ratings.length).to.be.within(5400, 6600); // 400 * 30 * 0.5 = 6000
    let exact = 0;
    for (let r = 0; r < s.ratings.length; r++) {
      const want = s.levels[s.planted[s.taste[s.users[r]!]! * 30 + s.items[r]!]!]!;
      expect(Math.abs(s.ratings[r]! - want)).to.be.at.most(1);
      if (s.ratings[r] === want) exact++;
    }
    expect(exact / s.ratings.length).to.be.within(0.77, 0.83);
    for (const x of s.ratings) expect(s.levels).to.include(x);
    const again = plantedTastes({ users: 400, items: 30, tastes: 3, density: 0.5, fidelity: 0.8, rng: new CounterRng(3) });
    expect(Array.from(again.ratings)).to.deep.equal(Array.from(s.ratings));
    expect(() => plantedTastes({ users: 4, items: 3, tastes: 2, density: 0, rng: new CounterRng(1) })).to.throw(InvalidValueError, /density/);
    expect(() => plantedTastes({ users: 4, items: 3, tastes: 2, density: 1, levels: [2, 1], rng: new CounterRng(1) })).to.throw(InvalidValueError, /ascending/);
  });
});
