/**
 * Runs code in a real headless Chromium for the tests (pages are bundled and served by the
 * browser example's bundle.ts): launches the Chromium that the dev dependency
 * `@sparticuz/chromium` ships inside its npm package (no download step), with WebGPU on SwiftShader (Vulkan on the CPU) and WebGL2 on ANGLE/SwiftShader. Set
 * BOLTZMANN_CHROMIUM to use another Chromium binary instead (e.g. /usr/bin/chromium).
 */
import { chromium as playwright, type Browser } from 'playwright-core';

export { bundle, serve, type PageServer } from '../../examples/browser/src/bundle.js';

/** Flags that give headless Chromium a WebGPU adapter and WebGL2 without a GPU. */
export const GPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--no-sandbox',
  '--disable-quic',
  '--disable-background-networking',
];

/** The Chromium binary and the flags it needs here. */
async function chromiumCommand(): Promise<{ executablePath: string; args: string[] }> {
  const own = process.env.BOLTZMANN_CHROMIUM;
  if (own) return { executablePath: own, args: ['--headless=new'] };
  const { default: sparticuz } = await import('@sparticuz/chromium');
  const executablePath = await sparticuz.executablePath();
  // its own flags, minus its GL choice and its single-process mode (made for AWS Lambda's sandbox;
  // here it crashes the browser when a second page opens)
  const drop = ['--use-gl', '--use-angle', '--disable-webgl', '--single-process', '--in-process-gpu', '--headless'];
  const args = sparticuz.args.filter((a) => !drop.some((d) => a.startsWith(d)));
  return { executablePath, args };
}

/**
 * Launches headless Chromium with WebGPU and WebGL2 on SwiftShader (or, given `replace`, with
 * those flags instead of GPU_FLAGS: the benchmark's real-GPU run). Close it when done.
 */
export async function launchChromium(options: { replace?: string[] } = {}): Promise<Browser> {
  const { executablePath, args } = await chromiumCommand();
  return playwright.launch({ executablePath, args: [...args, ...(options.replace ?? GPU_FLAGS)], headless: true, timeout: 60_000 });
}
