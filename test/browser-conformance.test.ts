/**
 * The float64-reference conformance suite inside headless Chromium: the WGSL backend on WebGPU
 * (SwiftShader's Vulkan on the CPU here, a real GPU elsewhere) and gpu.js's WebGL2 mode. Each
 * in-page test is reported here as a test of its own, with its error.
 */
import { expect } from 'chai';
import Mocha from 'mocha';
import type { Browser } from 'playwright-core';
import { launchChromium, type PageServer } from './browser/harness.js';
import { runConformanceInPage, serveConformancePage, type Outcome } from './browser/run-suite.js';

describe('conformance in headless Chromium', function () {
  this.timeout(300_000);
  let browser: Browser | undefined;
  let server: PageServer | undefined;
  let runs: Promise<Map<string, { outcomes: Outcome[]; note: string }>> | undefined;

  before(async function () {
    server = await serveConformancePage();
    browser = await launchChromium();
    const b = browser;
    const s = server;
    // both pages at once: their shader compiles and kernels overlap
    const suites = ['webgpu', 'webgl2'];
    runs = Promise.all(suites.map((suite) => runConformanceInPage(b, s, suite, 280_000))).then((results) => new Map(results.map((r, i) => [suites[i]!, r])));
  });

  after(async function () {
    await browser?.close();
    await server?.close();
  });

  for (const [suite, expected] of [
    ['webgpu', 'WebGpuBackend (WGSL) on WebGPU'],
    ['webgl2', 'GpuBackend on gpu.js WebGL2'],
  ] as const) {
    describe(expected, function () {
      let outcomes: Outcome[] = [];
      before(async function () {
        const run = (await runs!).get(suite)!;
        outcomes = run.outcomes;
        const parent = this.test!.parent!;
        parent.title = `${expected} (${run.note})`;
        for (const o of outcomes) {
          const test = new Mocha.Test(o.title.replace(/^Backend conformance: /, ''), function () {
            if (o.state === 'failed') throw new Error(o.error);
          });
          if (o.state === 'pending') test.pending = true;
          parent.addTest(test);
        }
      });
      it('ran the whole suite in the page', function () {
        // the conformance suite has 74 tests at full size; fewer means the page stopped early
        expect(outcomes.length, outcomes.map((o) => o.title).join('\n')).to.be.at.least(60);
      });
    });
  }
});
