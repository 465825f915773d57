/** Runs the example at full size: `npx tsx examples/csp/src/main.ts`. */
import { runCsp } from './csp.js';

runCsp();
