/**
 * The benchmark page, /bench.html (`npm run web`; bundled by scripts/build-web.mjs into
 * dist/web/bench.js): every mode of ours against the tfjs backend on the same hardware
 * (webgl2 ↔ tfjs webgl, webgpu ↔ tfjs webgpu, wasm and webasm ↔ tfjs wasm), on the same
 * values: the 3×3 conv forward and backward at VGG's shapes, a VGG-A forward at 224 and the
 * CIFAR VGG-11 training step (bench-rows.ts), timed alternately (bench-timing.ts), with ms,
 * GFLOP/s, the time ratio and Δ (bench-table.ts). A mode that cannot open here gives rows
 * with its BackendError instead of numbers.
 *
 * Query parameters:
 *   ?quick=1        two conv shapes, 2 rounds, a 40 ms budget per run: the browser suite's
 *                   smoke run on SwiftShader (test/browser-bench.test.ts)
 *   ?budget=MS      the longest run a row may take before its shape is scaled down (1000)
 *   ?full=1         VGG's shapes whatever they cost (a GPU runs them at the default budget anyway)
 *   ?samples=N      timed rounds at least (5; quick 2), then rounds until MIN_TIME_MS per row
 *   ?modes=a,b      our modes to run (webgl2,webgpu,wasm,webasm)
 *   ?autostart=0    wait for the Run button
 *
 * `window.verydeepBench` holds the rows, the header and the markdown, and `finished`, a
 * promise of them.
 */
import { PAIRINGS, useOurs, useTfjs, environment } from './bench-engines.js';
import { convWorkload, vggForwardWorkload, trainWorkload, type Workload, type ConvPass } from './bench-rows.js';
import { measureRow, yieldToPage, type TimingOptions } from './bench-timing.js';
import { renderTable, markdown, type BenchRow, type BenchMeta } from './bench-table.js';
import { setBackend, type Mode } from '../../lib/core/backend.js';

const params = new URLSearchParams(location.search);
const QUICK = params.get('quick') === '1';
const number = (k: string, fallback: number) => {
  const v = Number(params.get(k));
  return params.has(k) && Number.isFinite(v) && v > 0 ? v : fallback;
};
/** VGG-16's 3×3 conv layers, Cin = Cout: one per block (bench/run.ts's CONV3_SHAPES) */
const CONV_SHAPES: [number, number][] = QUICK ? [[64, 224], [512, 14]] : [[64, 224], [128, 112], [256, 56], [512, 28], [512, 14]];
const MIN_TIME_MS = QUICK ? 0 : 1000;
const OPTIONS: TimingOptions = {
  samples: number('samples', QUICK ? 2 : 5), minTimeMs: MIN_TIME_MS, budgetMs: number('budget', QUICK ? 40 : 1000), full: params.get('full') === '1',
};
const MODES = (params.get('modes') ?? PAIRINGS.map((p) => p.ours).join(',')).split(',').map((s) => s.trim()).filter(Boolean);

const workloads: Workload[] = [
  ...(['forward', 'grad input', 'grad weight'] as ConvPass[]).flatMap((pass) => CONV_SHAPES.map(([C, S]) => convWorkload(pass, C, S))),
  vggForwardWorkload(),
  trainWorkload(),
];

interface BenchState {
  done: boolean;
  rows: BenchRow[];
  meta: BenchMeta | null;
  markdown: string;
  error: string | null;
  finished: Promise<BenchState>;
}

const $ = (id: string) => document.getElementById(id)!;
const state = { done: false, rows: [], meta: null, markdown: '', error: null } as unknown as BenchState;
(window as any).verydeepBench = state;

function status(s: string) {
  $('status').textContent = s;
}

