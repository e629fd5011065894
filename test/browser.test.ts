/**
 * The browser suite (issue #6): Debian's Chromium, headless, driven by playwright-core, on
 * pages served by scripts/serve-web.ts. SwiftShader (Chromium's CPU renderer) stands in for
 * a GPU here, so the numbers are a GPU mode's and the speed is not (../shared/GPUJS.md).
 *
 *  1. test/browser/checks.html: on webgl2, webgpu and wasm, every kernel check of
 *     test/kernel-checks.ts (every family and pass of kernels/registry.ts against its
 *     float64 reference, and the gradchecks), and a small VGG-A's logits, loss and
 *     gradients against the cpu mode (test/browser/checks.ts);
 *  2. the library bundle's train.fit in a page, on webgl2: two steps on a tiny net, stopped by
 *     an AbortSignal from onStep, and outDir refused (a ValueError);
 *  3. the playground (examples/web/) on webgl2, webgpu and wasm: a few SGD steps on 8 digits
 *     lower their loss, the page paints between steps, a digit drawn with the mouse gets
 *     three guesses; screenshots go to test-results/browser-playground.png (webgl2) and
 *     test-results/browser-playground-<mode>.png;
 *  4. the playground's speed on wasm (issue #17's floor: at least WASM_FLOOR images/s, the
 *     figure printed), on a cross-origin isolated page (Web Workers share the memory) and on
 *     one served without COOP/COEP (one thread, and the page's note says so);
 *  5. setBackend('auto') in the playground: it measures every mode, picks the fastest of its
 *     figures, shows them, and a second 'auto' in the page reuses them; a mode that cannot
 *     run (?mode=headlessgl) is named, with why, instead of another running.
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
/** the modes the kernel checks and the playground test run on in Chromium */
const PAGE_MODES: Mode[] = [...GPU_MODES, 'wasm'];
/** issue #17: the playground trains at least this many images a second on wasm in headless Chromium here */
const WASM_FLOOR = 100;
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
export function watchErrors(t: Test, page: Page, where: string): void {
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
  test('[browser] the kernel checks and a VGG-A forward and backward, on webgl2, webgpu and wasm in Chromium', async (t) => {
    if (!browser || !server) return t.fail('Chromium did not start');
    const page = await browser.newPage();
    watchErrors(t, page, 'checks.html');
    await page.goto(server.url + 'checks.html');
    await page.waitForFunction(() => 'verydeepChecks' in window, null, { timeout: 60_000 });
    for (const mode of PAGE_MODES) {
      for (const kind of ['kernels', 'network'] as const) {
        const report = await page.evaluate(([k, m]) => (window as any).verydeepChecks[k](m), [kind, mode] as const) as CheckReport;
        reports.set(`${kind} ${mode}`, report);
        t.equal(report.backend.mode, mode, `${kind} on ${mode} in Chromium: ${report.backend.reason}; ${report.assertions.length} assertions in ${report.seconds.toFixed(1)} s`);
        if (mode === 'wasm') {
          const { webgl2Draws, webgpuDispatches } = report.gpuCalls;
          const notWasm = Object.entries(report.backend.kernels).filter(([, by]) => by !== 'wasm').map(([name]) => name);
          t.ok(webgl2Draws === 0 && webgpuDispatches === 0 && notWasm.length === 0,
            `${kind} on wasm: every kernel is the fast path's (${notWasm.join(', ') || 'none'} not), no GPU call (${webgl2Draws} draws, ${webgpuDispatches} dispatches)`);
        } else {
          const calls = mode === 'webgl2' ? report.gpuCalls.webgl2Draws : report.gpuCalls.webgpuDispatches;
          const other = mode === 'webgl2' ? report.gpuCalls.webgpuDispatches : report.gpuCalls.webgl2Draws;
          t.ok(calls > 0 && other === 0, `${kind} on ${mode}: the kernels reached ${mode === 'webgl2' ? 'WebGL 2 (drawArrays)' : 'WebGPU (dispatchWorkgroups)'} ${calls} times, the other API ${other} times`);
        }
        for (const a of report.assertions) t.ok(a.ok, `[${mode} in Chromium] ${a.test}: ${a.name}`);
        // the runner prints the largest error per mode, family and pass, and writes them all to test-results/
        checks.push(...report.checks.filter((c: CheckRecord) => c.mode === mode));
      }
    }
    await page.close();
  });

  test('[browser] every kernel family and pass was checked on webgl2, webgpu and wasm', (t) => {
    for (const mode of PAGE_MODES) {
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

  for (const mode of PAGE_MODES) {
    test(`[browser ${mode}] the playground: ${STEPS} SGD steps lower the loss, the page paints between steps, a drawn digit gets three guesses`, async (t) => {
      if (!browser || !server) return t.fail('Chromium did not start');
      const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
      watchErrors(t, page, `the playground on ${mode}`);
      await page.goto(`${server.url}?mode=${mode}&limit=8&batch=8&autostart=0`);
      await page.evaluate(() => (window as any).playground.ready);
      t.equal(await page.evaluate(() => (window as any).playground.mode), mode, `the playground runs on ${mode}`);
      const banner = await page.locator('#mode').innerText();
      t.ok(banner.startsWith(`Running on ${mode} `), `the page says which mode it runs on: "${banner}"`);

      // wasm's first steps fill the storage pool and draw the first charts, ~0.6 s without a
      // frame; its later steps take less than a frame, so the frames are counted after them
      if (mode === 'wasm') await page.evaluate(() => (window as any).playground.steps(3));
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
        `(step losses ${run.losses.map((l) => l.toFixed(3)).join(', ')}; ${(run.seconds / STEPS).toFixed(2)} s a step${mode === 'wasm' ? '' : ' on SwiftShader'})`);
      // a frame per step, or, where steps are shorter than frames (wasm), at least 4 frames a second
      const frames = Math.min(STEPS, Math.floor(run.seconds * 4));
      t.ok(run.frames >= frames, `the page painted ${run.frames} frames during ${STEPS} steps (${run.seconds.toFixed(2)} s; at least ${frames}): it yields between steps`);

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

  // issue #17's floor, on the page as a visitor gets it: batch 16, every training digit, the
  // page redrawing once a second; the figure is the wall clock over the timed steps
  for (const isolated of [true, false]) {
    test(`[browser wasm] the playground trains at ${WASM_FLOOR} images/s or more on wasm, ${isolated ? 'cross-origin isolated (Web Workers)' : 'on a page served without COOP/COEP (one thread, and a note)'}`, async (t) => {
      if (!browser) return t.fail('Chromium did not start');
      const site = isolated ? server : await serveWeb({ port: 0, isolated: false });
      if (!site) return t.fail('no server');
      const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
      watchErrors(t, page, `the playground on wasm${isolated ? '' : ', not isolated'}`);
      await page.goto(`${site.url}?mode=wasm&batch=16&autostart=0`);
      await page.evaluate(() => (window as any).playground.ready);
      const banner = await page.locator('#mode').innerText();
      const threads = Number(/(\d+) threads?/.exec(banner)?.[1]);
      const noteShown = await page.locator('#isolation').isVisible();
      t.equal(await page.evaluate(() => crossOriginIsolated), isolated, `the page is ${isolated ? '' : 'not '}cross-origin isolated`);
      if (isolated) t.ok(threads >= 2 && !noteShown, `isolated: the fast path runs ${threads} threads, and no note shows: "${banner}"`);
      else t.ok(threads === 1 && noteShown && /not cross-origin isolated/.test(banner), `not isolated: one thread, and the page says why: "${banner}"`);
      const r = await page.evaluate(async () => {
        const pg = (window as any).playground;
        await pg.steps(10); // warm: the pool fills, the kernels tier up
        const t0 = performance.now();
        const losses = await pg.steps(60) as number[];
        return { seconds: (performance.now() - t0) / 1000, losses, stepsOnly: pg.imagesPerSecond() as number };
      });
      const ips = (60 * 16) / r.seconds;
      t.ok(r.losses.every(Number.isFinite), `60 steps, losses finite (last ${r.losses[r.losses.length - 1].toFixed(3)})`);
      t.ok(ips >= WASM_FLOOR, `the playground on wasm${isolated ? '' : ', not isolated,'} trains ${ips.toFixed(0)} images/s (at least ${WASM_FLOOR}; ` +
        `${r.stepsOnly.toFixed(0)} images/s counting the steps alone, as the page's stats line does; ${threads} thread${threads === 1 ? '' : 's'})`);
      await page.close();
      if (!isolated) await site.close();
    });
  }

  test('[browser] auto in the playground: measures every mode, runs the fastest of its figures, shows them, reuses them; an unavailable mode is named, not replaced', async (t) => {
    if (!browser || !server) return t.fail('Chromium did not start');
    const page = await browser.newPage();
    watchErrors(t, page, 'the playground on auto');
    const t0 = Date.now();
    await page.goto(`${server.url}?autostart=0`);
    await page.evaluate(() => (window as any).playground.ready);
    const info = await page.evaluate(() => (window as any).playground.info) as { mode: Mode; reason: string; measured?: Partial<Record<Mode, number>> };
    const measured = Object.entries(info.measured ?? {}) as [Mode, number][];
    const fastest = measured.reduce<[Mode, number] | null>((best, m) => (best && best[1] <= m[1] ? best : m), null);
    t.ok(measured.length >= 3, `auto measured ${measured.length} modes: ${measured.map(([m, ms]) => `${m} ${ms.toFixed(2)} ms`).join(', ')} (the page was ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    t.equal(info.mode, fastest?.[0], `auto runs the fastest of its figures: ${info.reason}`);
    for (const [m, ms] of measured) t.ok(info.reason.includes(`${m} ${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`), `the reason gives ${m}'s figure`);
    const probeLine = await page.locator('#probe').innerText();
    t.ok(measured.every(([m]) => probeLine.includes(m)), `the page shows the figures: "${probeLine}"`);
    const again = await page.evaluate(async () => {
      const bundle = './verydeep.browser.js'; // the page's own instance of the library
      const v = await import(bundle);
      const t1 = performance.now();
      const i = await v.setBackend('auto');
      return { mode: i.mode, reason: i.reason as string, ms: performance.now() - t1 };
    });
    t.ok(again.mode === info.mode && /measured once for this page \(cached\)/.test(again.reason), `a second auto reuses the figures (${again.ms.toFixed(0)} ms): ${again.reason}`);
    await page.close();

    const refused = await browser.newPage();
    await refused.goto(`${server.url}?mode=headlessgl&autostart=0`);
    const error = await refused.evaluate(() => (window as any).playground.ready.then(() => null, (e: Error) => `${e.name}: ${e.message}`));
    const line = await refused.locator('#mode').innerText();
    t.ok(/^BackendError: /.test(error ?? '') && line.startsWith('Cannot run on headlessgl: '), `?mode=headlessgl is refused and named: "${line}"`);
    await refused.close();
  });

  test('browser: Chromium and the server stop', async (t) => {
    await (browser as Browser | null)?.close();
    await server?.close();
    t.pass(`the browser suite took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
}
