import { CpuBackend } from '@boltzmann/backend-cpu';
import { ConditionalRBM } from '@boltzmann/core';
import { InvalidValueError, Matrix } from '@boltzmann/tensor';

/** The words of `main.ts`: every 3-letter context inside them has one next letter. */
export const WORDS = ['SCIENCE', 'SCHOOL', 'SCALE', 'MACHINE', 'LEARNING', 'ENERGY', 'NETWORK', 'BOLTZMANN', 'MEMORY', 'SEQUENCE'];

/** Marks the start (as padding) and the end of a word. */
export const BOUNDARY = '.';

/** Options of {@link learnWords}. */
export interface WordsOptions {
  words?: string[];
  /** Letters of memory (the CRBM's order); default 3. */
  order?: number;
  hidden?: number;
  epochs?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** One completion: the prefix given and the word the model wrote. */
export interface Completion {
  prefix: string;
  completed: string;
  target: string;
}

/** One-hot letter codes over an alphabet. */
export class Alphabet {
  readonly letters: string[];

  constructor(words: readonly string[]) {
    this.letters = [BOUNDARY, ...[...new Set(words.join(''))].sort()];
  }

  /** A word as a sequence of one-hot frames (rows). */
  encode(text: string): Matrix {
    const m = Matrix.zeros(text.length, this.letters.length);
    [...text].forEach((ch, t) => {
      const k = this.letters.indexOf(ch);
      if (k < 0) throw new InvalidValueError(`letter "${ch}" is not in the alphabet ${this.letters.join('')}`);
      m.set(t, k, 1);
    });
    return m;
  }

  /** One-hot frames back to text. */
  decode(frames: Matrix): string {
    let out = '';
    for (let t = 0; t < frames.rows; t++) out += this.letters[frames.row(t).indexOf(1)] ?? '?';
    return out;
  }
}

/**
 * Trains a conditional RBM on words written letter by letter (one-hot softmax frames, padded
 * with `order` boundary marks in front and one behind) and completes each word from its first
 * `order` letters, stopping at the boundary mark.
 */
export async function learnWords(options: WordsOptions = {}): Promise<Completion[]> {
  const log = options.log ?? console.log;
  const words = options.words ?? WORDS;
  const order = options.order ?? 3;
  const alphabet = new Alphabet(words);
  const pad = BOUNDARY.repeat(order);
  const sequences = words.map((w) => alphabet.encode(`${pad}${w}${BOUNDARY}`));
  const k = alphabet.letters.length;
  const crbm = ConditionalRBM.create(new CpuBackend({ precision: 'float32' }), {
    visible: { type: 'multinomial', size: k, groupSize: k },
    hidden: options.hidden ?? 40,
    order,
    weightStd: 0.1,
    seed: options.seed ?? 1,
  });
  log(`${words.length} words, ${k} symbols, memory ${order} letters`);
  await crbm.fit(sequences, { epochs: options.epochs ?? 300, learningRate: 0.1, batchSize: 20, seed: options.seed ?? 1 });
  const completions: Completion[] = [];
  for (const target of words) {
    const prefix = target.slice(0, order);
    const longest = Math.max(...words.map((w) => w.length)) + 2;
    const frames = await crbm.generate(alphabet.encode(prefix), longest - prefix.length);
    const text = alphabet.decode(frames);
    const end = text.indexOf(BOUNDARY);
    const completed = end < 0 ? text : text.slice(0, end);
    completions.push({ prefix, completed, target });
    log(`${prefix} -> ${completed}${completed === target ? '' : `   (wanted ${target})`}`);
  }
  crbm.dispose();
  return completions;
}
