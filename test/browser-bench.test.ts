/**
 * The benchmark page in the browser suite (issue #17): /bench.html?quick=1 (examples/web/
 * bench.ts) in headless Chromium, SwiftShader standing in for a GPU, as test/browser.test.ts
 * runs the other pages. It checks that the page completes, that every row that ran agrees
 * with tfjs within its bound, that each tfjs backend (webgl, webgpu, wasm) and each of our
 * modes produced rows, and that a mode that cannot open here says why; and prints the
 * table (also to test-results/browser-bench.md). Speed is not asserted (SwiftShader's is not a
 * GPU's); the figures go to the log.
 *
 * VERYDEEP_BENCH_PAGE_QUERY sets the page's query instead of quick=1: empty for the page's
 * default settings (VGG shapes where a run fits 1 s, ~7 min here; the README's table).
 */
import test from 'tape';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serveWeb, REPO_ROOT } from '../scripts/serve-web.js';
import { CHROMIUM, CHROMIUM_FLAGS, watchErrors } from './browser.test.js';
import type { BenchRow } from '../examples/web/bench-table.js';

/** our modes and the tfjs backends the page pairs them with (examples/web/bench-engines.ts) */
const OUR_MODES = ['webgl2', 'webgpu', 'wasm', 'webasm'];
const TFJS_BACKENDS = ['tfjs-webgl', 'tfjs-webgpu', 'tfjs-wasm'];
const QUERY = process.env.VERYDEEP_BENCH_PAGE_QUERY ?? 'quick=1';

export function registerBrowserBenchTests(): void {
  const built = ['bench.js', 'tfjs-wasm/tfjs-backend-wasm-simd.wasm'].filter((f) => !existsSync(join(REPO_ROOT, 'dist/web', f)));
  const why = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : built.length ? `dist/web/ lacks ${built.join(', ')} (npm run build makes them)` : null;
  if (why) {
    // test/browser.test.ts reports the same absence (and fails it under VERYDEEP_REQUIRE_BROWSER=1)
    console.log(`# skipped: the benchmark page: ${why}`);
    return;
  }

  test(`[browser] the benchmark page (/bench.html?${QUERY}): every mode against tfjs, results in agreement`, async (t) => {
    const server = await serveWeb({ port: 0 });
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      watchErrors(t, page, 'bench.html');
      const started = Date.now();
      await page.goto(`${server.url}bench.html?${QUERY}`);
      await page.waitForFunction(() => (window as any).verydeepBench?.done, null, { timeout: QUERY.includes('quick=1') ? 240_000 : 1_800_000, polling: 1000 });
      const r = await page.evaluate(() => {
        const b = (window as any).verydeepBench;
        return { rows: b.rows, markdown: b.markdown, error: b.error, meta: b.meta };
      }) as { rows: BenchRow[]; markdown: string; error: string | null; meta: { engines: string[] } };
      t.equal(r.error, null, `the page completed in ${((Date.now() - started) / 1000).toFixed(0)} s with ${r.rows.length} rows`);
      console.log(r.markdown.split('\n').map((l) => `# ${l}`).join('\n'));
      mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
      writeFileSync(join(REPO_ROOT, 'test-results/browser-bench.md'), r.markdown);

      const ran = r.rows.filter((row) => row.oursTiming);
      for (const row of ran.filter((x) => x.agreement !== null)) {
        t.ok(row.agrees, `${row.ours} vs ${row.tfjs}, ${row.workload} ${row.shape}: Δ ${row.agreement!.toExponential(1)} (bound ${row.bound})`);
      }
      for (const mode of OUR_MODES) {
        const rows = r.rows.filter((row) => row.ours === mode);
        const measured = rows.filter((row) => row.oursTiming);
        const failed = rows.filter((row) => row.oursError);
        t.ok(rows.length > 0 && (measured.length > 0 || failed.every((row) => /Error: /.test(row.oursError!))),
          `${mode}: ${measured.length} rows measured` + (failed.length ? `, ${failed.length} say why not: ${failed[0].oursError}` : ''));
      }
      // the modes that open in headless Chromium here (SwiftShader for the GPU ones) must have run every row
      for (const mode of ['webgl2', 'webgpu', 'wasm', 'webasm']) {
        const failed = r.rows.filter((row) => row.ours === mode && !row.oursTiming);
        t.equal(failed.length, 0, `${mode} ran every row here${failed.length ? `; not: ${failed.map((row) => `${row.workload} (${row.oursError})`).join('; ')}` : ''}`);
      }
      for (const backend of TFJS_BACKENDS) {
        const timed = r.rows.filter((row) => row.tfjs === backend && row.tfjsTiming);
        t.ok(timed.length > 0, `${backend}: ${timed.length} rows timed`);
      }
      t.ok(/\| ours \| vs tfjs \|/.test(r.markdown) && /webgl2 conv 3×3 forward ÷ tfjs-webgl/.test(r.markdown), 'the markdown has the table and the webgl2 ÷ tfjs-webgl line');
      await page.close();
    } finally {
      await browser.close();
      await server.close();
    }
  });
}