async function run(): Promise<BenchState> {
  const started = performance.now();
  const env = await environment();
  const engines: string[] = [];
  const meta = (): BenchMeta => ({
    date: new Date().toISOString(), url: location.href, userAgent: env.userAgent, webgl: env.webgl, webgpu: env.webgpu, cores: env.cores,
    crossOriginIsolated: env.isolated, engines, seconds: (performance.now() - started) / 1000,
    settings: `${QUICK ? 'quick; ' : ''}budget ${OPTIONS.budgetMs} ms per run${OPTIONS.full ? ', VGG shapes forced (full=1)' : ''}; ≥ ${OPTIONS.samples} rounds and ≥ ${MIN_TIME_MS} ms per row`,
  });
  const pairings = PAIRINGS.filter((p) => MODES.includes(p.ours));
  const total = pairings.length * workloads.length;
  for (const pairing of pairings) {
    const ours = await useOurs(pairing.ours as Mode);
    let tfjs: Awaited<ReturnType<typeof useTfjs>> | null = null, tfjsError = '';
    try {
      tfjs = await useTfjs(pairing.tfjs);
    } catch (e) {
      tfjsError = (e as Error).message;
    }
    engines.push(`ours ${pairing.ours}: ${ours.ok ? ours.reason : ours.error}. Against ${tfjs ? tfjs.describe : tfjsError}.`);
    if (!ours.ok) {
      // one row says why the mode cannot run here, for all its workloads
      state.rows.push({
        ours: pairing.ours, tfjs: `tfjs-${pairing.tfjs}`, workload: `all ${workloads.length} workloads`, shape: '—', vggShape: '—', scaled: false, flops: 0,
        oursTiming: null, tfjsTiming: null, ratio: null, pairedRatio: null, agreement: null, bound: 0, agrees: null, oursError: ours.error,
      });
      continue;
    }
    for (const w of workloads) {
      const row: BenchRow = {
        ours: pairing.ours, tfjs: `tfjs-${pairing.tfjs}`, workload: w.label, shape: w.rungs[0].label, vggShape: w.rungs[0].label, scaled: false,
        flops: w.rungs[0].flops, oursTiming: null, tfjsTiming: null, ratio: null, pairedRatio: null, agreement: null,
        bound: w.bound(pairing.ours as Mode), agrees: null,
      };
      if (!tfjs) {
        row.oursError = 'not run: its tfjs backend could not start';
        row.tfjsNote = tfjsError;
      } else {
        const t = tfjs;
        try {
          // a fresh GPU per row: each row compiles kernels for its own shapes, and gpu.js keeps
          // them until its GPU is destroyed (webasm gives each its own WebAssembly.Memory: after
          // 16 rows on webasm, the 17th threw "WebAssembly.Memory(): could not allocate memory" here)
          if (state.rows.some((r) => r.ours === pairing.ours)) await setBackend(pairing.ours as Mode);
          const m = await measureRow(w.rungs, (r) => w.build(r, t.tf, pairing.tfjs), OPTIONS,
            (s) => status(`[${state.rows.length + 1}/${total}] ${pairing.ours} vs tfjs-${pairing.tfjs}: ${w.label} ${s}`));
          Object.assign(row, {
            shape: w.rungs[m.rung].label, scaled: m.rung > 0, flops: w.rungs[m.rung].flops, oursTiming: m.ours, tfjsTiming: m.theirs,
            ratio: m.theirs ? m.ours.medianMs / m.theirs.medianMs : null, pairedRatio: m.pairedRatio, agreement: m.agreement,
            agrees: m.agreement === null ? null : m.agreement <= row.bound, tfjsNote: m.theirsNone, failed: m.failed,
          });
        } catch (e) {
          row.oursError = `${(e as Error).name}: ${(e as Error).message}`;
        }
      }
      state.rows.push(row);
      renderTable($('results'), state.rows, null);
      await yieldToPage();
    }
  }
  state.meta = meta();
  state.markdown = markdown(state.rows, state.meta);
  renderTable($('results'), state.rows, state.meta);
  status(`done: ${state.rows.length} rows in ${state.meta.seconds.toFixed(0)} s`);
  ($('copy') as HTMLButtonElement).disabled = false;
  state.done = true;
  return state;
}

/** navigator.clipboard where the page may use it; else the markdown in a selected textarea and execCommand('copy') */
async function copyMarkdown(): Promise<void> {
  const area = $('markdown') as HTMLTextAreaElement;
  try {
    await navigator.clipboard.writeText(state.markdown);
    status('copied the table as markdown');
  } catch {
    area.hidden = false;
    area.value = state.markdown;
    area.select();
    const ok = document.execCommand('copy');
    status(ok ? 'copied the table as markdown' : 'select the markdown below and copy it');
  }
}

function start(): void {
  ($('run') as HTMLButtonElement).disabled = true;
  state.finished = run().catch((e) => {
    state.error = `${(e as Error).name}: ${(e as Error).message}`;
    status(`failed: ${state.error}`);
    state.done = true;
    return state;
  });
}

$('copy').addEventListener('click', () => void copyMarkdown());
$('run').addEventListener('click', start);
$('settings').textContent = `${QUICK ? 'quick run; ' : ''}modes ${MODES.join(', ')}; conv shapes ${CONV_SHAPES.map(([C, S]) => `${C}@${S}`).join(', ')}; ` +
  `budget ${OPTIONS.budgetMs} ms per run${OPTIONS.full ? ' (VGG shapes forced)' : ''}`;
if (params.get('autostart') !== '0') start();
else state.finished = new Promise(() => {});
