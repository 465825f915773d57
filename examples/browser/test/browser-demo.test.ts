/**
 * The browser demo end to end in headless Chromium: the page trains a small RBM on a slice of the
 * digits on WebGPU (SwiftShader here), the reconstruction error falls, pause/resume works, the
 * downloaded model file loads in Node on the CPU backend and gives the same free energies as the
 * page computed on WebGPU, and a screenshot is written (its path is printed). The page's WebGL2
 * and CPU paths then train the same run to the same errors.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CpuBackend } from '@boltzmann/backend-cpu';
import { RBM, decodeModel } from '@boltzmann/core';
import { loadDigits } from '@boltzmann/data';
import { launchChromium, type PageServer } from '../../../test/browser/harness.js';
import { startDemoServer } from '../src/server.js';
import type { DemoState } from '../src/page.js';

type DemoWindow = { __demo?: DemoState };

describe('examples/browser: an RBM trained in headless Chromium', function () {
  this.timeout(300_000);
  let browser: Browser | undefined;
  let server: PageServer | undefined;
  let page: Page | undefined;
  const ROWS = 300;
  const EPOCHS = 4;
  const query = `rows=${ROWS}&hidden=32&batch=20&seed=3&sampleSteps=10`;
  /** The WebGPU run's error per epoch, for the other backends to match. */
  let webGpuErrors: number[] = [];

  before(async function () {
    server = await startDemoServer({ digits: ROWS });
    browser = await launchChromium();
    page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1200, height: 520 } });
  });

  after(async function () {
    await browser?.close();
    await server?.close();
  });

  it('trains on WebGPU, the error falls, pause holds it, and the downloaded model gives the same free energies in Node', async function () {
    const p = page!;
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(server!.url(`index.html?backend=webgpu&epochs=${EPOCHS}&${query}`));
    const demo = async <T>(f: string): Promise<T> => p.evaluate(`globalThis.__demo && globalThis.__demo.${f}`) as Promise<T>;
    const until = async (what: string, condition: string): Promise<void> => {
      const deadline = Date.now() + 240_000;
      while (!(await p.evaluate(`Boolean(globalThis.__demo && (${condition}))`))) {
        if (errors.length > 0 || (await demo<string | undefined>('failure'))) throw new Error(`the page failed while waiting for ${what}: ${[...errors, await demo('failure')].join('; ')}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; status: ${await p.textContent('#status')}`);
        await p.waitForTimeout(200);
      }
    };
    // pause once the first epoch is in: the loop stops at the next epoch boundary and stays there
    await until('the first epoch', 'globalThis.__demo.epochs >= 1');
    await p.click('#pause');
    await until('the pause', 'globalThis.__demo.waiting');
    const pausedAt = await demo<number>('epochs');
    await p.waitForTimeout(2000);
    expect(await demo<number>('epochs'), 'epochs run while paused').to.equal(pausedAt);
    expect(await p.textContent('#pause')).to.equal('Resume');
    expect(await p.textContent('#status')).to.contain('paused');
    await p.click('#pause');
    await until('the end of training', 'globalThis.__demo.done');

    const state = await p.evaluate(() => {
      const d = (globalThis as unknown as DemoWindow).__demo!;
      return { backend: d.backend, errors: d.errors, failure: d.failure };
    });
    expect(state.failure, `the page failed; page errors: ${errors.join('; ')}`).to.equal(undefined);
    expect(state.backend).to.match(/^WebGPU/);
    expect(await p.textContent('#backend')).to.contain('WebGPU');
    expect(state.errors).to.have.length(EPOCHS);
    webGpuErrors = state.errors;
    for (let e = 1; e < EPOCHS; e++) expect(state.errors[e]!, `errors per epoch ${state.errors.join(', ')}`).to.be.below(state.errors[e - 1]!);

    const shot = path.join(mkdtempSync(path.join(os.tmpdir(), 'boltzmann-browser-')), 'demo.png');
    writeFileSync(shot, await p.screenshot({ fullPage: true }));
    console.log(`      screenshot: ${shot}`);

    const [download] = await Promise.all([p.waitForEvent('download'), p.click('#download')]);
    expect(download.suggestedFilename()).to.equal('rbm-digits.json');
    const bytes = readFileSync((await download.path())!);
    const inPage = await p.evaluate(() => (globalThis as unknown as DemoWindow).__demo!.freeEnergies(40));

    const cpu = new CpuBackend({ precision: 'float32' });
    const { model } = decodeModel(bytes, cpu, 'the downloaded model');
    expect(model).to.be.instanceOf(RBM);
    const digits = loadDigits({ split: 'train', count: 40 }).images;
    const inNode = await (model as RBM).freeEnergyOf(digits);
    expect(inNode.length).to.equal(40);
    for (let i = 0; i < 40; i++) {
      expect(inNode[i]!, `free energy of digit ${i}`).to.be.closeTo(inPage[i]!, 1e-4 * (1 + Math.abs(inPage[i]!)));
    }
    cpu.destroy();
  });

  it('the WebGL2 and CPU paths train the same run: the same error per epoch as on WebGPU (same seed, same random streams)', async function () {
    expect(webGpuErrors, 'the WebGPU run').to.have.length(EPOCHS);
    for (const backend of ['webgl2', 'cpu']) {
      const p = await browser!.newPage();
      try {
        await p.goto(server!.url(`index.html?backend=${backend}&epochs=2&${query}`));
        await p.waitForFunction(() => (globalThis as unknown as DemoWindow).__demo?.done === true, undefined, { timeout: 120_000, polling: 200 });
        const state = await p.evaluate(() => {
          const d = (globalThis as unknown as DemoWindow).__demo!;
          return { backend: d.backend, errors: d.errors, failure: d.failure };
        });
        expect(state.failure, backend).to.equal(undefined);
        expect(state.backend, backend).to.match(backend === 'cpu' ? /^CPU/ : /WebGL2/);
        for (let e = 0; e < 2; e++) expect(state.errors[e]!, `${backend} epoch ${e + 1}`).to.be.closeTo(webGpuErrors[e]!, 1e-4 * webGpuErrors[e]!);
      } finally {
        await p.close();
      }
    }
  });
});
