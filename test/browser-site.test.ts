/**
 * The browser suite's part for issue #17: a CLI-trained model in the page, and the static site.
 *
 *  0. In Node, the bytes-only io the browser bundle has: io.encodeWeights gives the bytes
 *     io.saveSafetensors writes, io.encodeSafetensors round-trips a parsed file byte for byte,
 *     and io.loadWeightsFromBytes builds the model bit for bit and refuses a path and a
 *     truncated file with named errors.
 *  1. `verydeep train` (the CLI, ~15 s: VGG-A ×1/8, FC 32, one epoch of 4,000 digits, ~39% top-1)
 *     writes model.safetensors and labels.txt; the playground (on webgl2) loads them by URL
 *     (`?model=`), shows the configuration, the class names and the preprocessing, and for
 *     three validation digits and a digit drawn on the pad with the mouse its posteriors
 *     match Node's (io.loadWeights, the same input made by the panel's own digitInput) and
 *     its top class is Node's. The same weights saved by io.saveSafetensors with class names
 *     go in through the file picker (playwright's setInputFiles), and a truncated file is
 *     refused with a WeightsError shown on the page.
 *  2. `scripts/build-site.mjs --no-notebooks` into a temporary folder, served by a plain
 *     static server that sends no COOP/COEP header: the playground's service worker
 *     (coi-sw.js) makes the page crossOriginIsolated after its one reload, so that the wasm
 *     mode runs its Web Workers (2 threads or more) and trains, and every link of the site's
 *     index resolves.
 *
 * It skips with the browser suite (no Chromium, dist/web not built): test/run.ts registers it
 * in the 'browser' suite, after test/browser.test.ts.
 */
import test from 'tape';
import type { Test } from 'tape';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serveWeb, WEB_ROOTS, REPO_ROOT } from '../scripts/serve-web.js';
import { CHROMIUM, CHROMIUM_FLAGS, watchErrors } from './browser.test.js';
import { setBackend, getBackend } from '../lib/core/backend.js';
import { loadWeights } from '../lib/io/weights.js';
import { saveSafetensors, encodeWeights } from '../lib/io/model.js';
import { encodeSafetensors, parseSafetensors } from '../lib/io/safetensors-bytes.js';
import { loadWeightsFromBytes } from '../lib/io/weights-bytes.js';
import { Vgg } from '../lib/models/vgg.js';
import { ValueError, WeightsError } from '../lib/core/errors.js';
import { throwsNamed } from './helpers.js';
import { mnist } from '../lib/data/datasets.js';
import { digitInput } from '../examples/web/model-panel.js';

const execFileAsync = promisify(execFile);
/** largest |page − Node| of a posterior: webgl2 (SwiftShader) against wasm, float32 both */
const TOLERANCE = 1e-4;
const DIGITS = 3;

