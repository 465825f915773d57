/**
 * `npm run demo`: serves the browser demo and prints its address; open it in a browser with
 * WebGPU (Chrome, Edge) or WebGL2. Ctrl-C stops it.
 */
import { startDemoServer } from './server.js';

const server = await startDemoServer({ digits: 2000 });
console.log(`boltzmann.ts browser demo: ${server.url('index.html')}`);
console.log('options: ?backend=webgpu|webgl2|cpu&hidden=100&epochs=20&batch=50&rows=2000&seed=1');
