/** Runs the README's example at full size: `npx tsx examples/quickstart/src/main.ts`. */
import { mkdirSync } from 'node:fs';
import { quickstart } from './quickstart.js';

mkdirSync('out', { recursive: true });
await quickstart({ modelPath: 'out/quickstart-rbm.json' });
