/**
 * `npm run demo`: serves the browser demo and prints its address; open it in a browser with
 * WebGPU (Chrome, Edge) or WebGL2. PORT=8080 picks the port (default: any free one). Ctrl-C stops it.
 */
import { startDemoServer } from './server.js';

const port = Number(process.env.PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer in [0, 65535], got ${process.env.PORT}`);
const server = await startDemoServer({ digits: 2000, port });
console.log(`boltzmann.ts browser demo: ${server.url('index.html')}`);
console.log('options: ?backend=webgpu|webgl2|cpu&hidden=100&epochs=20&batch=50&rows=2000&seed=1');
