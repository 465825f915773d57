import { expect } from 'chai';
import { InvalidValueError } from '@boltzmann/tensor';
import { Alphabet, WORDS, learnWords } from '../src/words.js';

describe('examples/sequence', function () {
  it('completes words from their first three letters (SCI -> SCIENCE)', async function () {
    const lines: string[] = [];
    const completions = await learnWords({ epochs: 200, log: (l) => lines.push(l) });
    expect(completions.map((c) => c.target)).to.deep.equal(WORDS);
    // measured: 10 of 10 for seeds 1-4; chance of guessing a 4-7 letter ending is nil
    expect(completions.filter((c) => c.completed === c.target).length).to.be.at.least(9);
    expect(lines).to.include('SCI -> SCIENCE');
  });

  it('refuses letters outside the alphabet', function () {
    expect(() => new Alphabet(['AB']).encode('AC')).to.throw(InvalidValueError, /letter "C" is not in the alphabet/);
  });
});