const argmax = (p: ArrayLike<number>) => Array.from(p).reduce((best, v, i, a) => (v > a[best] ? i : best), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** Registers the tests (none where the browser suite cannot run: it says why). */
export function registerSiteTests(): void {
  test('[browser site] io on bytes (the browser bundle\'s io): encodeWeights writes saveSafetensors\'s bytes, encodeSafetensors round-trips, loadWeightsFromBytes checks', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'verydeep-bytes-'));
    try {
      const model = Vgg.configA({ inputSize: 32, inputChannels: 1, numClasses: 10, widthMultiplier: 1 / 16, fcWidth: 16, seed: 3 });
      const options = { classes: [...'0123456789'], preprocessing: { channelOrder: 'gray' as const, range: '0-255' as const, mean: [33.4], std: [1] } };
      await saveSafetensors(model, join(dir, 'w.safetensors'), options);
      const file = readFileSync(join(dir, 'w.safetensors'));
      const bytes = await encodeWeights(model, options);
      t.ok(Buffer.from(bytes).equals(file), `io.encodeWeights gives the ${file.length} bytes io.saveSafetensors writes`);
      const parsed = parseSafetensors(bytes);
      t.ok(Buffer.from(encodeSafetensors(Object.fromEntries(parsed.tensors), parsed.metadata)).equals(file), 'parse then io.encodeSafetensors gives the same bytes back');
      const loaded = loadWeightsFromBytes(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, { name: 'w.safetensors' });
      const same = await Promise.all(model.parameters().map(async (p, i) => Buffer.from((await p.data()).buffer).equals(Buffer.from((await loaded.model.parameters()[i].data()).buffer))));
      t.ok(loaded.model.describe() === model.describe() && same.every(Boolean) && loaded.classes?.[9] === '9' && loaded.preprocessing.mean[0] === 33.4,
        `loadWeightsFromBytes (an ArrayBuffer) builds ${loaded.model.describe()}, every weight bit for bit, with its classes and preprocessing`);
      throwsNamed(t, () => loadWeightsFromBytes('w.safetensors' as unknown as Uint8Array), ValueError, [/io\.loadWeightsFromBytes: expected the file's bytes/], 'a path given to loadWeightsFromBytes');
      throwsNamed(t, () => loadWeightsFromBytes(bytes.subarray(0, 100), { name: 'cut.safetensors' }), WeightsError, [/io\.loadWeightsFromBytes: cut\.safetensors/], 'a truncated file');
      model.dispose();
      loaded.model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // test/browser.test.ts says why when the browser suite cannot run (and fails under VERYDEEP_REQUIRE_BROWSER=1)
  if (!existsSync(CHROMIUM) || !['verydeep.browser.js', 'playground.js', 'mnist-digits.bin'].every((f) => existsSync(join(REPO_ROOT, 'dist/web', f)))) return;
  const work = mkdtempSync(join(tmpdir(), 'verydeep-site-'));
  const run = join(work, 'run');
  let browser: Browser | null = null;
  let server: { url: string; close: () => Promise<void> } | null = null;
  let node: Awaited<ReturnType<typeof loadWeights>> | null = null;
  let previousMode: string | null = null;

  const nodePosteriors = async (pixels: ArrayLike<number>) => {
    const { model, preprocessing } = node!;
    const probs = model.predict(digitInput(pixels, model, preprocessing));
    const p = await probs.data();
    probs.dispose();
    return p;
  };

  test('[browser site] the CLI trains a small model; Chromium starts; the playground and the run folder are served', async (t) => {
    const t0 = performance.now();
    await execFileAsync(process.execPath, [join(REPO_ROOT, 'bin/verydeep.js'), 'train', '--config', 'A', '--data', 'mnist', '--width', '0.125', '--fc-width', '32',
      '--input', '32', '--epochs', '1', '--batch', '16', '--limit', '4000', '--dropout', '0', '--backend', 'wasm', '--seed', '1', '--out', run], { cwd: REPO_ROOT, timeout: 120_000 });
    t.ok(existsSync(join(run, 'model.safetensors')) && existsSync(join(run, 'labels.txt')),
      `verydeep train wrote model.safetensors and labels.txt in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    previousMode = getBackend();
    await setBackend('wasm');
    node = await loadWeights(join(run, 'model.safetensors'));
    // the same weights with class names in the file, for the file picker; and a truncated copy
    const names = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    await saveSafetensors(node.model, join(work, 'named.safetensors'), { preprocessing: node.preprocessing, classes: names });
    writeFileSync(join(work, 'broken.safetensors'), readFileSync(join(run, 'model.safetensors')).subarray(0, 5000));
    server = await serveWeb({ roots: [...WEB_ROOTS, run], port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    t.pass(`Chromium ${browser.version()}, pages on ${server.url}; Node's model: ${node.model.describe()}`);
  });

  test('[browser site webgl2] the playground loads the CLI-trained model.safetensors by URL and by file picker; its guesses are Node\'s', async (t) => {
    if (!browser || !server || !node) return t.fail('the set-up failed');
    const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
    watchErrors(t, page, 'the playground with ?model=');
    await page.goto(`${server.url}?mode=webgl2&limit=8&batch=8&autostart=0&model=model.safetensors`);
    await page.evaluate(() => (window as any).playground.ready);
    await page.evaluate(() => (window as any).modelPanel.ready);
    const info = await page.evaluate(() => (window as any).modelPanel.info);
    t.ok(info, `?model= loaded: ${info ? `${info.model}, ${info.parameters} parameters, in ${info.milliseconds} ms` : await page.locator('#model-error').innerText()}`);
    if (!info) return page.close();
    t.equal(info.model, node.model.describe(), 'the page built the model the file states (configuration, widths, classes)');
    t.deepEqual(info.preprocessing, node.preprocessing, `the file's preprocessing: ${JSON.stringify(info.preprocessing)}`);
    t.ok(info.classes[7] === 'digit 7' && /'classes' metadata/.test(info.classesFrom), `class names from the file the run wrote (its 'classes' metadata, as its labels.txt): ${info.classes.slice(0, 3).join(', ')}, … (${info.classesFrom})`);
    const shown = await page.locator('#model-info').innerText();
    t.ok(/VGG-A/.test(shown) && /gray, 0-255/.test(shown) && /digit 0/.test(shown), `the panel shows what was loaded: ${shown.replace(/\s+/g, ' ').slice(0, 160)}…`);

    const { validation } = mnist();
    let sharpest = 0;
    for (let i = 0; i < DIGITS; i++) {
      const pixels = Array.from(validation.images.subarray(i * 784, (i + 1) * 784));
      const r = await page.evaluate((px) => (window as any).modelPanel.classify(px), pixels);
      const p = await nodePosteriors(pixels);
      sharpest = Math.max(sharpest, p[argmax(p)]);
      t.ok(r.guesses[0].index === argmax(p) && maxDiff(r.probabilities, p) < TOLERANCE,
        `validation digit ${i} (label ${validation.labels[i]}): the page's top class ${r.guesses[0].name} (${r.guesses[0].probability.toFixed(4)}), Node's ${argmax(p)} (${p[argmax(p)].toFixed(4)}); ` +
        `largest posterior difference ${maxDiff(r.probabilities, p).toExponential(1)}`);
    }

    t.ok(sharpest > 0.2, `the net is trained enough for the comparison to tell (largest top posterior ${sharpest.toFixed(3)}, 0.1 for a net that guesses)`);

    // a digit drawn with the mouse: the panel's guesses are the loaded model's, for the pad's digit
    const box = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(box.x + 90, box.y + 60);
    await page.mouse.down();
    await page.mouse.move(box.x + 190, box.y + 60, { steps: 8 });
    await page.mouse.move(box.x + 120, box.y + 230, { steps: 12 }); // a "7"
    await page.mouse.up();
    await page.waitForFunction(() => document.querySelectorAll('#model-guesses li').length === 3, null, { timeout: 60_000 });
    const last = await page.evaluate(() => (window as any).modelPanel.last);
    const p = await nodePosteriors(last.pixels);
    const firstShown = await page.locator('#model-guesses li').first().innerText();
    t.ok(last.guesses[0].index === argmax(p) && maxDiff(last.probabilities, p) < TOLERANCE && firstShown.startsWith(`digit ${argmax(p)}:`),
      `the drawn digit: the page shows "${firstShown.trim()}", Node's top class ${argmax(p)} (${p[argmax(p)].toFixed(4)}); largest difference ${maxDiff(last.probabilities, p).toExponential(1)}`);

    // the file picker: the same weights with class names in the file
    await page.setInputFiles('#model-file', join(work, 'named.safetensors'));
    await page.waitForFunction(() => (window as any).modelPanel.info?.source === 'named.safetensors', null, { timeout: 60_000 });
    const picked = await page.evaluate(() => (window as any).modelPanel.info);
    t.ok(picked.classes[3] === 'three' && /metadata/.test(picked.classesFrom), `picked named.safetensors: classes ${picked.classes.slice(0, 4).join(', ')}, … (from ${picked.classesFrom})`);
    await page.waitForFunction(() => /^(zero|one|two|three|four|five|six|seven|eight|nine):/.test(document.querySelector('#model-guesses li')?.textContent ?? ''), null, { timeout: 60_000 });
    const names = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    const again = await page.locator('#model-guesses li').first().innerText();
    t.ok(again.startsWith(`${names[argmax(p)]}:`), `the pad's digit, with the picked file's names: "${again.trim()}"`);

    await page.setInputFiles('#model-file', join(work, 'broken.safetensors'));
    await page.waitForFunction(() => !(document.querySelector('#model-error') as HTMLElement).hidden, null, { timeout: 30_000 });
    const error = await page.locator('#model-error').innerText();
    t.ok(/^WeightsError: io\.loadWeightsFromBytes: broken\.safetensors/.test(error), `a truncated file is refused on the page: ${error.slice(0, 140)}`);
    await page.close();
  });

  test('[browser site] build:site --no-notebooks, on a static server without COOP/COEP: the service worker isolates the playground; the index\'s links resolve', async (t) => {
    if (!browser) return t.fail('Chromium did not start');
    const site = join(work, 'site');
    const t0 = performance.now();
    const built = await execFileAsync(process.execPath, [join(REPO_ROOT, 'scripts/build-site.mjs'), '--no-notebooks', '--out', site], { cwd: REPO_ROOT, timeout: 300_000 });
    t.pass(`build-site --no-notebooks in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${built.stdout.trim().split('\n').pop()}`);
    const headers = readFileSync(join(site, '_headers'), 'utf8');
    t.ok(/Cross-Origin-Opener-Policy: same-origin/.test(headers) && /Cross-Origin-Embedder-Policy: require-corp/.test(headers), '_headers sets COOP and COEP');
    // what GitHub Pages or `python3 -m http.server` give: no isolation headers
    const plain = await serveWeb({ roots: [site], port: 0, isolated: false });
    try {
      const head = await fetch(plain.url + 'playground/');
      t.ok(head.ok && !head.headers.has('cross-origin-embedder-policy') && !head.headers.has('cross-origin-opener-policy'), 'the static server sends no COOP/COEP');

      const page = await browser.newPage();
      watchErrors(t, page, 'the built playground');
      let loads = 0;
      page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) loads++; });
      await page.goto(`${plain.url}playground/?mode=wasm&limit=8&batch=8&autostart=0`);
      let isolated = false;
      for (const deadline = Date.now() + 60_000; Date.now() < deadline && !isolated;) {
        isolated = await page.evaluate(() => window.crossOriginIsolated).catch(() => false); // a reload may be under way
        if (!isolated) await new Promise((ok) => setTimeout(ok, 250));
      }
      t.ok(isolated, `the playground is crossOriginIsolated after the service worker's reload (${loads} navigations: the visit and its one reload)`);
      const worker = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null);
      t.ok(worker?.endsWith('/playground/coi-sw.js'), `the page is controlled by ${worker}`);
      await page.waitForFunction(() => (window as any).playground?.ready, null, { timeout: 60_000 });
      const ok = await page.evaluate(async () => (await (window as any).playground.ready) && typeof SharedArrayBuffer === 'function');
      const banner = await page.locator('#mode').innerText();
      const threads = Number(/(\d+) threads?/.exec(banner)?.[1]);
      t.ok(ok && threads >= 2 && !(await page.locator('#isolation').isVisible()), `the playground starts on wasm with SharedArrayBuffer and ${threads} threads (Web Workers), no isolation note: "${banner}"`);
      const losses = await page.evaluate(() => (window as any).playground.steps(2)) as number[];
      t.ok(losses.length === 2 && losses.every(Number.isFinite), `and trains: losses ${losses.map((l) => l.toFixed(3)).join(', ')}`);
      await page.close();

      const index = readFileSync(join(site, 'index.html'), 'utf8');
      const links = [...index.matchAll(/href="([^"#]+)"/g)].map((m) => m[1]).filter((h) => !/^[a-z]+:/.test(h));
      t.ok(links.includes('playground/') && links.includes('api/index.html'), `the index links the playground and the API reference: ${links.join(', ')}`);
      const broken: string[] = [];
      for (const link of links) if (!(await fetch(plain.url + link)).ok) broken.push(link);
      t.deepEqual(broken, [], `all ${links.length} links of the index resolve`);
    } finally {
      await plain.close();
    }
  });

  test('[browser site] Chromium and the servers stop', async (t) => {
    await browser?.close();
    await server?.close();
    node?.model.dispose();
    if (previousMode) await setBackend(previousMode as Parameters<typeof setBackend>[0]);
    rmSync(work, { recursive: true, force: true });
    t.pass('done');
  });
}
