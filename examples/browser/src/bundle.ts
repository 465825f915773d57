/**
 * Bundles the page code with esbuild and serves it from a local HTTP server: what `npm run demo`
 * and the browser tests use. Nothing here is needed in the page itself.
 */
import { build, type Plugin } from 'esbuild';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * Node built-ins some packages import at module level for their Node-only paths (atomic file
 * writes, the CPU backend's native addon and worker threads, Dawn loading). In a page those paths
 * never run, so each resolves to a stub whose functions are missing (calling one throws) - except
 * the few that run at import time to name a path or count cores, which answer harmlessly.
 */
const nodeBuiltinsStub: Plugin = {
  name: 'node-builtins-stub',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(fs|fs\/promises|path|url|module|os|crypto|child_process|worker_threads|zlib|stream|util|readline|events)$/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({
      // CommonJS, so any named import is accepted; the names used at import time answer
      // harmlessly, the rest are undefined and throw where a Node-only path would call them
      contents: `module.exports = { sep: '/', fileURLToPath: (u) => String(u), availableParallelism: () => 1, cpus: () => [{}] };`,
      loader: 'js',
    }));
  },
};

/** Bundles `entry` (TypeScript, ESM) for the browser; returns the JavaScript. */
export async function bundle(entry: string, define: Record<string, string> = {}): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: false,
    logLevel: 'silent',
    // the packages' TypeScript sources, not their dist/ (which may be older than the sources)
    conditions: ['@boltzmann/source'],
    // Dawn is only imported in Node (a variable specifier); gpu.js's headless GL never loads in a page
    external: ['webgpu', 'gl'],
    // the CPU backend reads its switches from process.env; a page has none set
    define: { 'process.env.NODE_ENV': '"production"', 'process.env': '{}', ...define },
    plugins: [nodeBuiltinsStub],
  });
  return result.outputFiles[0]!.text;
}

/** A static server of in-memory files; `url(name)` is where each is. */
export interface PageServer {
  url(name: string): string;
  close(): Promise<void>;
}

/** Serves `files` (name -> contents) on 127.0.0.1 (a secure context, as WebGPU requires). */
export async function serve(files: Record<string, string | Uint8Array>, port = 0): Promise<PageServer> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.png': 'image/png' };
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]!.slice(1)) || 'index.html';
    const body = files[name];
    if (body === undefined) {
      res.writeHead(404).end(`not found: ${name}`);
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(name)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${bound}/${name}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

