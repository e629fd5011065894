/**
 * The browser suite (issue #6): Debian's Chromium, headless, driven by playwright-core, on
 * pages served by scripts/serve-web.ts. SwiftShader (Chromium's CPU renderer) stands in for
 * a GPU here, so the numbers are a GPU mode's and the speed is not (../shared/GPUJS.md).
 *
 *  1. test/browser/checks.html: on webgl2 and on webgpu, every kernel check of
 *     test/kernel-checks.ts (every family and pass of kernels/registry.ts against its
 *     float64 reference, and the gradchecks), and a small VGG-A's logits, loss and
 *     gradients against the cpu mode (test/browser/checks.ts);
 *  2. the library bundle's train.fit in a page, on webgl2: two steps on a tiny net, stopped by
 *     an AbortSignal from onStep, and outDir refused (a ValueError);
 *  3. the playground (examples/web/) on webgl2 and on webgpu: a few SGD steps on 8 digits
 *     lower their loss, the page paints between steps, a digit drawn with the mouse gets
 *     three guesses; screenshots go to test-results/browser-playground.png (webgl2) and
 *     test-results/browser-playground-webgpu.png.
 *
 * Without chromium (or without dist/web/, which `npm run build` makes) the suite prints a
 * '# skipped' line, unless VERYDEEP_REQUIRE_BROWSER=1 (CI): then it fails.
 */
import test from 'tape';
import type { Test } from 'tape';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serveWeb, WEB_ROOTS, REPO_ROOT } from '../scripts/serve-web.js';
import { checks, type CheckRecord } from './helpers.js';
import { KERNEL_FAMILIES } from '../kernels/registry.js';
import type { CheckReport } from './browser/checks.js';
import type { Mode } from '../lib/core/backend.js';

export const CHROMIUM = process.env.VERYDEEP_CHROMIUM ?? '/usr/bin/chromium';

/** The flags that run WebGL 2 and WebGPU on SwiftShader in a headless Chromium (../shared/GPUJS.md). */
export const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu',
];

const GPU_MODES: Mode[] = ['webgl2', 'webgpu'];
/** SGD steps the playground test runs on each mode (batch 8, the first 8 training digits) */
const STEPS = 5;
const RESULTS = join(REPO_ROOT, 'test-results');

/** Why the suite cannot run here, or null. */
function missing(): string | null {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium; scripts/setup.mjs does it as root; VERYDEEP_CHROMIUM=path for another)`;
  const built = ['verydeep.browser.js', 'playground.js', 'kernel-checks.js', 'mnist-digits.bin'];
  const absent = built.filter((f) => !existsSync(join(REPO_ROOT, 'dist/web', f)));
  if (absent.length) return `dist/web/ lacks ${absent.join(', ')} (npm run build makes them)`;
  return null;
}

/** Fails the test on anything the page throws or logs as an error (a missing favicon aside). */
function watchErrors(t: Test, page: Page, where: string): void {
  page.on('pageerror', (e) => t.fail(`${where}: the page threw: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('404')) t.fail(`${where}: console error: ${m.text()}`);
  });
}

