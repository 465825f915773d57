/**
 * Node side of the in-browser conformance runs: serves mocha's browser build and the bundled
 * conformance page, opens it in Chromium for one suite and waits for the outcomes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { bundle, serve, type PageServer } from './harness.js';

/** One in-page test's result. */
export interface Outcome {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  error?: string;
  ms: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** Serves the conformance page (mocha + the bundled suite). */
export async function serveConformancePage(): Promise<PageServer> {
  const require = createRequire(import.meta.url);
  const mocha = readFileSync(require.resolve('mocha/mocha.js'), 'utf8');
  const suite = await bundle(path.join(here, 'conformance-page.ts'));
  const html = '<!doctype html><meta charset="utf-8"><title>conformance</title><div id="mocha"></div><script src="mocha.js"></script><script type="module" src="suite.js"></script>';
  return serve({ 'index.html': html, 'mocha.js': mocha, 'suite.js': suite });
}

/** Runs one suite ("webgpu" or "webgl2") in a fresh page; the outcomes and what the page said about its backend. */
export async function runConformanceInPage(browser: Browser, server: PageServer, suite: string, timeoutMs: number): Promise<{ outcomes: Outcome[]; note: string; console: string[] }> {
  const page = await browser.newPage();
  const console: string[] = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  try {
    await page.goto(server.url(`index.html?suite=${suite}`));
    await page.waitForFunction(() => (globalThis as unknown as { __done?: boolean }).__done === true, undefined, { timeout: timeoutMs, polling: 250 });
    const { outcomes, note } = await page.evaluate(() => {
      const w = globalThis as unknown as { __outcomes: Outcome[]; __backendNote?: string };
      return { outcomes: w.__outcomes, note: w.__backendNote ?? '' };
    });
    return { outcomes, note, console };
  } catch (e) {
    throw new Error(`${(e as Error).message.split('\n')[0]}; page console:\n${console.slice(-20).join('\n')}`);
  } finally {
    await page.close();
  }
}
