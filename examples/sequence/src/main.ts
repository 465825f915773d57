/** Learns the words of words.ts and completes them from their first letters: `npx tsx examples/sequence/src/main.ts`. */
import { learnWords } from './words.js';

const completions = await learnWords();
const right = completions.filter((c) => c.completed === c.target).length;
console.log(`${right} of ${completions.length} words completed`);