export function registerBrowserTests(): void {
  const why = missing();
  if (why) {
    if (process.env.VERYDEEP_REQUIRE_BROWSER === '1') {
      test('browser suite', (t) => {
        t.fail(`VERYDEEP_REQUIRE_BROWSER=1, but the browser suite cannot run: ${why}`);
        t.end();
      });
    } else {
      console.log(`# skipped: the browser suite: ${why}`);
    }
    return;
  }

  let browser: Browser | null = null;
  let server: { url: string; close: () => Promise<void> } | null = null;
  const started = Date.now();

  test('browser: Chromium starts and the pages are served', async (t) => {
    server = await serveWeb({ roots: [...WEB_ROOTS, join(REPO_ROOT, 'test/browser')], port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    t.pass(`Chromium ${browser.version()} (${CHROMIUM}), pages on ${server.url}`);
  });

  const reports = new Map<string, CheckReport>();
  test('[browser] the kernel checks and a VGG-A forward and backward, on webgl2 and webgpu in Chromium', async (t) => {
    if (!browser || !server) return t.fail('Chromium did not start');
    const page = await browser.newPage();
    watchErrors(t, page, 'checks.html');
    await page.goto(server.url + 'checks.html');
    await page.waitForFunction(() => 'verydeepChecks' in window, null, { timeout: 60_000 });
    for (const mode of GPU_MODES) {
      for (const kind of ['kernels', 'network'] as const) {
        const report = await page.evaluate(([k, m]) => (window as any).verydeepChecks[k](m), [kind, mode] as const) as CheckReport;
        reports.set(`${kind} ${mode}`, report);
        t.equal(report.backend.mode, mode, `${kind} on ${mode} in Chromium: ${report.backend.reason}; ${report.assertions.length} assertions in ${report.seconds.toFixed(1)} s`);
        const calls = mode === 'webgl2' ? report.gpuCalls.webgl2Draws : report.gpuCalls.webgpuDispatches;
        const other = mode === 'webgl2' ? report.gpuCalls.webgpuDispatches : report.gpuCalls.webgl2Draws;
        t.ok(calls > 0 && other === 0, `${kind} on ${mode}: the kernels reached ${mode === 'webgl2' ? 'WebGL 2 (drawArrays)' : 'WebGPU (dispatchWorkgroups)'} ${calls} times, the other API ${other} times`);
        for (const a of report.assertions) t.ok(a.ok, `[${mode} in Chromium] ${a.test}: ${a.name}`);
        // the runner prints the largest error per mode, family and pass, and writes them all to test-results/
        checks.push(...report.checks.filter((c: CheckRecord) => c.mode === mode));
      }
    }
    await page.close();
  });

  test('[browser] every kernel family and pass was checked on webgl2 and webgpu', (t) => {
    for (const mode of GPU_MODES) {
      const report = reports.get(`kernels ${mode}`);
      for (const f of KERNEL_FAMILIES) {
        for (const p of f.passes) {
          const n = report?.checks.filter((c) => c.mode === mode && c.family === f.family && c.pass === p.pass).length ?? 0;
          t.ok(n > 0, `${f.family} / ${p.pass} on ${mode} in Chromium: ${n} checks`);
        }
      }
    }
    t.end();
  });

  test('[browser webgl2] train.fit in a page: 2 steps with onStep, stopped by an AbortSignal; outDir is a ValueError', async (t) => {
    if (!browser || !server) return t.fail('Chromium did not start');
    const page = await browser.newPage();
    watchErrors(t, page, 'train.fit in checks.html');
    await page.goto(server.url + 'checks.html');
    const r = await page.evaluate(async () => {
      // the library as a page imports it (a variable: tsc is not to resolve it from test/)
      const bundle = './verydeep.browser.js';
      const v = await import(bundle);
      await v.setBackend('webgl2');
      const K = 3;
      const net = new v.nn.Sequential(new v.nn.Conv2d(1, 4, 3, { init: 'glorot', seed: 1 }), new v.nn.ReLU(), new v.nn.MaxPool2d(2), new v.nn.Flatten(),
        new v.nn.Linear(64, K, { init: 'glorot', seed: 2 }));
      // class k lights row band k of an 8×8 image
      const set = (n: number) => {
        const images = new Float32Array(n * 64), labels = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          labels[i] = i % K;
          for (let p = 0; p < 64; p++) images[i * 64 + p] = Math.floor((Math.floor(p / 8) * K) / 8) === labels[i] ? 1 : 0;
        }
        return new v.ArrayDataset('toy', images, labels, [1, 8, 8], K);
      };
      const controller = new AbortController();
      const losses: number[] = [];
      const result = await v.train.fit({
        model: net, trainSet: set(12), validationSet: set(6), epochs: 3, batchSize: 4, lr: 0.05, seed: 7, log: () => {}, signal: controller.signal,
        onStep: (s: { loss: number }) => { if (losses.push(s.loss) === 2) controller.abort(); },
      });
      let refused = '';
      try {
        await v.train.fit({ model: net, trainSet: set(12), validationSet: set(6), epochs: 1, batchSize: 4, outDir: 'runs/x' });
      } catch (e) {
        refused = `${(e as Error).name}: ${(e as Error).message}`;
      }
      return { mode: v.getBackend(), aborted: result.aborted, stepsRun: result.stepsRun, losses, refused };
    });
    t.ok(r.mode === 'webgl2' && r.aborted && r.stepsRun === 2 && r.losses.length === 2 && r.losses.every(Number.isFinite),
      `on ${r.mode}: aborted ${r.aborted} after ${r.stepsRun} steps, losses ${r.losses.map((l) => l.toFixed(4)).join(', ')}`);
    t.ok(/^ValueError: train\.fit: expected no outDir in a browser/.test(r.refused), `outDir in a page: ${r.refused}`);
    await page.close();
  });

  for (const mode of GPU_MODES) {
    test(`[browser ${mode}] the playground: ${STEPS} SGD steps lower the loss, the page paints between steps, a drawn digit gets three guesses`, async (t) => {
      if (!browser || !server) return t.fail('Chromium did not start');
      const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
      watchErrors(t, page, `the playground on ${mode}`);
      await page.goto(`${server.url}?mode=${mode}&limit=8&batch=8&autostart=0`);
      await page.evaluate(() => (window as any).playground.ready);
      t.equal(await page.evaluate(() => (window as any).playground.mode), mode, `the playground runs on ${mode}`);
      const banner = await page.locator('#mode').innerText();
      t.ok(banner.startsWith(`Running on ${mode} `), `the page says which mode it runs on: "${banner}"`);

      const before = await page.evaluate(() => (window as any).playground.trainingLoss()) as number;
      const run = await page.evaluate(async (n) => {
        // counts the frames the page paints while it trains: it must yield between steps
        let frames = 0, counting = true;
        const tick = () => {
          frames++;
          if (counting) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
        const t0 = performance.now();
        const losses = await (window as any).playground.steps(n) as number[];
        counting = false;
        return { losses, frames, seconds: (performance.now() - t0) / 1000 };
      }, STEPS);
      const after = await page.evaluate(() => (window as any).playground.trainingLoss()) as number;
      t.ok(after < 0.95 * before, `loss on the 8 training digits (eval mode): ${before.toFixed(4)} before, ${after.toFixed(4)} after ${STEPS} steps ` +
        `(step losses ${run.losses.map((l) => l.toFixed(3)).join(', ')}; ${(run.seconds / STEPS).toFixed(1)} s a step on SwiftShader)`);
      t.ok(run.frames >= STEPS, `the page painted ${run.frames} frames during ${STEPS} steps: it yields between steps`);

      t.ok(await page.locator('#curve svg').count() === 1, 'the loss curve is drawn (vega-lite SVG)');
      t.equal(await page.locator('#activations canvas').count(), 5, 'the activations of the five conv blocks are drawn');
      const box = (await page.locator('#pad').boundingBox())!;
      await page.mouse.move(box.x + 140, box.y + 45);
      await page.mouse.down();
      await page.mouse.move(box.x + 140, box.y + 235, { steps: 12 }); // a "1"
      await page.mouse.up();
      await page.waitForFunction(() => document.querySelectorAll('#guesses li').length === 3, null, { timeout: 60_000 });
      const guesses = await page.locator('#guesses').innerText();
      t.pass(`a digit drawn on the pad gets three guesses: ${guesses.replace(/\s+/g, ' ')}`);
      await page.evaluate(() => (window as any).playground.pause());

      mkdirSync(RESULTS, { recursive: true });
      const shot = join(RESULTS, mode === 'webgl2' ? 'browser-playground.png' : `browser-playground-${mode}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      t.ok(existsSync(shot), `screenshot: ${shot.slice(REPO_ROOT.length + 1)}`);
      await page.close();
    });
  }

  test('browser: Chromium and the server stop', async (t) => {
    await (browser as Browser | null)?.close();
    await server?.close();
    t.pass(`the browser suite took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
}
